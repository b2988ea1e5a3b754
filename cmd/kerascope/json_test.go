package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kerascope/kerascope/summary"
)

var update = flag.Bool("update", false, "rewrite the golden files of kerascope's own outputs")

// checkGolden compares got with the golden file, after rewriting the file
// with got when -update is set. It returns a description of the difference,
// or "" when they are equal.
func checkGolden(t *testing.T, golden, got string) string {
	t.Helper()
	if *update {
		os.MkdirAll(filepath.Dir(golden), 0o755)
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		return fmt.Sprintf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		return fmt.Sprintf("output differs from %s (go test -update rewrites it)\n--- got\n%s--- want\n%s", golden, got, want)
	}
	return ""
}

// TestSummaryJSON checks `summary --json` of every fixture file against its
// golden file (regenerate with go test -update), and its totals against
// the counts Keras reported in the fixture manifest.
func TestSummaryJSON(t *testing.T) {
	man := readManifest(t)
	files, _ := filepath.Glob(filepath.Join(modelsDir, "*", "*.h5"))
	keras, _ := filepath.Glob(filepath.Join(modelsDir, "*", "*.keras"))
	for _, path := range append(files, keras...) {
		model, file := filepath.Base(filepath.Dir(path)), filepath.Base(path)
		if strings.HasPrefix(model, "big_") {
			continue // the summary tests cover it; its JSON would be megabytes
		}
		t.Run(model+"/"+file, func(t *testing.T) {
			var out, errb bytes.Buffer
			rel := filepath.ToSlash(filepath.Join("testdata/models", model, file))
			// Run from the module root's point of view so the golden
			// file records a stable path.
			if code := run([]string{"summary", "--json", path}, &out, &errb); code != 0 {
				t.Fatalf("exit %d: %s", code, errb.String())
			}
			got := strings.ReplaceAll(out.String(), path, rel)
			if diff := checkGolden(t, filepath.Join("testdata", "golden", model, file+".summary.json"), got); diff != "" {
				t.Error(diff)
			}
			var d summary.Document
			if err := json.Unmarshal(out.Bytes(), &d); err != nil {
				t.Fatal(err)
			}
			for loader, l := range man.Models[model].Files[file].Loaders {
				if l.TrainableParams == nil || l.NonTrainableParams == nil {
					continue
				}
				if d.Params.Trainable != *l.TrainableParams || d.Params.NonTrainable != *l.NonTrainableParams {
					t.Errorf("params trainable %d non-trainable %d, %s reported %d and %d",
						d.Params.Trainable, d.Params.NonTrainable, loader, *l.TrainableParams, *l.NonTrainableParams)
				}
			}
		})
	}
}

// fixtureManifest is what the CLI tests read of testdata/models/manifest.json.
type fixtureManifest struct {
	Models map[string]struct {
		Files map[string]struct {
			Loaders map[string]struct {
				TrainableParams    *int64   `json:"trainable_params"`
				NonTrainableParams *int64   `json:"non_trainable_params"`
				SummaryLayerNames  []string `json:"summary_layer_names"`
				Layers             []struct {
					Name    string `json:"name"`
					Weights []struct {
						Path      string `json:"path"`
						Shape     []int  `json:"shape"`
						Trainable bool   `json:"trainable"`
					} `json:"weights"`
				} `json:"layers"`
			} `json:"loaders"`
		} `json:"files"`
	} `json:"models"`
}

func readManifest(t *testing.T) fixtureManifest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(modelsDir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m fixtureManifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}
