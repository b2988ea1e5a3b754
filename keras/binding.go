package keras

import (
	"errors"
	"fmt"

	"github.com/kerascope/kerascope/keras/bind"
	"github.com/tidwall/gjson"
)

// Where weights come from. Package bind alone knows where a file keeps
// each weight; this file describes the decoded model to it and hands its
// answer to the commands (weights, check, summary) and to the forward pass.

// errSubclassed marks a model config without a layer graph: a subclassed
// model, whose layers only its Python code knows.
type errSubclassed struct{ class string }

func (e *errSubclassed) Error() string {
	return "model class " + e.class + " is a subclassed model: its config has no layer graph"
}

// A sublayered layer kind keeps its weights in sublayers: it lists their
// attribute paths in the order it creates its weights.
type sublayered interface {
	sublayers() []string
}

// Binding returns the model's weights as the file stores them: for every
// top-level layer of the model, its weights by Keras name, each with the
// tensor stored for it, and the differences between the architecture and
// the file. For weights-only files it lists the stored groups only. It is
// computed once per File.
func (f *File) Binding() (*bind.Binding, error) {
	if f.binding != nil {
		return f.binding, nil
	}
	if f.Store == nil && f.c != nil && f.c.NPZ {
		return nil, unsupportedf("weights are stored as model.weights.npz (pickled NumPy arrays), which kerascope never unpickles")
	}
	// The binding's Layers parallel the model's: f.Model.Layers[i] is
	// described by b.Layers[i].Layer.
	var layers []*bind.Layer
	if f.Model != nil {
		for _, l := range f.Model.Layers {
			layers = append(layers, describe(l))
		}
	}
	b, err := bind.Bind(f.Store, f.Format.layout(), layers, bind.Saver{KerasVersion: f.KerasVersion, Backend: f.Backend})
	if err != nil {
		return nil, err
	}
	f.binding = b
	return b, nil
}

