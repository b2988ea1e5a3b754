package keras

import (
	"errors"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// A StoredLayer is one layer's weights as the file stores them, without
// their data.
type StoredLayer struct {
	// Name is the layer's name: from layer_names in a legacy .h5, from
	// the name attribute (or the path) of its group in a Keras 3 store.
	Name string
	// Path is the layer's group in the HDF5 file.
	Path    string
	Weights []StoredVar
}

// Elements returns the number of elements of the layer's stored weights.
func (l StoredLayer) Elements() int64 {
	var n int64
	for _, v := range l.Weights {
		n += v.Elements()
	}
	return n
}

// StoredLayers lists every layer's stored weights. Legacy .h5 files list
// them in their layer_names order; Keras 3 stores (.keras, .weights.h5) in
// the order of the groups under layers/ (numbered per class, as
// keras/src/saving/saving_lib.py names them).
func (f *File) StoredLayers() ([]StoredLayer, error) {
	if f.Store == nil {
		if f.npz {
			return nil, unsupportedf("weights are stored as %s (pickled NumPy arrays), which kerascope never unpickles", archiveWeightsNP)
		}
		return nil, nil
	}
	switch f.Format {
	case FormatH5:
		return legacyStoredLayers(f.Store, "/model_weights")
	case FormatH5Weights:
		return legacyStoredLayers(f.Store, "/")
	}
	layers, err := storeLayers(f.Store)
	if err != nil || f.Model == nil {
		return layers, err
	}
	// HDF5 lists groups by name; put them in the model's layer order.
	rank := make(map[string]int)
	for i, p := range storePaths(f.Model.Layers) {
		rank[p] = i + 1
	}
	sort.SliceStable(layers, func(i, j int) bool {
		ri, rj := rank[baseName(layers[i].Path)], rank[baseName(layers[j].Path)]
		if ri == 0 || rj == 0 {
			return rj == 0 && ri != 0
		}
		return ri < rj
	})
	return layers, nil
}

// legacyStoredLayers reads the layer_names / weight_names lists of a legacy
// weights group (save_weights_to_hdf5_group).
func legacyStoredLayers(s Store, group string) ([]StoredLayer, error) {
	names, err := readStringList(s, group, "layer_names")
	if err != nil {
		return nil, err
	}
	layers := make([]StoredLayer, 0, len(names))
	for _, name := range names {
		if name == "" || strings.ContainsRune(name, 0) {
			return nil, formatErrorf("layer_names lists an empty or malformed name %q", name)
		}
		g := path.Join(group, name)
		wnames, err := readStringList(s, g, "weight_names")
		if errors.Is(err, fs.ErrNotExist) {
			wnames, err = nil, nil // Keras 1 wrote no weight_names for weightless layers
		}
		if err != nil {
			return nil, err
		}
		vars, err := statAll(s, g, wnames)
		if err != nil {
			return nil, err
		}
		layers = append(layers, StoredLayer{Name: name, Path: g, Weights: vars})
	}
	return layers, nil
}

// storeLayers walks a Keras 3 weights store: one StoredLayer per group
// under layers/ (or the _layer_checkpoint_dependencies/ of tf.keras
// 2.13-2.14), each with every variable in its subtree.
func storeLayers(s Store) ([]StoredLayer, error) {
	groups, _, err := s.Children("/")
	if err != nil {
		return nil, err
	}
	var layers []StoredLayer
	for _, top := range []string{"layers", "_layer_checkpoint_dependencies"} {
		if !contains(groups, top) {
			continue
		}
		children, _, err := s.Children("/" + top)
		if err != nil {
			return nil, err
		}
		for _, c := range children {
			l, err := storeLayer(s, "/"+top+"/"+c, c)
			if err != nil {
				return nil, err
			}
			layers = append(layers, l)
		}
		return layers, nil
	}
	// Subclassed models keep their layers under their attribute names;
	// files written on Windows have names like `layers\dense`.
	for _, g := range groups {
		if g == "optimizer" || g == "vars" {
			continue
		}
		l, err := storeLayer(s, "/"+g, strings.TrimPrefix(strings.TrimPrefix(g, "layers\\"), "_layer_checkpoint_dependencies\\"))
		if err != nil {
			return nil, err
		}
		layers = append(layers, l)
	}
	return layers, nil
}

func storeLayer(s Store, group, fallback string) (StoredLayer, error) {
	l := StoredLayer{Name: fallback, Path: group}
	if name, err := s.StringAttr(group+"/vars", "name"); err == nil && name != "" {
		l.Name = name
	}
	err := walkVars(s, group, &l.Weights, 0)
	return l, err
}

// walkVars collects the datasets of every vars group in a subtree, a
// group's own variables first, in numeric order.
func walkVars(s Store, group string, vars *[]StoredVar, depth int) error {
	if depth > maxNesting*4 {
		return formatErrorf("%s: groups nested too deep", group)
	}
	groups, _, err := s.Children(group)
	if err != nil {
		return err
	}
	if contains(groups, "vars") {
		_, ds, err := s.Children(group + "/vars")
		if err != nil {
			return err
		}
		sortNumerically(ds)
		v, err := statAll(s, group+"/vars", ds)
		if err != nil {
			return err
		}
		*vars = append(*vars, v...)
	}
	for _, g := range groups {
		if g == "vars" {
			continue
		}
		if err := walkVars(s, group+"/"+g, vars, depth+1); err != nil {
			return err
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

var (
	snakeNonWord = regexp.MustCompile(`\W+`)
	snakeWord    = regexp.MustCompile(`(.)([A-Z][a-z]+)`)
	snakeLower   = regexp.MustCompile(`([a-z])([A-Z])`)
)

// snakeCase is Keras 3's naming.to_snake_case, which names the groups of a
// weights store after each layer's class: Conv2DTranspose ->
// conv2d_transpose, PReLU -> p_re_lu.
func snakeCase(class string) string {
	s := snakeNonWord.ReplaceAllString(class, "")
	s = snakeWord.ReplaceAllString(s, "${1}_${2}")
	s = snakeLower.ReplaceAllString(s, "${1}_${2}")
	return strings.ToLower(s)
}

// storePaths returns the group name Keras 3 gives each of the model's
// layers in a weights store: the snake-case class, numbered per class in
// the order of model.layers.
func storePaths(layers []*Layer) []string {
	seen := make(map[string]int)
	out := make([]string, len(layers))
	for i, l := range layers {
		base := snakeCase(l.Class)
		n := seen[base]
		seen[base]++
		out[i] = base
		if n > 0 {
			out[i] = base + "_" + strconv.Itoa(n)
		}
	}
	return out
}
