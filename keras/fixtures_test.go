package keras

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

const modelsDir = "../testdata/models"

// manifest is the part of testdata/models/manifest.json the tests read:
// what Keras itself reported for each fixture file.
type manifest struct {
	Models map[string]struct {
		Files map[string]struct {
			SHA256       string `json:"sha256"`
			KerasVersion string `json:"keras_version"`
			Loaders      map[string]struct {
				ModelName        string `json:"model_name"`
				ModelClass       string `json:"model_class"`
				TrainableParams  *int64 `json:"trainable_params"`
				NonTrainable     *int64 `json:"non_trainable_params"`
				Layers           []manifestLayer
				SummaryLayerName []string `json:"summary_layer_names"`
			} `json:"loaders"`
		} `json:"files"`
	} `json:"models"`
}

type manifestLayer struct {
	Name        string `json:"name"`
	ClassName   string `json:"class_name"`
	OutputShape any    `json:"output_shape"` // a shape, or a list of shapes
	// NodeOutputShapes has the output shapes of every call: for Keras 3 a
	// list of shapes per call, for tf-keras a shape or a list of shapes.
	NodeOutputShapes []any `json:"node_output_shapes"`
	InboundNodes     *int  `json:"inbound_nodes"` // the number of calls
	Params           int64 `json:"params"`
	Built            bool  `json:"built"`
}

func readManifest(t *testing.T) manifest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(modelsDir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Models) == 0 {
		t.Fatal("manifest lists no models")
	}
	return m
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// TestFixturesMatchManifest checks that the committed fixture files are the
// ones the generator wrote.
func TestFixturesMatchManifest(t *testing.T) {
	m := readManifest(t)
	for _, name := range sortedKeys(m.Models) {
		for _, file := range sortedKeys(m.Models[name].Files) {
			b, err := os.ReadFile(filepath.Join(modelsDir, name, file))
			if err != nil {
				t.Error(err)
				continue
			}
			sum := sha256.Sum256(b)
			if got, want := hex.EncodeToString(sum[:]), m.Models[name].Files[file].SHA256; got != want {
				t.Errorf("%s/%s: sha256 %s, manifest says %s", name, file, got, want)
			}
		}
	}
}

