package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"sort"
	"testing"
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
					if !isFloat(got.DType) {
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
