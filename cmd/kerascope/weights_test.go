package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/kerascope/kerascope/keras/bind"
)

// numpyStats is what testdata/gen/gen_stats.py computed with numpy for one
// stored dataset.
type numpyStats struct {
	Shape    []int    `json:"shape"`
	Elements int64    `json:"elements"`
	Min      *float64 `json:"min"`
	Max      *float64 `json:"max"`
	Mean     *float64 `json:"mean"`
	Std      *float64 `json:"std"`
	NaN      int      `json:"nan"`
	Inf      int      `json:"inf"`
}

// TestWeightsMatchNumpy lists the weights of every fixture file and
// compares each tensor's shape, count and statistics with numpy's.
func TestWeightsMatchNumpy(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(modelsDir, "weight_stats.json"))
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]map[string]numpyStats
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	for _, file := range sortedMapKeys(want) {
		t.Run(file, func(t *testing.T) {
			var out, errb bytes.Buffer
			if code := run([]string{"weights", "--json", filepath.Join(modelsDir, file)}, &out, &errb); code != 0 {
				t.Fatalf("exit %d: %s", code, errb.String())
			}
			var d weightsDoc
			if err := json.Unmarshal(out.Bytes(), &d); err != nil {
				t.Fatal(err)
			}
			seen := 0
			for _, l := range d.Layers {
				for _, got := range l.Tensors {
					if !bind.IsFloat(got.DType) {
						continue // Normalization's int64 count: listed without statistics
					}
					w, ok := want[file][got.Path]
					if !ok {
						t.Errorf("%s: listed, but numpy found no such float dataset", got.Path)
						continue
					}
					seen++
					if got.Elements != w.Elements || len(got.Shape) != len(w.Shape) {
						t.Errorf("%s: %d elements of shape %v, want %d of %v", got.Path, got.Elements, got.Shape, w.Elements, w.Shape)
					}
					if got.NaN != w.NaN || got.Inf != w.Inf {
						t.Errorf("%s: %d NaN %d Inf, want %d and %d", got.Path, got.NaN, got.Inf, w.NaN, w.Inf)
					}
					for _, c := range []struct {
						name      string
						got, want *float64
					}{{"min", got.Min, w.Min}, {"max", got.Max, w.Max}, {"mean", got.Mean, w.Mean}, {"std", got.Std, w.Std}} {
						if (c.got == nil) != (c.want == nil) {
							t.Errorf("%s: %s present %v, want %v", got.Path, c.name, c.got != nil, c.want != nil)
							continue
						}
						// Both sum float32 values in float64; only the order differs.
						if c.got != nil && math.Abs(*c.got-*c.want) > 1e-9+1e-9*math.Abs(*c.want) {
							t.Errorf("%s: %s %v, numpy %v", got.Path, c.name, *c.got, *c.want)
						}
					}
				}
			}
			if seen != len(want[file]) {
				t.Errorf("listed %d float tensors, numpy found %d", seen, len(want[file]))
			}
		})
	}
}

func sortedMapKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// TestWeightsKerasNames lists the weights of every fixture file and checks
// each layer's tensors against the weights Keras itself reported for that
// layer (layer.weights of the Keras that wrote the file): as many, each
// tensor named as Keras names the weight, with its shape and trainable
// flag.
func TestWeightsKerasNames(t *testing.T) {
	m := readManifest(t)
	for _, model := range sortedMapKeys(m.Models) {
		for _, file := range sortedMapKeys(m.Models[model].Files) {
			loader := strings.SplitN(file, ".", 2)[0] // k3.keras, k3.h5: k3; tfk.h5: tfk
			keras, ok := m.Models[model].Files[file].Loaders[loader]
			if !ok || keras.Layers == nil {
				continue // the writer could not reload its own file: no truth to compare with
			}
			path := filepath.Join(model, file)
			t.Run(path, func(t *testing.T) {
				var out, errb bytes.Buffer
				if code := run([]string{"weights", "--json", filepath.Join(modelsDir, path)}, &out, &errb); code != 0 {
					t.Fatalf("exit %d: %s", code, errb.String())
				}
				var d weightsDoc
				if err := json.Unmarshal(out.Bytes(), &d); err != nil {
					t.Fatal(err)
				}
				listed := make(map[string][]weightsTensor)
				for _, l := range d.Layers {
					listed[l.Name] = append(listed[l.Name], l.Tensors...)
				}
				for _, kl := range keras.Layers {
					got := listed[kl.Name]
					if len(got) != len(kl.Weights) {
						t.Errorf("layer %s: %d tensors listed, Keras has %d weights", kl.Name, len(got), len(kl.Weights))
						continue
					}
					used := make([]bool, len(kl.Weights))
				tensors:
					for _, g := range got {
						for i, w := range kl.Weights {
							kname := strings.TrimSuffix(w.Path, ":0")
							if used[i] || !slices.Equal(g.Shape, w.Shape) ||
								!(kname == g.Name || strings.HasSuffix(kname, "/"+g.Name) || strings.HasSuffix(g.Name, "/"+kname)) {
								continue
							}
							// Keras 3 variables are trainable as their layer
							// counts them; tf-keras's keep True in a frozen
							// layer, so only Keras 3's flags are the truth.
							if g.Trainable == nil {
								t.Errorf("layer %s: %s: no trainable flag", kl.Name, g.Name)
							} else if loader == "k3" && *g.Trainable != w.Trainable {
								t.Errorf("layer %s: %s: trainable %v, Keras %v", kl.Name, g.Name, *g.Trainable, w.Trainable)
							}
							used[i] = true
							continue tensors
						}
						t.Errorf("layer %s: tensor %q %v (%s) is none of Keras's weights %v", kl.Name, g.Name, g.Shape, g.Path, kl.Weights)
					}
				}
			})
		}
	}
}
