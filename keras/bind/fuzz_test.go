package bind_test

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/kerascope/kerascope/keras"
	"github.com/kerascope/kerascope/keras/bind"
)

// fakeStore is an HDF5 store in memory: groups, their string-list
// attributes and datasets of given shapes, whose values are zeros.
type fakeStore struct {
	groups map[string]bool
	attrs  map[string][]string // "obj@name"
	sets   map[string][]int    // dataset path -> shape
}

func (s *fakeStore) HasAttr(obj, name string) (bool, error) {
	_, ok := s.attrs[obj+"@"+name]
	return ok, nil
}
func (s *fakeStore) StringAttr(obj, name string) (string, error) {
	v, ok := s.attrs[obj+"@"+name]
	if !ok || len(v) == 0 {
		return "", &fs.PathError{Op: "read attribute", Path: obj + "@" + name, Err: fs.ErrNotExist}
	}
	return v[0], nil
}
func (s *fakeStore) StringsAttr(obj, name string) ([]string, error) {
	v, ok := s.attrs[obj+"@"+name]
	if !ok {
		return nil, &fs.PathError{Op: "read attribute", Path: obj + "@" + name, Err: fs.ErrNotExist}
	}
	return v, nil
}
func (s *fakeStore) Children(group string) (groups, datasets []string, err error) {
	if !s.groups[group] {
		return nil, nil, &fs.PathError{Op: "list", Path: group, Err: fs.ErrNotExist}
	}
	prefix := strings.TrimSuffix(group, "/") + "/"
	for g := range s.groups {
		if rest, ok := strings.CutPrefix(g, prefix); ok && rest != "" && !strings.Contains(rest, "/") {
			groups = append(groups, rest)
		}
	}
	for d := range s.sets {
		if rest, ok := strings.CutPrefix(d, prefix); ok && !strings.Contains(rest, "/") {
			datasets = append(datasets, rest)
		}
	}
	sort.Strings(groups)
	sort.Strings(datasets)
	return groups, datasets, nil
}
func (s *fakeStore) DatasetShape(p string) ([]int, string, error) {
	shape, ok := s.sets[p]
	if !ok {
		return nil, "", &fs.PathError{Op: "open", Path: p, Err: fs.ErrNotExist}
	}
	return shape, "float32", nil
}
func (s *fakeStore) ReadFloat32(p string, want []int) ([]float32, error) {
	shape, ok := s.sets[p]
	if !ok || fmt.Sprint(shape) != fmt.Sprint(want) {
		return nil, fmt.Errorf("%s: shape %v, want %v", p, shape, want)
	}
	n := 1
	for _, d := range shape {
		n *= d
	}
	return make([]float32, n), nil
}

// fuzzFile is what a fuzz input describes: a legacy or Keras 3 store, as
// lists of groups, each with its datasets and shapes.
type fuzzFile struct {
	Saved  bool `json:"saved"`
	Keras1 bool `json:"keras1"`
	Layers []struct {
		Name    string   `json:"name"`
		Weights []string `json:"weights"` // relative dataset paths
		Shapes  [][]int  `json:"shapes"`
	} `json:"layers"`
}

// maxFuzzElements bounds the datasets a fuzz input may declare, as png's
// fuzzer skips huge images.
const maxFuzzElements = 1 << 16

func (ff fuzzFile) store() (*fakeStore, bool) {
	s := &fakeStore{groups: map[string]bool{"/": true}, attrs: map[string][]string{}, sets: map[string][]int{}}
	root := "/model_weights"
	if ff.Saved {
		root = "/layers"
	}
	s.groups[root] = true
	var names []string
	total := 0
	for _, l := range ff.Layers {
		if l.Name == "" || strings.ContainsAny(l.Name, "/\x00") {
			return nil, false
		}
		g := root + "/" + l.Name
		s.groups[g] = true
		names = append(names, l.Name)
		var wnames []string
		for i, w := range l.Weights {
			if w == "" || i >= len(l.Shapes) || strings.Contains(w, "\x00") {
				return nil, false
			}
			p := path.Join(g, w)
			for d := path.Dir(p); d != g && strings.HasPrefix(d, g); d = path.Dir(d) {
				s.groups[d] = true
			}
			n := 1
			for _, d := range l.Shapes[i] {
				if d < 0 || d > maxFuzzElements {
					return nil, false
				}
				n *= d
			}
			if total += n; n > maxFuzzElements || total > maxFuzzElements {
				return nil, false
			}
			s.sets[p] = l.Shapes[i]
			wnames = append(wnames, w)
		}
		s.attrs[g+"@weight_names"] = wnames
	}
	s.attrs[root+"@layer_names"] = names
	return s, true
}

// FuzzBind binds fixture models' layers to stores of any shape: the binder
// must never panic, and every weight it binds must read as the shape the
// architecture wants.
func FuzzBind(f *testing.F) {
	var models [][]*bind.Layer
	for _, file := range []string{"rnn_seq/tfk.h5", "conv2d_seq/k3.keras", "attention_fn/k3.keras", "nested_fn/tfk.h5", "../keras1/k1_rnn.h5", "../keras1/k1_conv_th.h5"} {
		kf, err := keras.Open(filepath.Join(modelsDir, file))
		if err != nil {
			f.Fatal(err)
		}
		b, err := kf.Binding()
		if err != nil {
			f.Fatal(err)
		}
		var layers []*bind.Layer
		ff := fuzzFile{Saved: !strings.HasSuffix(file, ".h5"), Keras1: strings.Contains(file, "keras1")}
		for _, bd := range b.Layers {
			layers = append(layers, bd.Layer)
			if bd.Group == nil {
				continue
			}
			var ws []string
			var shapes [][]int
			for _, v := range bd.Group.Vars {
				ws = append(ws, strings.TrimPrefix(v.Path, bd.Group.Path+"/"))
				shapes = append(shapes, v.Shape)
			}
			ff.Layers = append(ff.Layers, struct {
				Name    string   `json:"name"`
				Weights []string `json:"weights"`
				Shapes  [][]int  `json:"shapes"`
			}{strings.TrimPrefix(bd.Group.Path, "/model_weights/"), ws, shapes})
		}
		kf.Close()
		models = append(models, layers)
		seed, _ := json.Marshal(ff)
		f.Add(seed, uint8(len(models)-1))
	}
	f.Fuzz(func(t *testing.T, data []byte, model uint8) {
		var ff fuzzFile
		if json.Unmarshal(data, &ff) != nil {
			return
		}
		s, ok := ff.store()
		if !ok {
			return
		}
		layout := bind.LegacyModel
		if ff.Saved {
			layout = bind.Saved
			// A store names its groups by class; the fuzzer's names are
			// taken as given.
			s.groups["/layers"] = true
		}
		version := "2.21.0"
		if ff.Keras1 {
			version = "1.2.2"
		}
		layers := models[int(model)%len(models)]
		b, err := bind.Bind(s, layout, layers, bind.Saver{KerasVersion: version})
		if err != nil {
			return
		}
		for _, bd := range b.Layers {
			for i, w := range bd.Weights {
				data, err := w.Read(s)
				if err != nil {
					t.Fatalf("layer %s: weight %s bound but unreadable: %v", bd.Layer.Name, w.Name, err)
				}
				n := 1
				for _, d := range bd.Layer.Weights[i].Shape {
					n *= d
				}
				if len(data) != n {
					t.Fatalf("layer %s: weight %s reads %d values, want %d", bd.Layer.Name, w.Name, len(data), n)
				}
			}
		}
	})
}
