package keras

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

const keras1Dir = "../testdata/keras1"

// TestKeras1Layouts reads the files testdata/gen/gen_keras1.py wrote in
// Keras 1's weight layouts (recurrent weights per gate, Theano-ordered and
// Deconvolution2D kernels, Convolution1D's unit axis): each weight must be
// bit for bit what tf_keras's own legacy loader makes of the same stored
// tensors, the check must find nothing, and the prediction must be
// tf_keras's.
func TestKeras1Layouts(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(keras1Dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]struct {
		File    string              `json:"file"`
		Input   string              `json:"input"`
		Output  string              `json:"output"`
		Weights map[string][]string `json:"weights"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		e := m[name]
		t.Run(name, func(t *testing.T) {
			f, err := Open(filepath.Join(keras1Dir, e.File))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			binding, err := f.Binding()
			if err != nil {
				t.Fatal(err)
			}
			for _, fd := range binding.Findings {
				t.Errorf("finding: %v", fd)
			}
			read := 0
			for _, bd := range binding.Layers {
				want := e.Weights[bd.Layer.Name]
				if len(bd.Weights) != len(want) {
					t.Errorf("layer %s: %d weights bound, tf_keras loads %d", bd.Layer.Name, len(bd.Weights), len(want))
					continue
				}
				for i, w := range bd.Weights {
					got, err := w.Read(f.Store)
					if err != nil {
						t.Fatalf("layer %s: %s: %v", bd.Layer.Name, w.Name, err)
					}
					x := readNPYFile(t, filepath.Join(keras1Dir, want[i]))
					if !Shape(x.Shape).Equal(w.Want.Shape) || !sameBits(got, x.Data) {
						t.Errorf("layer %s: %s: not the weight tf_keras loads (%s, shape %v, want %v)", bd.Layer.Name, w.Name, want[i], w.Want.Shape, x.Shape)
					}
					read++
				}
			}
			if read == 0 {
				t.Fatal("no weight read")
			}
			net, err := NewNet(f)
			if err != nil {
				t.Fatal(err)
			}
			out, err := net.Predict(readNPYFile(t, filepath.Join(keras1Dir, e.Input)))
			if err != nil {
				t.Fatal(err)
			}
			want := readNPYFile(t, filepath.Join(keras1Dir, e.Output))
			if !Shape(out[0].Shape).Equal(want.Shape) {
				t.Fatalf("output shape %v, tf_keras %v", out[0].Shape, want.Shape)
			}
			if maxAbs, maxRel, bad := errorStats(out[0].Data, want.Data); bad > 0 {
				t.Errorf("%d outputs differ from tf_keras's (max abs %.3g, rel %.3g)", bad, maxAbs, maxRel)
			}
		})
	}
}
