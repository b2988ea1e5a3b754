package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
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

// TestSummaryFlags runs kerascope summary with each capture's options as
// flags (--style, --line-length, --expand-nested, --show-trainable) on the
// nested models, whose captures use every option, and compares with the
// text Keras printed. The renderer itself is held to every capture in
// package summary's tests; this checks that the flags reach it.
func TestSummaryFlags(t *testing.T) {
	for _, c := range captures(t) {
		if !strings.HasPrefix(c.model, "nested_") {
			continue
		}
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
