package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kerascope/kerascope/keras"
	"github.com/kerascope/kerascope/summary/graph"
)

// articleModels are the RNN article's models, which the unit view is for.
var articleModels = []string{"rnn_1unit", "rnn_2units", "rnn_2features", "rnn_2features_seq"}

// graphGolden is one graph output checked against a golden file.
type graphGolden struct {
	suffix string // golden file name after the model file's name
	args   []string
}

// graphGoldens lists the outputs checked for a fixture model: the layer
// view for every model, expanded for nested ones, and the unit views for
// the models the unit view draws.
func graphGoldens(model string) []graphGolden {
	gs := []graphGolden{
		{".graph.dot", []string{"--format", "dot"}},
		{".graph.mmd", []string{"--format", "mermaid"}},
	}
	if strings.HasPrefix(model, "nested_") {
		gs = append(gs,
			graphGolden{".expand.dot", []string{"--expand-nested"}},
			graphGolden{".expand.mmd", []string{"--expand-nested", "--format", "mermaid"}})
	}
	if strings.HasPrefix(model, "rnn_") {
		for _, v := range []struct{ name, flag string }{{"units", "--units"}, {"unroll", "--unroll"}} {
			gs = append(gs,
				graphGolden{"." + v.name + ".dot", []string{v.flag}},
				graphGolden{"." + v.name + ".mmd", []string{v.flag, "--format", "mermaid"}})
		}
	}
	return gs
}

// TestGraphGolden checks `graph` in DOT and Mermaid for every fixture file
// against golden files (go test -update rewrites them). Unit views are
// checked wherever the unit view draws the model.
func TestGraphGolden(t *testing.T) {
	paths, _ := filepath.Glob(filepath.Join(modelsDir, "*", "*.h5"))
	zips, _ := filepath.Glob(filepath.Join(modelsDir, "*", "*.keras"))
	for _, path := range append(paths, zips...) {
		model, file := filepath.Base(filepath.Dir(path)), filepath.Base(path)
		if strings.HasPrefix(model, "big_") {
			continue // a thousand boxes; the summary tests cover it
		}
		for _, gg := range graphGoldens(model) {
			t.Run(model+"/"+file+gg.suffix, func(t *testing.T) {
				var out, errb bytes.Buffer
				args := append(append([]string{"graph"}, gg.args...), path)
				code := run(args, &out, &errb)
				golden := filepath.Join("testdata", "golden", model, file+gg.suffix)
				if code != 0 {
					// Not every rnn_ model is drawn unit by unit (generic
					// RNN cells, several outputs): such a refusal must be
					// a clear error, and there is no golden file.
					if strings.Contains(gg.suffix, ".units.") || strings.Contains(gg.suffix, ".unroll.") {
						if !strings.Contains(errb.String(), "--units: ") {
							t.Fatalf("exit %d without a --units reason: %s", code, errb.String())
						}
						if _, err := os.Stat(golden); err == nil && !*update {
							t.Fatalf("exit %d but %s exists: %s", code, golden, errb.String())
						}
						os.Remove(golden)
						return
					}
					t.Fatalf("kerascope %s: exit %d: %s", strings.Join(args, " "), code, errb.String())
				}
				if diff := checkGolden(t, golden, out.String()); diff != "" {
					t.Error(diff)
				}
			})
		}
	}
	for _, m := range articleModels {
		if _, err := os.Stat(filepath.Join("testdata", "golden", m, "k3.keras.units.dot")); err != nil {
			t.Errorf("article model %s has no unit view: %v", m, err)
		}
	}
}

// unitManifest is what TestGraphUnitCounts reads of the fixture manifest:
// each layer's parameter count and weight shapes as Keras reported them.
type unitManifest struct {
	Models map[string]struct {
		Files map[string]struct {
			Loaders map[string]struct {
				Layers []struct {
					Name    string `json:"name"`
					Params  int    `json:"params"`
					Weights []struct {
						Path  string `json:"path"`
						Shape []int  `json:"shape"`
					} `json:"weights"`
				} `json:"layers"`
			} `json:"loaders"`
		} `json:"files"`
	} `json:"models"`
}

