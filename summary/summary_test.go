package summary_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/kerascope/kerascope/keras"
	"github.com/kerascope/kerascope/summary"
)

const modelsDir = "../testdata/models"

// capture is one summary text Keras printed for a fixture file.
type capture struct {
	model, file string // fixture model directory and model file
	loader      string // "k3" or "tfk": which Keras loaded the file
	width       int    // 0 for Keras's default width
	expand      bool   // expand_nested=True
	trainable   bool   // show_trainable=True
	path        string // the captured text
}

// captureRE parses the generator's names,
// F.<loader>.summary[<width>][.expand][.trainable].txt (testdata/README.md).
var captureRE = regexp.MustCompile(`^(.+)\.(k3|tfk)\.summary(\d*)(\.expand)?(\.trainable)?\.txt$`)

// captures lists every summary the generator captured from real Keras.
func captures(t *testing.T) []capture {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(modelsDir, "*", "*.summary*.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatalf("no captured summaries under %s", modelsDir)
	}
	var cs []capture
	for _, p := range paths {
		m := captureRE.FindStringSubmatch(filepath.Base(p))
		if m == nil {
			t.Fatalf("%s: unexpected capture name", p)
		}
		c := capture{model: filepath.Base(filepath.Dir(p)), file: m[1], loader: m[2],
			expand: m[4] != "", trainable: m[5] != "", path: p}
		if m[3] != "" {
			c.width, _ = strconv.Atoi(m[3])
		}
		cs = append(cs, c)
	}
	return cs
}

// options returns the options Keras printed the capture with.
func (c capture) options() summary.Options {
	o := summary.Options{Style: summary.Keras2, LineLength: c.width, ExpandNested: c.expand, ShowTrainable: c.trainable}
	if c.loader == "k3" {
		o.Style = summary.Keras3
		if o.LineLength == 0 {
			o.LineLength = 76 // Keras 3's default when stdout is not a terminal
		}
	}
	return o
}

// render prints a file's summary as Keras would print it for the capture:
// the Keras 3 style counts the optimizer Keras 3 builds on load.
func render(t *testing.T, path string, o summary.Options) string {
	t.Helper()
	f, err := keras.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if o.Style == summary.Keras3 {
		vars, built, err := f.Keras3Optimizer()
		if err != nil {
			t.Fatal(err)
		}
		if built {
			o.Optimizer = vars
		}
	}
	if o.LineLength == 0 {
		o.LineLength = summary.DefaultLineLength(f.Model, o, 0)
	}
	var buf bytes.Buffer
	if err := summary.Write(&buf, f.Model, o); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// TestWriteMatchesKeras renders every fixture file as each Keras that
// loaded it printed it, and compares byte for byte: Keras 3's table at its
// default width (76 when piped) and at 88, with expand_nested and
// show_trainable, and tf-keras's plain table.
func TestWriteMatchesKeras(t *testing.T) {
	for _, c := range captures(t) {
		t.Run(c.model+"/"+filepath.Base(c.path), func(t *testing.T) {
			want, err := os.ReadFile(c.path)
			if err != nil {
				t.Fatal(err)
			}
			if got := render(t, filepath.Join(modelsDir, c.model, c.file), c.options()); got != string(want) {
				t.Errorf("differs from Keras's summary %s\n--- got\n%s--- want\n%s", c.path, got, want)
			}
		})
	}
}

// TestWriteOtherStyle prints each fixture file in the style of the Keras
// that did not (or could not) load it, and compares it with the text Keras
// printed for another file of the same model, where both files hold the
// same layers (the generator saves one architecture under the same names;
// Keras 3 alone adds mask operations to some graphs). Captures with an
// optimizer line are left out, as are files that Keras 3 would load with an
// optimizer, since the optimizer state differs between the files.
func TestWriteOtherStyle(t *testing.T) {
	names := summaryLayerNames(t)
	for _, c := range captures(t) {
		want, err := os.ReadFile(c.path)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(want, []byte("Optimizer params")) {
			continue
		}
		wantNames := names[c.model+"/"+c.file+"/"+c.loader]
		files, _ := filepath.Glob(filepath.Join(modelsDir, c.model, "*.h5"))
		kerasFiles, _ := filepath.Glob(filepath.Join(modelsDir, c.model, "*.keras"))
		for _, file := range append(files, kerasFiles...) {
			if filepath.Base(file) == c.file {
				continue
			}
			f, err := keras.Open(file)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, l := range f.Model.Layers {
				got = append(got, l.Name)
			}
			_, withOptimizer, _ := f.Keras3Optimizer()
			f.Close()
			if strings.Join(got, ",") != strings.Join(wantNames, ",") || (c.loader == "k3" && withOptimizer) {
				continue
			}
			t.Run(c.model+"/"+filepath.Base(file)+"/as/"+filepath.Base(c.path), func(t *testing.T) {
				if got := render(t, file, c.options()); got != string(want) {
					t.Errorf("differs from %s\n--- got\n%s--- want\n%s", c.path, got, want)
				}
			})
		}
	}
}

// summaryLayerNames reads, from the fixture manifest, the top-level layer
// names Keras listed in each summary it printed, by model/file/loader.
func summaryLayerNames(t *testing.T) map[string][]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(modelsDir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Models map[string]struct {
			Files map[string]struct {
				Loaders map[string]struct {
					SummaryLayerNames []string `json:"summary_layer_names"`
				} `json:"loaders"`
			} `json:"files"`
		} `json:"models"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	out := make(map[string][]string)
	for model, mf := range m.Models {
		for file, ff := range mf.Files {
			for loader, l := range ff.Loaders {
				out[model+"/"+file+"/"+loader] = l.SummaryLayerNames
			}
		}
	}
	return out
}
