package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/kerascope/kerascope/keras"
)

const modelsDir = "../../testdata/models"

// summaryCapture is one summary text Keras printed for a fixture file.
type summaryCapture struct {
	model, file string // fixture model directory and model file
	loader      string // "k3" or "tfk": which Keras loaded the file
	width       string // "" for Keras's default width
	expand      bool   // expand_nested=True
	trainable   bool   // show_trainable=True
	path        string // the captured text
}

// captureRE parses the generator's names, F.<loader>.summary[<width>][.expand][.trainable].txt
// (testdata/README.md).
var captureRE = regexp.MustCompile(`^(.+)\.(k3|tfk)\.summary(\d*)(\.expand)?(\.trainable)?\.txt$`)

// captures lists every summary the generator captured from real Keras.
func captures(t *testing.T) []summaryCapture {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(modelsDir, "*", "*.summary*.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatalf("no captured summaries under %s", modelsDir)
	}
	var cs []summaryCapture
	for _, p := range paths {
		m := captureRE.FindStringSubmatch(filepath.Base(p))
		if m == nil {
			t.Fatalf("%s: unexpected capture name", p)
		}
		cs = append(cs, summaryCapture{
			model: filepath.Base(filepath.Dir(p)), file: m[1], loader: m[2], width: m[3],
			expand: m[4] != "", trainable: m[5] != "", path: p,
		})
	}
	return cs
}

// TestSummaryMatchesKeras compares kerascope's summary of every fixture
// file with the text Keras itself printed for that file, byte for byte:
// Keras 3's table at its default width (76 when piped) and at 88, and
// tf-keras's plain table.
func TestSummaryMatchesKeras(t *testing.T) {
	for _, c := range captures(t) {
		name := c.model + "/" + strings.TrimPrefix(filepath.Base(c.path), "")
		t.Run(name, func(t *testing.T) {
			want, err := os.ReadFile(c.path)
			if err != nil {
				t.Fatal(err)
			}
			style := map[string]string{"k3": "keras3", "tfk": "keras2"}[c.loader]
			args := append([]string{"summary", "--style", style}, c.flags()...)
			if c.width != "" {
				args = append(args, "--line-length", c.width)
			} else if style == "keras3" {
				// Keras's default when stdout is not a terminal.
				args = append(args, "--line-length", "76")
			}
			args = append(args, filepath.Join(modelsDir, c.model, c.file))
			var out, errb bytes.Buffer
			if code := run(args, &out, &errb); code != 0 {
				t.Fatalf("kerascope %s: exit %d: %s", strings.Join(args, " "), code, errb.String())
			}
			if got := out.String(); got != string(want) {
				t.Errorf("kerascope %s differs from Keras's summary %s\n--- got\n%s--- want\n%s", strings.Join(args, " "), c.path, got, want)
			}
		})
	}
}

// flags returns the options the capture was made with.
func (c summaryCapture) flags() []string {
	var f []string
	if c.expand {
		f = append(f, "--expand-nested")
	}
	if c.trainable {
		f = append(f, "--show-trainable")
	}
	return f
}

// TestSummaryDefaultStyle checks that without --style a file gets the
// summary of the Keras that saved it, at Keras's default piped width.
func TestSummaryDefaultStyle(t *testing.T) {
	t.Setenv("COLUMNS", "80") // what Python's terminal-size fallback gives when piped
	for _, c := range captures(t) {
		k3file := strings.HasPrefix(c.file, "k3.")
		if c.width != "" || (c.loader == "k3") != k3file {
			continue
		}
		t.Run(c.model+"/"+c.file, func(t *testing.T) {
			want, err := os.ReadFile(c.path)
			if err != nil {
				t.Fatal(err)
			}
			var out, errb bytes.Buffer
			args := append(append([]string{"summary"}, c.flags()...), filepath.Join(modelsDir, c.model, c.file))
			if code := run(args, &out, &errb); code != 0 {
				t.Fatalf("exit %d: %s", code, errb.String())
			}
			if out.String() != string(want) {
				t.Errorf("default summary differs from %s\n--- got\n%s--- want\n%s", c.path, out.String(), want)
			}
		})
	}
}

// TestSummaryOtherStyle prints each fixture file in the style of the Keras
// that did not (or could not) load it, and compares it with the text Keras
// printed for another file of the same model, where both files hold the
// same layers (the generator saves one architecture under the same names;
// Keras 3 alone adds mask operations to some graphs). Captures with an
// optimizer line are skipped, as are files that Keras 3 would load with an
// optimizer, since the optimizer state differs between the files.
func TestSummaryOtherStyle(t *testing.T) {
	man := readManifest(t)
	for _, c := range captures(t) {
		want, err := os.ReadFile(c.path)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(want, []byte("Optimizer params")) {
			continue
		}
		wantNames := man.Models[c.model].Files[c.file].Loaders[c.loader].SummaryLayerNames
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
			var names []string
			for _, l := range f.Model.Layers {
				names = append(names, l.Name)
			}
			_, withOptimizer, _ := f.Keras3Optimizer()
			f.Close()
			if strings.Join(names, ",") != strings.Join(wantNames, ",") || (c.loader == "k3" && withOptimizer) {
				continue
			}
			t.Run(c.model+"/"+filepath.Base(file)+"/as/"+filepath.Base(c.path), func(t *testing.T) {
				style := map[string]string{"k3": "keras3", "tfk": "keras2"}[c.loader]
				width := c.width
				if width == "" && c.loader == "k3" {
					width = "76" // Keras 3's default when stdout is not a terminal
				}
				args := []string{"summary", "--style", style}
				if width != "" {
					args = append(args, "--line-length", width)
				}
				args = append(args, c.flags()...)
				args = append(args, file)
				var out, errb bytes.Buffer
				if code := run(args, &out, &errb); code != 0 {
					t.Fatalf("exit %d: %s", code, errb.String())
				}
				if got := out.String(); got != string(want) {
					t.Errorf("kerascope %s differs from %s\n--- got\n%s--- want\n%s", strings.Join(args, " "), c.path, got, want)
				}
			})
		}
	}
}
