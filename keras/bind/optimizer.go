package bind

import (
	"errors"
	"io/fs"

	"github.com/kerascope/kerascope/keras/store"
)

// Optimizer lists the optimizer state stored in the file, in the order
// Keras stores it; nil when the file holds none.
func Optimizer(s store.Store, layout Layout) ([]Var, error) {
	if s == nil {
		return nil, nil
	}
	switch layout {
	case LegacyModel:
		names, err := readStringList(s, "/optimizer_weights", "weight_names")
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		return statAll(s, "/optimizer_weights", names)
	case Saved:
		_, datasets, err := s.Children("/optimizer/vars")
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		sortNumerically(datasets)
		return statAll(s, "/optimizer/vars", datasets)
	}
	return nil, nil
}

// HasOptimizer reports whether a legacy .h5 lists optimizer weights.
func HasOptimizer(s store.Store) bool {
	ok, err := s.HasAttr("/optimizer_weights", "weight_names")
	return err == nil && ok
}