// TestGraphUnitCounts counts the unit view's edges of the article models
// from the graph's structure: per layer, one weight edge per kernel
// element, one recurrent edge per recurrent kernel element and one bias
// edge per bias element, adding up to the Param # Keras reported.
func TestGraphUnitCounts(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(modelsDir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var man unitManifest
	if err := json.Unmarshal(b, &man); err != nil {
		t.Fatal(err)
	}
	for _, model := range articleModels {
		for file, f := range man.Models[model].Files {
			for loader, l := range f.Loaders {
				if len(l.Layers) == 0 {
					continue // this loader could not load the file
				}
				t.Run(model+"/"+file+"/"+loader, func(t *testing.T) {
					kf, err := keras.Open(filepath.Join(modelsDir, model, file))
					if err != nil {
						t.Fatal(err)
					}
					defer kf.Close()
					g, err := graph.Units(kf.Model, graph.UnitOptions{})
					if err != nil {
						t.Fatal(err)
					}
					seen := map[[2]string]bool{}
					for _, e := range g.Edges {
						if seen[[2]string{e.From, e.To}] {
							t.Errorf("two edges %s -> %s: a weight must be one edge", e.From, e.To)
						}
						seen[[2]string{e.From, e.To}] = true
					}
					total, want := 0, 0
					for _, ml := range l.Layers {
						kinds := map[string]graph.EdgeKind{"kernel": graph.Weight, "recurrent_kernel": graph.Recurrent, "bias": graph.Bias}
						for _, w := range ml.Weights {
							name := strings.TrimSuffix(w.Path[strings.LastIndex(w.Path, "/")+1:], ":0")
							size := 1
							for _, d := range w.Shape {
								size *= d
							}
							if got := g.Count(ml.Name, kinds[name]); got != size {
								t.Errorf("layer %s: %d edges for %s, Keras stores %d elements", ml.Name, got, w.Path, size)
							}
						}
						edges := g.Count(ml.Name, graph.Weight, graph.Recurrent)
						biases := g.Count(ml.Name, graph.Bias)
						if edges+biases != ml.Params {
							t.Errorf("layer %s: %d weight edges + %d bias edges = %d, Keras reported %d params",
								ml.Name, edges, biases, edges+biases, ml.Params)
						}
						total += edges + biases
						want += ml.Params
					}
					if total != want || total != g.Count("", graph.Weight, graph.Recurrent, graph.Bias) {
						t.Errorf("%d edges in all, Keras reported %d params", g.Count("", graph.Weight, graph.Recurrent, graph.Bias), want)
					}
				})
			}
		}
	}
}

// TestGraphImages renders several fixtures to SVG and PNG and checks that
// the images are well formed and plausible.
func TestGraphImages(t *testing.T) {
	cases := []struct {
		model string
		args  []string
	}{
		{"rnn_2units", nil},
		{"nested_fn", []string{"--expand-nested", "--rankdir", "LR"}},
		{"shared_fn", nil},
		{"rnn_2features", []string{"--units"}},
		{"rnn_seq", []string{"--units"}},
		{"rnn_2features_seq", []string{"--unroll"}},
	}
	dir := t.TempDir()
	for _, c := range cases {
		for _, format := range []string{"svg", "png"} {
			name := c.model + strings.Join(c.args, "") + "." + format
			t.Run(name, func(t *testing.T) {
				out := filepath.Join(dir, name)
				args := append(append([]string{"graph", "-o", out}, c.args...), filepath.Join(modelsDir, c.model, "k3.keras"))
				var stdout, errb bytes.Buffer
				if code := run(args, &stdout, &errb); code != 0 {
					t.Fatalf("exit %d: %s", code, errb.String())
				}
				if stdout.Len() != 0 {
					t.Errorf("wrote %d bytes to stdout with -o", stdout.Len())
				}
				data, err := os.ReadFile(out)
				if err != nil {
					t.Fatal(err)
				}
				if format == "svg" {
					checkSVG(t, data)
				} else {
					checkPNG(t, data)
				}
			})
		}
	}
}

func checkSVG(t *testing.T, data []byte) {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(data))
	var root string
	texts := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			if err.Error() != "EOF" {
				t.Fatalf("SVG does not parse as XML: %v", err)
			}
			break
		}
		if se, ok := tok.(xml.StartElement); ok {
			if root == "" {
				root = se.Name.Local
			}
			if se.Name.Local == "text" {
				texts++
			}
		}
	}
	if root != "svg" || texts == 0 {
		t.Errorf("root element %q with %d texts, want an <svg> with text", root, texts)
	}
}