// TestDecodeMatchesKeras opens every fixture file and compares each
// layer's class, output shape and parameter count, and the model's totals,
// with what Keras reported after loading the same file.
func TestDecodeMatchesKeras(t *testing.T) {
	m := readManifest(t)
	for _, name := range sortedKeys(m.Models) {
		for _, file := range sortedKeys(m.Models[name].Files) {
			fm := m.Models[name].Files[file]
			for _, loader := range sortedKeys(fm.Loaders) {
				want := fm.Loaders[loader]
				if want.Layers == nil {
					continue // this Keras could not load the file
				}
				t.Run(name+"/"+file+"/"+loader, func(t *testing.T) {
					f, err := Open(filepath.Join(modelsDir, name, file))
					if err != nil {
						t.Fatal(err)
					}
					defer f.Close()
					if f.KerasVersion != fm.KerasVersion {
						t.Errorf("keras version %q, want %q", f.KerasVersion, fm.KerasVersion)
					}
					got := f.Model
					if got.Name != want.ModelName || got.Class != want.ModelClass {
						t.Errorf("model %q (%s), want %q (%s)", got.Name, got.Class, want.ModelName, want.ModelClass)
					}
					// The manifest lists model.layers, which leaves out
					// Keras 3's bare operations.
					var layers []*Layer
					for _, l := range got.Layers {
						if !l.Op {
							layers = append(layers, l)
						}
					}
					if len(layers) != len(want.Layers) {
						t.Fatalf("%d layers, want %d", len(layers), len(want.Layers))
					}
					var trainable, nonTrainable int64
					for i, wl := range want.Layers {
						gl := layers[i]
						if gl.Name != wl.Name || gl.Class != wl.ClassName {
							t.Errorf("layer %d: %q (%s), want %q (%s)", i, gl.Name, gl.Class, wl.Name, wl.ClassName)
						}
						// Keras 3's Sequential calls its layers once per layer
						// added, so its node lists say nothing about the file.
						if wl.NodeOutputShapes != nil && want.ModelClass != "Sequential" {
							if len(gl.Nodes) != len(wl.NodeOutputShapes) {
								t.Errorf("layer %q: %d calls, want %d", gl.Name, len(gl.Nodes), len(wl.NodeOutputShapes))
							}
							for j := 0; j < len(gl.Nodes) && j < len(wl.NodeOutputShapes); j++ {
								if g, w := nodeShapesJSON(gl.Nodes[j].Outputs), canonicalNodeShapes(t, wl.NodeOutputShapes[j]); g != w {
									t.Errorf("layer %q call %d: output shapes %s, want %s", gl.Name, j, g, w)
								}
							}
						} else if wl.OutputShape == "multiple" {
							// tf-keras: calls with different output shapes.
							if len(gl.Nodes) < 2 || nodeShapesJSON(gl.Nodes[0].Outputs) == nodeShapesJSON(gl.Nodes[1].Outputs) {
								t.Errorf("layer %q: want calls of different output shapes", gl.Name)
							}
						} else if len(gl.Nodes) == 0 {
							t.Errorf("layer %q: never called, want output shape %v", gl.Name, wl.OutputShape)
						} else if g, w := nodeShapesJSON(gl.Nodes[0].Outputs), canonicalNodeShapes(t, wl.OutputShape); g != w {
							// Keras's layer.output is the first call's.
							t.Errorf("layer %q: output shape %s, want %s", gl.Name, g, w)
						}
						if wl.InboundNodes != nil && want.ModelClass != "Sequential" && len(gl.Nodes) != *wl.InboundNodes {
							t.Errorf("layer %q: %d calls, want %d", gl.Name, len(gl.Nodes), *wl.InboundNodes)
						}
						if gl.Built != wl.Built || gl.Params() != wl.Params {
							t.Errorf("layer %q: built %v params %d, want built %v params %d", gl.Name, gl.Built, gl.Params(), wl.Built, wl.Params)
						}
						for _, w := range gl.Weights {
							n, _ := w.Shape.Size()
							if w.Trainable && gl.Trainable {
								trainable += n
							} else {
								nonTrainable += n
							}
						}
					}
					if want.TrainableParams != nil && trainable != *want.TrainableParams {
						t.Errorf("trainable params %d, want %d", trainable, *want.TrainableParams)
					}
					if want.NonTrainable != nil && nonTrainable != *want.NonTrainable {
						t.Errorf("non-trainable params %d, want %d", nonTrainable, *want.NonTrainable)
					}
				})
			}
		}
	}
}

// nodeShapesJSON renders one call's output shapes as a list of shapes.
func nodeShapesJSON(shapes []Shape) string {
	all := make([]any, len(shapes))
	for i, s := range shapes {
		d := make([]any, len(s))
		for j, v := range s {
			if v != None {
				d[j] = v
			}
		}
		all[i] = d
	}
	b, _ := json.Marshal(all)
	return string(b)
}

// canonicalNodeShapes turns a manifest call entry into a flat list of
// shapes: tf-keras records a single output's shape bare, and nests the
// states of stacked RNN cells.
func canonicalNodeShapes(t *testing.T, v any) string {
	var flat []any
	var walk func(v any)
	walk = func(v any) {
		list, ok := v.([]any)
		if !ok {
			return
		}
		if len(list) == 0 || !isList(list[0]) {
			flat = append(flat, list) // a shape
			return
		}
		for _, e := range list {
			walk(e)
		}
	}
	walk(v)
	return canonicalJSON(t, flat)
}

func isList(v any) bool {
	_, ok := v.([]any)
	return ok
}

func canonicalJSON(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
