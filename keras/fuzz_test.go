package keras

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzDecode feeds Decode mutated model configs. It must never panic, and a
// config it accepts must give a consistent graph.
func FuzzDecode(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join(modelsDir, "*", "*.h5"))
	keras, _ := filepath.Glob(filepath.Join(modelsDir, "*", "*.keras"))
	// tf.keras's TF-op layers: every node form TFOpLambda writes.
	tfk, _ := filepath.Glob(filepath.Join(tfkDir, "tfops_*", "*"))
	for _, p := range append(append(paths, keras...), tfk...) {
		if strings.HasSuffix(p, ".npy") || strings.HasSuffix(p, ".txt") {
			continue
		}
		kf, err := Open(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(kf.Config)
		kf.Close()
	}
	f.Add([]byte(`{"class_name": "Sequential", "config": [{"class_name": "Dense", "config": {"name": "d", "output_dim": 2, "input_dim": 3}}]}`))
	f.Add([]byte(`{"class_name": "Functional", "config": {"name": "m", "layers": [], "input_layers": [], "output_layers": []}}`))
	f.Fuzz(func(t *testing.T, config []byte) {
		m, err := Decode(config)
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, l := range m.Layers {
			if seen[l.Name] {
				t.Fatalf("two layers named %q", l.Name)
			}
			seen[l.Name] = true
			if l.Built && l.Params() < 0 {
				t.Fatalf("layer %q: negative parameter count", l.Name)
			}
			for _, n := range l.Nodes {
				for _, in := range n.Inputs {
					if in.Node >= len(in.Layer.Nodes) {
						t.Fatalf("layer %q: input names a missing call", l.Name)
					}
				}
			}
		}
		// Load's estimate of the work per sample (parallel.go) reads the
		// same shapes: whatever they say, it neither panics nor wraps.
		net := &Net{order: make(map[*Model][]*Node), release: make(map[*Model][][]*Node)}
		if net.schedule(m) == nil {
			if macs := net.perSampleMACs(m); macs < 0 {
				t.Fatalf("perSampleMACs = %d", macs)
			}
		}
	})
}

// A model whose input or output names a layer it never calls is a format
// error (FuzzDecode found that Load indexed past the layer's calls).
func TestDecodeUncalledInputOutput(t *testing.T) {
	for _, c := range []string{
		`{"class_name":"Functional","config":{"name":"m","layers":[{"class_name":"InputLayer","name":"in","config":{"batch_shape":[null,3],"name":"in"},"inbound_nodes":[]},{"class_name":"Dense","name":"d","config":{"name":"d","units":2},"inbound_nodes":[]}],"input_layers":[["in",0,0]],"output_layers":[["d",0,0]]}}`,
		`{"class_name":"Model","config":{"name":"m","layers":[{"class_name":"InputLayer","name":"in","config":{"batch_input_shape":[null,3],"name":"in"},"inbound_nodes":[]},{"class_name":"Dense","name":"d","config":{"name":"d","units":2},"inbound_nodes":[[["in",0,0,{}]]]}],"input_layers":[["in",0,0]],"output_layers":[["d",3,0]]}}`,
	} {
		_, err := Decode([]byte(c))
		var fe *FormatError
		if !errors.As(err, &fe) || !strings.Contains(err.Error(), `output_layers: layer "d" has no call`) {
			t.Errorf("Decode: got %v, want a format error about d's missing call", err)
		}
	}
}
