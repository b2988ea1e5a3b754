package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// corpusDir holds Keras files other people saved (see its README). It sits
// beside the checkout; a user's clone does not have it.
const corpusDir = "../../../shared/corpus"

type corpusEntry struct {
	// Dir is where the file is, under corpusDir: "files", or
	// "incoming/files" for the kinds incoming/README.md describes.
	Dir             string   `json:"-"`
	File            string   `json:"file"`
	Format          string   `json:"format"`
	NWeightElements *int64   `json:"n_weight_elements"`
	KerasVersion    string   `json:"keras_version"`
	Notes           string   `json:"notes"`
	CustomClasses   []string `json:"custom_classes"`
	LambdaLayers    []any    `json:"lambda_layers"`
}

func readCorpus(t *testing.T) []corpusEntry {
	t.Helper()
	entries := readCorpusManifest(t, "manifest.jsonl", "files", true)
	return append(entries, readCorpusManifest(t, "incoming/manifest.jsonl", "incoming/files", false)...)
}

// readCorpusManifest reads one corpus manifest; a missing main corpus skips the
// test, a missing incoming set adds nothing.
func readCorpusManifest(t *testing.T, name, dir string, main bool) []corpusEntry {
	t.Helper()
	f, err := os.Open(filepath.Join(corpusDir, name))
	if errors.Is(err, os.ErrNotExist) {
		if !main {
			t.Logf("no %s in the corpus", name)
			return nil
		}
		t.Skipf("no real-file corpus at %s (it is not part of the repository)", corpusDir)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var entries []corpusEntry
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		e := corpusEntry{Dir: dir}
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatal(err)
		}
		entries = append(entries, e)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return entries
}

// forEachCorpusFile runs test on every corpus file as a subtest and logs
// how many passed.
func forEachCorpusFile(t *testing.T, test func(t *testing.T, e corpusEntry, path string)) {
	t.Helper()
	entries := readCorpus(t)
	passed := 0
	for _, e := range entries {
		if t.Run(e.File, func(t *testing.T) { test(t, e, filepath.Join(corpusDir, e.Dir, e.File)) }) {
			passed++
		}
	}
	t.Logf("corpus: %d of %d files get the outcome the corpus README describes", passed, len(entries))
}

// TestCorpusCLI runs the commands a user would on every real-world file
// and checks the outcome the corpus README describes: full models
// summarize; weights-only files say they hold no architecture, and their
// weights list in full; files that are not Keras models exit with 3.
func TestCorpusCLI(t *testing.T) {
	forEachCorpusFile(t, func(t *testing.T, e corpusEntry, path string) {
		var out, errb bytes.Buffer
		code := run([]string{"summary", path}, &out, &errb)
		switch {
		case strings.Contains(e.Notes, "DUPLICATE zip member"):
			if code != exitNotKeras || !strings.Contains(errb.String(), "two members named") {
				t.Errorf("summary: exit %d, stderr %q; want exit 3 refusing the duplicate members", code, errb.String())
			}
		case e.Format == "h5-full" || e.Format == "keras-zip":
			if code != exitOK || out.Len() == 0 {
				t.Errorf("summary: exit %d, stderr %q", code, errb.String())
			}
			checkCorpusWeightNames(t, e, path)
			// The incoming kinds (tf.keras 2.13-2.15 archives, TF ops)
			// check clean: every weight bound where its saver put it.
			if e.Dir != "files" {
				var cout, cerr bytes.Buffer
				if code := run([]string{"check", path}, &cout, &cerr); code != exitOK || !strings.Contains(cout.String(), "ok: 0 errors") {
					t.Errorf("check: exit %d, stdout %q, stderr %q", code, cout.String(), cerr.String())
				}
			}
		case e.Format == "h5-weights-only":
			if code != exitError || !strings.Contains(errb.String(), "weights only") {
				t.Errorf("summary: exit %d, stderr %q; want exit 1 saying the file holds weights only", code, errb.String())
			}
			corpusWeights(t, e, path)
		case e.Format == "other":
			if code != exitNotKeras {
				t.Errorf("summary: exit %d, stderr %q; want %d", code, errb.String(), exitNotKeras)
			}
		}
		if strings.Count(errb.String(), "\n") > 1 {
			t.Errorf("stderr has more than one line: %q", errb.String())
		}
	})
}

// corpusWeights lists a file's weights as JSON and requires the listing to
// hold every element the file stores.
func corpusWeights(t *testing.T, e corpusEntry, path string) weightsDoc {
	t.Helper()
	var out, errb bytes.Buffer
	if code := run([]string{"weights", "--json", path}, &out, &errb); code != exitOK {
		t.Fatalf("weights: exit %d, stderr %q", code, errb.String())
	}
	var d weightsDoc
	if err := json.Unmarshal(out.Bytes(), &d); err != nil {
		t.Fatal(err)
	}
	if e.NWeightElements != nil && d.Elements != *e.NWeightElements {
		t.Errorf("weights: %d elements, want %d", d.Elements, *e.NWeightElements)
	}
	return d
}

// checkCorpusWeightNames lists a full model's weights and requires every
// stored tensor to be bound to a weight of its layer, so that it is listed
// under the Keras name of that weight, Keras 1's layouts included.
func checkCorpusWeightNames(t *testing.T, e corpusEntry, path string) {
	t.Helper()
	for _, l := range corpusWeights(t, e, path).Layers {
		for _, w := range l.Tensors {
			if l.Class == "" || w.Trainable == nil {
				t.Errorf("weights: layer %q (%s): tensor %s is bound to no weight of a layer (listed as %q)", l.Name, l.Class, w.Path, w.Name)
			}
		}
	}
}
