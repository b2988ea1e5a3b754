package bind

import (
	"errors"
	"io/fs"
	"path"
	"slices"
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
		if g == "layers" || g == "vars" || g == checkpointDeps {
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
	return storeGroups(s)
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

// storeGroups walks a store: one Group per group under layers/ (or
// _layer_checkpoint_dependencies/), each with every variable in its
// subtree.
func storeGroups(s store.Store) ([]Group, error) {
	top, _, err := s.Children("/")
	if err != nil {
		return nil, err
	}
	var groups []Group
	for _, t := range []string{"layers", checkpointDeps} {
		if !slices.Contains(top, t) {
			continue
		}
		children, _, err := s.Children("/" + t)
		if err != nil {
			return nil, err
		}
		for _, c := range children {
			g, err := storeGroup(s, "/"+t+"/"+c, c)
			if err != nil {
				return nil, err
			}
			groups = append(groups, g)
		}
		return groups, nil
	}
	// Files written on Windows name the groups `layers\dense` at the root;
	// subclassed models keep their layers under their attribute names.
	for _, t := range top {
		if t == "optimizer" || t == "vars" {
			continue
		}
		key := strings.TrimPrefix(strings.TrimPrefix(t, `layers\`), checkpointDeps+`\`)
		g, err := storeGroup(s, "/"+t, strings.ReplaceAll(key, `\`, "/"))
		if err != nil {
			return nil, err
		}
		groups = append(groups, g)
	}
	return groups, nil
}

func storeGroup(s store.Store, group, key string) (Group, error) {
	g := Group{Name: key, Path: group, Key: key}
	if name, err := s.StringAttr(group+"/vars", "name"); err == nil && name != "" {
		g.Name = name
	}
	err := walkVars(s, group, &g.Vars, 0)
	return g, err
}

// maxDepth bounds the nesting of groups walked in a store, against files
// whose groups nest without end.
const maxDepth = 128

// walkVars collects the datasets of every vars group in a subtree, a
// group's own variables first, in numeric order.
func walkVars(s store.Store, group string, vars *[]Var, depth int) error {
	if depth > maxDepth {
		return store.Formatf("%s: groups nested too deep", group)
	}
	groups, _, err := s.Children(group)
	if err != nil {
		return err
	}
	if slices.Contains(groups, "vars") {
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
