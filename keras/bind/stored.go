package bind

import (
	"errors"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/kerascope/kerascope/keras/store"
)

// A Layout is how a file lays its weights out.
type Layout int

const (
	// LegacyModel is a legacy .h5 from model.save: /model_weights holds
	// layer_names, and one group per layer with its weight_names.
	LegacyModel Layout = iota + 1
	// LegacyWeights is a legacy .h5 from save_weights: the same lists at
	// the root.
	LegacyWeights
	// Saved is a store written by Keras 3's saving_lib (or tf.keras
	// 2.13+): one group per layer, variables under vars/.
	Saved
)

// Legacy reports a layout of layer_names and weight_names lists.
func (l Layout) Legacy() bool { return l == LegacyModel || l == LegacyWeights }

func (l Layout) root() string {
	if l == LegacyModel {
		return "/model_weights"
	}
	return "/"
}

// Detect tells the layout of an HDF5 file that holds no model config: a
// save_weights file, a Keras 3 .weights.h5, or 0 when it is neither.
func Detect(s store.Store) (Layout, error) {
	if ok, _ := s.HasAttr("/", "layer_names"); ok {
		return LegacyWeights, nil
	}
	groups, _, err := s.Children("/")
	if err != nil {
		return 0, err
	}
	for _, g := range groups {
		// A store written on Windows names its groups `layers\dense`.
		switch strings.SplitN(strings.ReplaceAll(g, `\`, "/"), "/", 2)[0] {
		case "layers", "vars", checkpointDeps:
			return Saved, nil
		}
	}
	return 0, nil
}

// checkpointDeps is where tf.keras 2.13 and 2.14 keep a model's layers in
// a store, in place of layers/.
const checkpointDeps = "_layer_checkpoint_dependencies"

// A Var describes one stored dataset without its data.
type Var struct {
	Path  string
	Shape []int
	DType string
	// Missing reports a weight the file lists (in weight_names) but does
	// not store; Shape and DType are then empty.
	Missing bool
}

// Elements returns the number of elements of the variable.
func (v Var) Elements() int64 {
	if v.Missing {
		return 0
	}
	n := int64(1)
	for _, d := range v.Shape {
		n *= int64(d)
	}
	return n
}

// A Group is the weights a file stores for one layer, without their data.
type Group struct {
	// Name is the layer's name: from layer_names in a legacy .h5, from
	// the name attribute (or the group's name) in a Keras 3 store.
	Name string
	// Path is the layer's group in the HDF5 file.
	Path string
	// Key is what a layer is matched by: its name in a legacy file, the
	// group's name (with Windows' backslashes read as slashes) in a store.
	Key  string
	Vars []Var
}

// Elements returns the number of elements of the group's weights.
func (g Group) Elements() int64 {
	var n int64
	for _, v := range g.Vars {
		n += v.Elements()
	}
	return n
}

// Groups lists the weights a file stores, one Group per layer: in
// layer_names order for legacy layouts, in the order HDF5 lists the groups
// (by name) for stores.
func Groups(s store.Store, layout Layout) ([]Group, error) {
	if layout.Legacy() {
		return legacyGroups(s, layout.root())
	}
	g, _, err := storeGroups(s)
	return g, err
}

// legacyGroups reads the layer_names / weight_names lists of a legacy
// weights group (save_weights_to_hdf5_group).
func legacyGroups(s store.Store, root string) ([]Group, error) {
	names, err := readStringList(s, root, "layer_names")
	if err != nil {
		return nil, err
	}
	groups := make([]Group, 0, len(names))
	for _, name := range names {
		if name == "" || strings.ContainsRune(name, 0) {
			return nil, store.Formatf("layer_names lists an empty or malformed name %q", name)
		}
		g := path.Join(root, name)
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
		groups = append(groups, Group{Name: name, Path: g, Key: name, Vars: vars})
	}
	return groups, nil
}

// storeGroups lists a store's groups: one Group per layer under layers/
// (or _layer_checkpoint_dependencies/), each with every variable in its
// subtree; for a subclassed model, whose layers are attributes, one per
// top-level group.
func storeGroups(s store.Store) ([]Group, *tree, error) {
	t, err := readTree(s)
	if err != nil {
		return nil, nil, err
	}
	prefix := ""
	if c := t.container(""); c != "" {
		prefix = "/" + c
	}
	var groups []Group
	for _, k := range t.children(prefix + "/") {
		p := prefix + "/" + k
		g := Group{Name: k, Path: t.realPath(p), Key: k}
		if tg := t.group(p); tg != nil && tg.name != "" {
			g.Name = tg.name
		}
		g.Vars, _ = t.varsUnder(p)
		groups = append(groups, g)
	}
	return groups, t, nil
}

// container tells where the model at a logical path keeps its layers:
// layers/ (Keras 3, tf.keras 2.15 and later), or
// _layer_checkpoint_dependencies/ (tf.keras 2.13 and 2.14, whose saver
// walked the model's attributes in dir() order, where that one sorts
// before layers); "" for neither, a subclassed model's attributes.
func (t *tree) container(model string) string {
	for _, c := range []string{"layers", checkpointDeps} {
		if t.has(model + "/" + c) {
			return c
		}
	}
	return ""
}

func statAll(s store.Store, group string, names []string) ([]Var, error) {
	vars := make([]Var, 0, len(names))
	for _, n := range names {
		p := path.Join(group, n)
		shape, dtype, err := s.DatasetShape(p)
		if errors.Is(err, fs.ErrNotExist) {
			// Listed in weight_names but not stored: a broken file, which
			// check reports and weights shows.
			vars = append(vars, Var{Path: p, Missing: true})
			continue
		}
		if err != nil {
			return nil, err
		}
		vars = append(vars, Var{Path: p, Shape: shape, DType: dtype})
	}
	return vars, nil
}

// sortNumerically orders Keras 3 variable names "0", "1", ..., "10", which
// HDF5 lists in name order ("0", "1", "10", "2").
func sortNumerically(names []string) {
	sort.SliceStable(names, func(i, j int) bool {
		a, errA := strconv.Atoi(names[i])
		b, errB := strconv.Atoi(names[j])
		if errA != nil || errB != nil {
			return names[i] < names[j]
		}
		return a < b
	})
}

// readStringList reads a string list attribute that Keras may have split
// into name0, name1, ... when it outgrew HDF5's 64 KiB object header
// (save_attributes_to_hdf5_group).
func readStringList(s store.Store, obj, name string) ([]string, error) {
	if ok, err := s.HasAttr(obj, name); err != nil {
		return nil, err
	} else if ok {
		return s.StringsAttr(obj, name)
	}
	var all []string
	for i := 0; ; i++ {
		part := name + strconv.Itoa(i)
		ok, err := s.HasAttr(obj, part)
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		v, err := s.StringsAttr(obj, part)
		if err != nil {
			return nil, err
		}
		all = append(all, v...)
	}
	if all == nil {
		return nil, &fs.PathError{Op: "read attribute", Path: obj + "@" + name, Err: fs.ErrNotExist}
	}
	return all, nil
}

func baseName(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return p
}
