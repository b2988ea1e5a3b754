package keras

import (
	"errors"
	"io/fs"
	"path"
	"sort"
	"strconv"
)

// A StoredVar describes one stored dataset without its data.
type StoredVar struct {
	Path  string
	Shape Shape
	DType string
}

// Elements returns the number of elements of the variable.
func (v StoredVar) Elements() int64 {
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
