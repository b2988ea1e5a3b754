package keras

import (
	"bufio"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// corpusDir holds Keras files other people saved (see its README). It sits
// beside the checkout, and a user's clone does not have it.
const corpusDir = "../../shared/corpus"

type corpusEntry struct {
	// Dir is where the file is, under corpusDir: "files", or
	// "incoming/files" for the kinds incoming/README.md describes.
	Dir             string   `json:"-"`
	File            string   `json:"file"`
	Format          string   `json:"format"`
	KerasVersion    string   `json:"keras_version"`
	LayerClasses    []string `json:"layer_classes"`
	NWeightElements *int64   `json:"n_weight_elements"`
	CustomClasses   []string `json:"custom_classes"`
	LambdaLayers    []any    `json:"lambda_layers"`
	Notes           string   `json:"notes"`
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

// totalParams is what Keras's summary reports as Total params without the
// optimizer: every weight of every layer.
func totalParams(m *Model) int64 {
	var n int64
	for _, l := range m.Layers {
		n += l.Params()
	}
	return n
}

// TestCorpus opens every real-world file: full models must decode and
// their parameter total must equal the number of weight elements stored in
// the file; weights-only files must say so; other files must be refused
// as not Keras.
func TestCorpus(t *testing.T) {
	entries := readCorpus(t)
	passed := 0
	for _, e := range entries {
		ok := t.Run(e.File, func(t *testing.T) {
			f, err := Open(filepath.Join(corpusDir, e.Dir, e.File))
			if f != nil {
				defer f.Close()
			}
			switch e.Format {
			case "h5-full", "keras-zip":
				if strings.Contains(e.Notes, "DUPLICATE zip member") {
					// Two members of one name: refused, nothing unpickled.
					var fe *FormatError
					if !errors.As(err, &fe) || !strings.Contains(err.Error(), "two members named") {
						t.Errorf("error %v, want a refusal of the duplicate members", err)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if got := totalParams(f.Model); got != *e.NWeightElements {
					t.Errorf("total params %d, want %d stored weight elements", got, *e.NWeightElements)
				}
				// A model of built-in classes only must be understood from
				// its config, not counted from its stored weights.
				if len(e.CustomClasses) == 0 && len(e.LambdaLayers) == 0 {
					for _, l := range f.Model.Layers {
						if l.WeightsFromFile {
							t.Errorf("layer %q (%s): weights counted from the file, not computed from the config", l.Name, l.Class)
						}
					}
				}
			case "h5-weights-only":
				if !errors.Is(err, ErrNoArchitecture) {
					t.Errorf("error %v, want one wrapping ErrNoArchitecture", err)
				}
			case "other":
				if !errors.Is(err, ErrNotKeras) {
					t.Errorf("error %v, want one wrapping ErrNotKeras", err)
				}
			default:
				t.Fatalf("unknown format %q", e.Format)
			}
		})
		if ok {
			passed++
		}
	}
	t.Logf("corpus: %d of %d files get the expected outcome", passed, len(entries))
}