func checkPNG(t *testing.T, data []byte) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("PNG does not decode: %v", err)
	}
	w, h := img.Bounds().Dx(), img.Bounds().Dy()
	if w < 100 || h < 50 || w > 8000 || h > 8000 {
		t.Errorf("PNG is %dx%d pixels", w, h)
	}
	if len(data) > 2<<20 {
		t.Errorf("PNG is %d bytes", len(data))
	}
	if n := inkPixels(img); n < w*h/200 {
		t.Errorf("PNG is nearly blank: %d of %d pixels drawn", n, w*h)
	}
}

// inkPixels counts the pixels that are not white.
func inkPixels(img image.Image) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA); c.R < 240 || c.G < 240 || c.B < 240 {
				n++
			}
		}
	}
	return n
}

// docsImages are the pictures under docs/ that the README shows.
var docsImages = []struct {
	file string
	args []string
}{
	{"units_rnn_1unit.png", []string{"--units", "rnn_1unit"}},
	{"units_rnn_2units.png", []string{"--units", "rnn_2units"}},
	{"units_rnn_2features.png", []string{"--units", "rnn_2features"}},
	{"units_rnn_2features_seq.png", []string{"--units", "rnn_2features_seq"}},
	{"unroll_rnn_2features.png", []string{"--unroll", "rnn_2features"}},
	{"unroll_rnn_2features_seq.png", []string{"--unroll", "rnn_2features_seq"}},
	{"layers_nested_fn.png", []string{"--expand-nested", "nested_fn"}},
}

// TestDocsImages keeps the README's pictures in step with the code:
// rendering is deterministic, so each must match byte for byte (go test
// -update rewrites them). They must stay small enough for a README.
func TestDocsImages(t *testing.T) {
	for _, d := range docsImages {
		t.Run(d.file, func(t *testing.T) {
			model := d.args[len(d.args)-1]
			args := append(append([]string{"graph", "--format", "png"}, d.args[:len(d.args)-1]...), filepath.Join(modelsDir, model, "k3.keras"))
			var out, errb bytes.Buffer
			if code := run(args, &out, &errb); code != 0 {
				t.Fatalf("exit %d: %s", code, errb.String())
			}
			checkPNG(t, out.Bytes())
			if out.Len() > 200<<10 {
				t.Errorf("%s is %d KB, more than 200 KB", d.file, out.Len()>>10)
			}
			path := filepath.Join("..", "..", "docs", d.file)
			if *update {
				os.MkdirAll(filepath.Dir(path), 0o755)
				if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(out.Bytes(), want) {
				t.Errorf("%s is out of date (go test -update rewrites it)", path)
			}
		})
	}
}

// TestGraphErrors checks the command line's refusals.
func TestGraphErrors(t *testing.T) {
	rnn := filepath.Join(modelsDir, "rnn_2units", "k3.keras")
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--format", "jpeg", rnn}, exitUsage, `--format "jpeg"`},
		{[]string{"-o", "graph.txt", rnn}, exitUsage, "unknown extension \".txt\""},
		{[]string{"--rankdir", "XY", rnn}, exitUsage, "--rankdir"},
		{[]string{"--units", "--expand-nested", rnn}, exitUsage, "--expand-nested"},
		{[]string{"--units", filepath.Join(modelsDir, "act_seq", "k3.keras")}, exitError, "which the unit view does not draw"},
		{[]string{"--units", filepath.Join(modelsDir, "shared_fn", "k3.keras")}, exitError, "shared layer"},
		{[]string{"--units", filepath.Join(modelsDir, "nested_seq", "k3.keras")}, exitError, "nested model"},
		{[]string{rnn, rnn}, exitUsage, "want one FILE"},
	}
	for _, c := range cases {
		var out, errb bytes.Buffer
		code := run(append([]string{"graph"}, c.args...), &out, &errb)
		if code != c.code || !strings.Contains(errb.String(), c.want) {
			t.Errorf("graph %s: exit %d, stderr %q; want exit %d and %q", strings.Join(c.args, " "), code, errb.String(), c.code, c.want)
		}
		if out.Len() != 0 {
			t.Errorf("graph %s wrote to stdout on error", strings.Join(c.args, " "))
		}
	}
	var out, errb bytes.Buffer
	if code := run([]string{"help", "graph"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "--units") {
		t.Errorf("help graph: exit %d: %s", code, out.String())
	}
}
