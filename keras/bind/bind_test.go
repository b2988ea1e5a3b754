package bind_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/kerascope/kerascope/keras"
	"github.com/kerascope/kerascope/keras/bind"
	"github.com/kerascope/kerascope/keras/store"
)

const modelsDir = "../../testdata/models"

// kerasWeights is what the fixture manifest records of each layer's
// weights, as the Keras that wrote the file listed them (layer.weights).
type kerasWeights map[string]map[string][]struct {
	Path  string `json:"path"`
	Shape []int  `json:"shape"`
}

// readKerasWeights reads, for every fixture file, the weights of each layer
// as the Keras that wrote it reported them after loading it.
func readKerasWeights(t *testing.T) kerasWeights {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(modelsDir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Models map[string]struct {
			Files map[string]struct {
				Loaders map[string]struct {
					Layers []struct {
						Name    string `json:"name"`
						Weights []struct {
							Path  string `json:"path"`
							Shape []int  `json:"shape"`
						} `json:"weights"`
					} `json:"layers"`
				} `json:"loaders"`
			} `json:"files"`
		} `json:"models"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	out := make(kerasWeights)
	for model, mf := range m.Models {
		for file, ff := range mf.Files {
			loader := strings.SplitN(file, ".", 2)[0]
			ld, ok := ff.Loaders[loader]
			if !ok || ld.Layers == nil {
				continue
			}
			layers := make(map[string][]struct {
				Path  string `json:"path"`
				Shape []int  `json:"shape"`
			})
			for _, l := range ld.Layers {
				layers[l.Name] = append(layers[l.Name], l.Weights...)
			}
			out[filepath.Join(model, file)] = layers
		}
	}
	return out
}

// TestBindFixtures binds every fixture file and compares each layer's
// weights with the ones Keras listed for it: every weight bound, none left
// over, no finding, and each weight's name and shape those of a Keras
// weight of the layer.
func TestBindFixtures(t *testing.T) {
	want := readKerasWeights(t)
	files := make([]string, 0, len(want))
	for f := range want {
		files = append(files, f)
	}
	sort.Strings(files)
	for _, file := range files {
		t.Run(file, func(t *testing.T) {
			f, err := keras.Open(filepath.Join(modelsDir, file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			b, err := f.Binding()
			if err != nil {
				t.Fatal(err)
			}
			for _, fd := range b.Findings {
				t.Errorf("finding: %v", fd)
			}
			for _, bd := range b.Layers {
				kw := want[file][bd.Layer.Name]
				if len(bd.Weights) != len(kw) {
					t.Errorf("layer %s: %d weights bound, Keras lists %d", bd.Layer.Name, len(bd.Weights), len(kw))
					continue
				}
				for _, w := range bd.Weights {
					if !slices.ContainsFunc(kw, func(k struct {
						Path  string `json:"path"`
						Shape []int  `json:"shape"`
					}) bool {
						p := strings.TrimSuffix(k.Path, ":0")
						return slices.Equal(k.Shape, w.Shape) && (p == w.Name || strings.HasSuffix(p, "/"+w.Name) || strings.HasSuffix(w.Name, "/"+p))
					}) {
						t.Errorf("layer %s: weight %q %v bound to %s is none of Keras's %v", bd.Layer.Name, w.Name, w.Shape, w.Path, kw)
					}
				}
			}
		})
	}
}

// windowsStore presents a store as an archive written on Windows stores
// it: Keras joined each group's path with os.path.join, so every group
// below the root (layers/lstm/cell, or
// _layer_checkpoint_dependencies/dense) is a group of the root named by
// its whole path with backslashes, holding its vars/.
type windowsStore struct{ store.Store }

// real maps a path of the Windows store to the original one.
func (w windowsStore) real(p string) string {
	if p == "/" {
		return p
	}
	rest := strings.TrimPrefix(p, "/")
	group, tail, _ := strings.Cut(rest, "/")
	p = "/" + strings.ReplaceAll(group, `\`, "/")
	if tail != "" {
		p += "/" + tail
	}
	return p
}

func (w windowsStore) Children(group string) ([]string, []string, error) {
	if group != "/" {
		// Below a flattened group only its vars/ remains a subgroup.
		groups, ds, err := w.Store.Children(w.real(group))
		if err != nil || strings.Contains(strings.TrimPrefix(group, "/"), "/") {
			return groups, ds, err
		}
		var keep []string
		for _, g := range groups {
			if g == "vars" {
				keep = append(keep, g)
			}
		}
		return keep, ds, nil
	}
	var out []string
	var walk func(p, name string, depth int) error
	walk = func(p, name string, depth int) error {
		groups, _, err := w.Store.Children(p)
		if err != nil {
			return err
		}
		if name != "" {
			out = append(out, name)
		}
		for _, g := range groups {
			if g == "vars" || depth > 32 {
				continue
			}
			child := g
			if name != "" {
				child = name + `\` + g
			}
			if err := walk(strings.TrimSuffix(p, "/")+"/"+g, child, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk("/", "", 0); err != nil {
		return nil, nil, err
	}
	_, ds, err := w.Store.Children("/")
	return out, ds, err
}

func (w windowsStore) HasAttr(obj, name string) (bool, error) {
	return w.Store.HasAttr(w.real(obj), name)
}
func (w windowsStore) StringAttr(obj, name string) (string, error) {
	return w.Store.StringAttr(w.real(obj), name)
}
func (w windowsStore) StringsAttr(obj, name string) ([]string, error) {
	return w.Store.StringsAttr(w.real(obj), name)
}
func (w windowsStore) DatasetShape(p string) ([]int, string, error) {
	return w.Store.DatasetShape(w.real(p))
}
func (w windowsStore) ReadFloat32(p string, want []int) ([]float32, error) {
	return w.Store.ReadFloat32(w.real(p), want)
}

// TestBindWindowsArchive binds Keras 3 and tf.keras 2.13 and 2.15
// archives as Windows would have written them and requires the same binding: every weight bound to the
// same tensor, the group named with its backslash.
func TestBindWindowsArchive(t *testing.T) {
	for _, file := range []string{"models/conv1d_seq/k3.keras", "models/nested_fn/k3.keras", "models/attention_fn/k3.keras",
		"models/rnn_cells_fn/k3.keras", "tfk/cnn_seq/tf213.keras", "tfk/rnn_fn/tf213.keras", "tfk/nested_fn/tf213.keras",
		"tfk/tfops_dense_fn/tf213.keras", "tfk/mobilenet_fn/tf213.keras", "tfk/rnn_fn/tf215.keras"} {
		t.Run(file, func(t *testing.T) {
			f, err := keras.Open(filepath.Join(modelsDir, "..", file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			want, err := f.Binding()
			if err != nil {
				t.Fatal(err)
			}
			var layers []*bind.Layer
			for _, bd := range want.Layers {
				layers = append(layers, bd.Layer)
			}
			got, err := bind.Bind(windowsStore{f.Store}, bind.Saved, layers, bind.Saver{KerasVersion: f.KerasVersion, Backend: f.Backend})
			if err != nil {
				t.Fatal(err)
			}
			for _, fd := range got.Findings {
				t.Errorf("finding: %v", fd)
			}
			for i, bd := range got.Layers {
				w := want.Layers[i]
				if len(bd.Weights) != len(w.Weights) {
					t.Errorf("layer %s: %d weights bound, %d from the archive as written", bd.Layer.Name, len(bd.Weights), len(w.Weights))
					continue
				}
				for j := range bd.Weights {
					g, h := bd.Weights[j], w.Weights[j]
					if !strings.Contains(g.Path, `\`) {
						t.Errorf("layer %s: weight %d bound at %s, not in a Windows-named group", bd.Layer.Name, j, g.Path)
					}
					if g.Name != h.Name || (windowsStore{}).real(g.Path) != h.Path {
						t.Errorf("layer %s: weight %d is %s at %s, want %s at %s", bd.Layer.Name, j, g.Name, g.Path, h.Name, h.Path)
					}
				}
			}
		})
	}
}
