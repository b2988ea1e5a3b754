package keras

import (
	"errors"

	"github.com/tidwall/gjson"
)

// errSubclassed marks a model config without a layer graph: a subclassed
// model, whose layers only its Python code knows.
type errSubclassed struct{ class string }

func (e *errSubclassed) Error() string {
	return "model class " + e.class + " is a subclassed model: its config has no layer graph"
}

// incomplete reports whether the config alone does not tell a layer's
// weights: its class is unknown, its input shape is (because an unknown
// layer feeds it), or it is a nested model holding such a layer.
func incomplete(l *Layer) bool {
	if !l.Built {
		return true
	}
	if l.Model != nil {
		for _, inner := range l.Model.Layers {
			if incomplete(inner) {
				return true
			}
		}
	}
	return false
}

// bindUnknown gives each top-level layer whose weights the config does not
// tell the weights the file stores for it, so its parameters still count:
// by layer name in a legacy .h5, by the group Keras 3 names after its class
// in a weights store.
func (f *File) bindUnknown() error {
	need := false
	for _, l := range f.Model.Layers {
		need = need || incomplete(l)
	}
	if !need || f.Store == nil {
		return nil
	}
	stored, err := f.StoredLayers()
	if err != nil {
		return err
	}
	byKey := make(map[string]StoredLayer, len(stored))
	for _, s := range stored {
		key := s.Name
		if f.Format != FormatH5 {
			key = s.Path[len(s.Path)-len(baseName(s.Path)):]
		}
		byKey[key] = s
	}
	paths := storePaths(f.Model.Layers)
	for i, l := range f.Model.Layers {
		if !incomplete(l) {
			continue
		}
		key := l.Name
		if f.Format != FormatH5 {
			key = paths[i]
		}
		s, ok := byKey[key]
		if !ok {
			continue
		}
		l.Weights = storedSpecs(s)
		l.Built = true
		l.WeightsFromFile = true
		l.stored = s.Path
	}
	return nil
}

func storedSpecs(s StoredLayer) []WeightSpec {
	w := make([]WeightSpec, len(s.Weights))
	for i, v := range s.Weights {
		w[i] = WeightSpec{Name: baseName(v.Path), Shape: v.Shape, Trainable: true, DType: v.DType}
	}
	return w
}

func baseName(p string) string {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] == '/' {
			return p[i+1:]
		}
	}
	return p
}

// subclassedModel describes a subclassed model from its stored weights:
// one row per stored layer, with unknown class and shapes.
func (f *File) subclassedModel(class string) (*Model, error) {
	m := &Model{Name: snakeCase(class), Class: class, Trainable: true, Subclassed: true}
	if n := gjson.GetBytes(f.Config, "config.name"); n.Type == gjson.String && n.Str != "" {
		m.Name = n.Str
	}
	stored, err := f.StoredLayers()
	if err != nil {
		return nil, err
	}
	for _, s := range stored {
		l := &Layer{Name: s.Name, Class: "?", Trainable: true, impl: unknownLayer{}}
		l.Weights = storedSpecs(s)
		l.Built = true
		l.WeightsFromFile = true
		l.stored = s.Path
		m.Layers = append(m.Layers, l)
	}
	return m, nil
}

// decodeFileModel decodes the file's config and fills in what only the
// stored weights can tell.
func (f *File) decodeFileModel() error {
	m, err := Decode(f.Config)
	var sub *errSubclassed
	if errors.As(err, &sub) {
		m, err = f.subclassedModel(sub.class)
		if err != nil {
			return err
		}
		f.Model = m
		return nil
	}
	if err != nil {
		return err
	}
	f.Model = m
	return f.bindUnknown()
}
