package main

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckFixtures checks every file real Keras wrote: each must pass.
func TestCheckFixtures(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(modelsDir, "*", "*.h5"))
	keras, _ := filepath.Glob(filepath.Join(modelsDir, "*", "*.keras"))
	for _, path := range append(files, keras...) {
		t.Run(filepath.Base(filepath.Dir(path))+"/"+filepath.Base(path), func(t *testing.T) {
			var out, errb bytes.Buffer
			if code := run([]string{"check", "--strict", "--json", path}, &out, &errb); code != exitOK {
				t.Errorf("exit %d\n%s%s", code, out.String(), errb.String())
			}
		})
	}
}

// TestCheckCorpus runs check over the real-world corpus: files of built-in
// classes pass; Lambda layers are reported as carrying code, custom classes
// as unknown, and nothing is run; weights-only files and the evil archive
// fail; files that are not Keras models exit with 3.
func TestCheckCorpus(t *testing.T) {
	forEachCorpusFile(t, func(t *testing.T, e corpusEntry, path string) {
		var out, errb bytes.Buffer
		code := run([]string{"check", "--json", path}, &out, &errb)
		switch {
		case strings.Contains(e.Notes, "DUPLICATE zip member"):
			if code != exitNotKeras || !strings.Contains(errb.String(), "two members named") {
				t.Errorf("exit %d, stderr %q; want the duplicate members refused", code, errb.String())
			}
		case e.Format == "other":
			if code != exitNotKeras {
				t.Errorf("exit %d, stderr %q; want %d", code, errb.String(), exitNotKeras)
			}
		case e.Format == "h5-weights-only":
			if code != exitError || !strings.Contains(errb.String(), "weights only") {
				t.Errorf("exit %d, stderr %q; want a refusal saying weights only", code, errb.String())
			}
		default:
			var d checkDoc
			if err := json.Unmarshal(out.Bytes(), &d); err != nil {
				t.Fatalf("exit %d: %v\n%s", code, err, errb.String())
			}
			if code != exitOK || !d.OK {
				t.Errorf("exit %d: %+v", code, d.Problems)
			}
			kinds := map[string]int{}
			for _, p := range d.Problems {
				kinds[p.Kind]++
			}
			if n := len(e.LambdaLayers); kinds["lambda"] != n {
				t.Errorf("%d Lambda layers reported, the corpus manifest lists %d", kinds["lambda"], n)
			}
			if len(e.CustomClasses) > 0 && kinds["unknown-class"] == 0 {
				t.Errorf("custom classes %v not reported", e.CustomClasses)
			}
		}
	})
}