// describe tells the binder what a layer's architecture implies.
func describe(l *Layer) *bind.Layer {
	d := &bind.Layer{Name: l.Name, Class: l.Class, Trainable: l.Trainable,
		Unknown: l.WeightsFromFile || incomplete(l), Key: l.stored}
	for _, w := range l.Weights {
		d.Weights = append(d.Weights, bind.Spec{Name: w.Name, Shape: w.Shape, Trainable: w.Trainable, DType: w.DType})
	}
	if s, ok := l.impl.(sublayered); ok {
		d.Sublayers = s.sublayers()
	}
	if k, ok := l.impl.(interface{ keras1Layout() bind.Keras1 }); ok {
		d.Keras1 = k.keras1Layout()
	}
	if l.Model != nil {
		for _, inner := range l.Model.Layers {
			d.Layers = append(d.Layers, describe(inner))
		}
	}
	return d
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
// tell the weights the file stores for it, so its parameters still count.
func (f *File) bindUnknown() error {
	need := false
	for _, l := range f.Model.Layers {
		need = need || incomplete(l)
	}
	if !need || f.Store == nil {
		return nil
	}
	b, err := f.Binding()
	if err != nil {
		return err
	}
	for i, bd := range b.Layers {
		if !bd.Layer.Unknown || bd.Group == nil {
			continue
		}
		l := f.Model.Layers[i]
		l.Weights = specsFrom(bd.Weights)
		l.Built = true
		l.WeightsFromFile = true
	}
	return nil
}

func specsFrom(ws []bind.Weight) []WeightSpec {
	out := make([]WeightSpec, len(ws))
	for i, w := range ws {
		out[i] = WeightSpec{Name: w.Want.Name, Shape: w.Want.Shape, Trainable: true, DType: w.Want.DType}
	}
	return out
}

// subclassedModel describes a subclassed model from its stored weights:
// one row per stored group, with unknown class and shapes.
func (f *File) subclassedModel(class string) (*Model, error) {
	m := &Model{Name: bind.SnakeCase(class), Class: class, Trainable: true, Subclassed: true}
	if n := gjson.GetBytes(f.Config, "config.name"); n.Type == gjson.String && n.Str != "" {
		m.Name = n.Str
	}
	if f.Store == nil {
		_, err := f.Binding()
		return m, err
	}
	groups, err := bind.Groups(f.Store, f.Format.layout())
	if err != nil {
		return nil, err
	}
	for _, g := range groups {
		l := &Layer{Name: g.Name, Class: "?", Trainable: true, impl: unknownLayer{}, stored: g.Key}
		l.Built = true
		l.WeightsFromFile = true
		m.Layers = append(m.Layers, l)
	}
	f.Model = m
	b, err := f.Binding()
	if err != nil {
		return nil, err
	}
	for i, bd := range b.Layers {
		m.Layers[i].Weights = specsFrom(bd.Weights)
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
	nameUnnamedVariables(m, f.IsKeras3()) // applications.go
	return f.bindUnknown()
}

// readWeights reads the weights of every layer of the file's model, each
// layer's in the order of its Weights.
func (f *File) readWeights() (map[*Layer][]*Tensor, error) {
	out := make(map[*Layer][]*Tensor)
	if !needsWeights(f.Model) {
		return out, nil
	}
	b, err := f.Binding()
	if err != nil {
		return nil, err
	}
	if f.Store == nil {
		return nil, fmt.Errorf("the file stores no weights")
	}
	for i, l := range f.Model.Layers {
		if len(l.Weights) == 0 {
			continue
		}
		bd := b.Layers[i]
		if err := usable(b, bd); err != nil {
			return nil, err
		}
		ts := make([]*Tensor, len(bd.Weights))
		for i, w := range bd.Weights {
			if !bind.IsFloat(w.DType) {
				if bind.IsFloat(w.Want.DType) {
					return nil, fmt.Errorf("layer %q (%s): weight %q: dtype %s, want a float type", l.Name, l.Class, w.Name, w.DType)
				}
				continue // counters (Normalization's count): never used to compute
			}
			data, err := w.Read(f.Store)
			if err != nil {
				return nil, fmt.Errorf("layer %q (%s): weight %q: %w", l.Name, l.Class, w.Name, err)
			}
			ts[i] = &Tensor{Shape: append([]int(nil), w.Want.Shape...), Data: data}
		}
		assignWeights(l, ts, out)
	}
	return out, nil
}

// usable says why a layer's binding cannot feed its forward pass, or nil.
func usable(b *bind.Binding, bd *bind.Bound) error {
	l := bd.Layer
	switch {
	case bd.Group == nil:
		return fmt.Errorf("layer %q (%s): the file stores no weights for it, want %d", l.Name, l.Class, len(l.Weights))
	case bd.ByShape:
		return fmt.Errorf("layer %q (%s): the stored weights match the architecture's only when sorted by shape, so which is which is unknown", l.Name, l.Class)
	case bd.Weights != nil:
		return nil
	}
	for _, fd := range b.FindingsOf(l) {
		if fd.Kind == bind.Keras1Layout {
			return unsupportedf("%s", fd.Error())
		}
	}
	if fs := b.FindingsOf(l); len(fs) > 0 {
		return fs[0]
	}
	return fmt.Errorf("layer %q (%s): the file stores %d weights, want %d", l.Name, l.Class, len(bd.Group.Vars), len(l.Weights))
}

func needsWeights(m *Model) bool {
	for _, l := range m.Layers {
		if len(l.Weights) > 0 {
			return true
		}
	}
	return false
}

// assignWeights gives a layer its tensors, and a nested model's layers
// theirs, in the order modelWeights lists them.
func assignWeights(l *Layer, ts []*Tensor, out map[*Layer][]*Tensor) {
	if l.Model == nil {
		out[l] = ts
		return
	}
	for _, inner := range l.Model.Layers {
		n := len(inner.Weights)
		assignWeights(inner, ts[:n], out)
		ts = ts[n:]
	}
}

// ReadVar reads a stored variable's values as float32.
func (f *File) ReadVar(v StoredVar) ([]float32, error) {
	if f.Store == nil || v.Missing {
		return nil, formatErrorf("the file has no readable weights")
	}
	return f.Store.ReadFloat32(v.Path, v.Shape)
}

// Loadable returns nil when Keras could load the file's weights into the
// model its config describes, else the first difference that makes
// Keras refuse it: a layer stores a weight of another shape than the
// config implies, or more or fewer weights than the layer has. Keras 3
// assigns each stored array to its variable and raises on a shape or
// count mismatch (saving_lib, load_own_variables), and the legacy .h5
// loader compares counts and shapes before assigning (legacy_h5_format,
// load_weights_from_hdf5_group); testdata/bad's expected.json records
// Keras's refusal of each such fixture. A summary of such a model is one
// Keras never prints, so summary refuses it.
//
// It lives here, not in Open, because check reports the same findings
// among all the others (its report is the point), and weights lists what
// the file stores whatever the config says; each command decides, and
// both read the one binding. Layers the config does not describe (unknown
// classes) are bound to what the file stores and never mismatch.
func (f *File) Loadable() error {
	if f.Model == nil || f.Store == nil || !needsWeights(f.Model) {
		return nil
	}
	b, err := f.Binding()
	if err != nil {
		return err
	}
	for _, fd := range b.Findings {
		switch fd.Kind {
		case bind.ShapeMismatch, bind.MissingWeight, bind.UnusedWeight:
			return formatErrorf("Keras could not load the weights into this model: %w", fd)
		}
	}
	return nil
}
