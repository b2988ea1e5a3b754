package keras

import (
	"errors"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
)

// A StoredVar describes one stored dataset without its data.
type StoredVar struct {
	Path  string
	Shape Shape
	DType string
	// Missing reports a weight the file lists (in weight_names) but does
	// not store; Shape and DType are then empty.
	Missing bool
}

// Elements returns the number of elements of the variable.
func (v StoredVar) Elements() int64 {
	if v.Missing {
		return 0
	}
	n, _ := v.Shape.Size()
	return n
}

// OptimizerVars lists the optimizer state stored in the file, in the order
// Keras stores it; nil when the file holds none.
func (f *File) OptimizerVars() ([]StoredVar, error) {
	if f.Store == nil {
		return nil, nil
	}
	switch f.Format {
	case FormatH5:
		names, err := readStringList(f.Store, "/optimizer_weights", "weight_names")
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		return statAll(f.Store, "/optimizer_weights", names)
	case FormatKeras:
		_, datasets, err := f.Store.Children("/optimizer/vars")
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		sortNumerically(datasets)
		return statAll(f.Store, "/optimizer/vars", datasets)
	}
	return nil, nil
}

func statAll(s Store, group string, names []string) ([]StoredVar, error) {
	vars := make([]StoredVar, 0, len(names))
	for _, n := range names {
		p := path.Join(group, n)
		shape, dtype, err := s.DatasetShape(p)
		if errors.Is(err, fs.ErrNotExist) {
			// Listed in weight_names but not stored: a broken file, which
			// check reports and weights shows.
			vars = append(vars, StoredVar{Path: p, Missing: true})
			continue
		}
		if err != nil {
			return nil, err
		}
		vars = append(vars, StoredVar{Path: p, Shape: Shape(shape), DType: dtype})
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
func readStringList(s Store, obj, name string) ([]string, error) {
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

// Keras3Optimizer returns the optimizer variables Keras 3's model.summary()
// counts after load_model of this file, and false when Keras 3 would not
// show an optimizer at all.
//
//   - A .keras archive saved compiled is recompiled on load
//     (compile_from_config) and its optimizer state restored: the stored
//     variables.
//   - A legacy .h5 is recompiled from its training_config, and when the file
//     holds optimizer_weights Keras 3.15 builds the optimizer on the model's
//     own variables, which for a Sequential or Functional model are none
//     (legacy_h5_format.load_model_from_hdf5): only iterations (int64) and
//     learning_rate (float32, unless it is a schedule) exist. Recompiling
//     fails, and Keras 3 then cannot load the file compiled at all, when the
//     loss is one of the short aliases "mse", "mae", "mape", "msle", "kld",
//     which Keras 3 only knows as metric functions.
//   - A legacy .h5 from Keras 2 is taken to load uncompiled: its tf-keras
//     loss configs (MeanSquaredError with "fn") make Keras 3.15's compile
//     fail, and the fixtures show no optimizer line.
func (f *File) Keras3Optimizer() ([]StoredVar, bool, error) {
	switch f.Format {
	case FormatKeras:
		if !f.Compiled {
			return nil, false, nil
		}
		vars, err := f.OptimizerVars()
		return vars, err == nil, err
	case FormatH5:
		// Files from Keras 2 hold tf-keras loss and optimizer configs that
		// Keras 3 often cannot recompile; kerascope assumes it does not.
		if !f.Compiled || f.Store == nil || !f.IsKeras3() {
			return nil, false, nil
		}
		if ok, err := f.Store.HasAttr("/optimizer_weights", "weight_names"); err != nil || !ok {
			return nil, false, nil
		}
		tc, err := f.Store.StringAttr("/", "training_config")
		if err != nil || !gjson.Valid(tc) {
			return nil, false, nil
		}
		cfg := gjson.Parse(tc)
		if hasLossAlias(cfg.Get("loss"), 0) {
			return nil, false, nil
		}
		vars := []StoredVar{{Path: "iteration", Shape: Shape{}, DType: "int64"}}
		if lr := cfg.Get("optimizer_config.config.learning_rate"); !lr.IsObject() {
			vars = append(vars, StoredVar{Path: "learning_rate", Shape: Shape{}, DType: "float32"})
		}
		return vars, true, nil
	}
	return nil, false, nil
}

// hasLossAlias reports whether a loss config names, anywhere, a loss by an
// alias that Keras 3's losses.deserialize rejects.
func hasLossAlias(r gjson.Result, depth int) bool {
	if depth > maxNesting {
		return false
	}
	switch {
	case r.Type == gjson.String:
		switch strings.ToLower(r.Str) {
		case "mse", "mae", "mape", "msle", "kld":
			return true
		}
	case r.IsArray() || r.IsObject():
		if r.IsObject() && r.Get("class_name").Exists() {
			return false
		}
		found := false
		r.ForEach(func(_, v gjson.Result) bool {
			found = hasLossAlias(v, depth+1)
			return !found
		})
		return found
	}
	return false
}
