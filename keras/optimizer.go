package keras

import (
	"strings"

	"github.com/kerascope/kerascope/keras/bind"
	"github.com/tidwall/gjson"
)

// A StoredVar describes one stored dataset without its data.
type StoredVar = bind.Var

// OptimizerVars lists the optimizer state stored in the file, in the order
// Keras stores it; nil when the file holds none.
func (f *File) OptimizerVars() ([]StoredVar, error) {
	return bind.Optimizer(f.Store, f.Format.layout())
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
		if !bind.HasOptimizer(f.Store) {
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
		vars := []StoredVar{{Path: "iteration", Shape: []int{}, DType: "int64"}}
		if lr := cfg.Get("optimizer_config.config.learning_rate"); !lr.IsObject() {
			vars = append(vars, StoredVar{Path: "learning_rate", Shape: []int{}, DType: "float32"})
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
