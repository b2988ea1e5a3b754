package check_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/kerascope/kerascope/keras"
	"github.com/kerascope/kerascope/keras/check"
)

const (
	badDir    = "../../testdata/bad"
	modelsDir = "../../testdata/models"
)

// expectedProblem is a problem testdata/bad/expected.json says a malformed
// file has; the generator (testdata/gen/gen_malformed.py) made each file
// by breaking a file real Keras wrote in that one way.
type expectedProblem struct {
	Severity string   `json:"severity"`
	Kind     string   `json:"kind"`
	AnyKind  []string `json:"any_kind"`
	Layer    string   `json:"layer"`
	Weight   string   `json:"weight"`
	Index    string   `json:"index"`
}

func (e expectedProblem) matches(p check.Problem) bool {
	if p.Severity.String() != e.Severity || p.Layer != e.Layer {
		return false
	}
	if p.Kind != e.Kind && !slices.Contains(e.AnyKind, p.Kind) {
		return false
	}
	if e.Weight != "" && p.Weight != e.Weight && !strings.HasSuffix(p.Weight, "/"+e.Weight) {
		return false
	}
	return e.Index == "" || strings.Contains(p.Msg, "index "+e.Index)
}

// TestRunBadFiles checks every malformed file that opens and requires each
// problem it was made with, and no other error.
func TestRunBadFiles(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(badDir, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Files map[string]struct {
			Error    string            `json:"error"`
			Problems []expectedProblem `json:"problems"`
		} `json:"files"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(doc.Files))
	for n := range doc.Files {
		names = append(names, n)
	}
	sort.Strings(names)
	checked := 0
	for _, name := range names {
		exp := doc.Files[name]
		if exp.Error != "" {
			continue // the file does not open: nothing to check
		}
		t.Run(name, func(t *testing.T) {
			f, err := keras.Open(filepath.Join(badDir, name))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			r, err := check.Run(f, check.Options{})
			if err != nil {
				t.Fatal(err)
			}
			checked++
			for _, e := range exp.Problems {
				if !slices.ContainsFunc(r.Problems, e.matches) {
					t.Errorf("missing the problem %s %s of layer %q weight %q", e.Severity, e.Kind, e.Layer, e.Weight)
				}
			}
			for _, p := range r.Problems {
				if p.Severity == check.SeverityError && !slices.ContainsFunc(exp.Problems, func(e expectedProblem) bool { return e.matches(p) }) {
					t.Errorf("unexpected problem %s: %v", p.Kind, p)
				}
			}
			if r.Failed(false) != slices.ContainsFunc(exp.Problems, func(e expectedProblem) bool { return e.Severity == "error" }) {
				t.Errorf("Failed() = %v with problems %v", r.Failed(false), r.Problems)
			}
		})
	}
	if checked == 0 {
		t.Fatal("no malformed file opened")
	}
}

// TestRunFixtures checks every fixture file real Keras wrote: none has an
// error.
func TestRunFixtures(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join(modelsDir, "*", "*.*"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, p := range paths {
		if ext := filepath.Ext(p); ext != ".keras" && ext != ".h5" {
			continue
		}
		n++
		t.Run(strings.TrimPrefix(p, modelsDir+"/"), func(t *testing.T) {
			f, err := keras.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			r, err := check.Run(f, check.Options{SkipValues: true})
			if err != nil {
				t.Fatal(err)
			}
			for _, pr := range r.Problems {
				if pr.Severity == check.SeverityError {
					t.Errorf("%s: %v", pr.Kind, pr)
				}
			}
		})
	}
	if n == 0 {
		t.Fatal("no fixture files")
	}
}
