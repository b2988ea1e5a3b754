package keras

import "github.com/tidwall/gjson"

// modelLayer is a whole model used as a layer of another model. Its
// weights are all of its layers' weights; Keras counts them in the outer
// model's totals, trainable only where the inner layer and the inner model
// are both trainable.
type modelLayer struct {
	obj   gjson.Result // the serialized model, to rebuild it on a new input
	model *Model
	depth int
}

func (l *modelLayer) build(in []Shape) ([]WeightSpec, error) {
	// A Sequential model saved without an input shape is built by its
	// first call: decode it again with the caller's input shape.
	if l.model.Class == "Sequential" && l.model.Input == nil && len(in) == 1 {
		m, err := decodeSequentialInput(l.obj, in[0], l.depth)
		if err != nil {
			return nil, err
		}
		*l.model = *m
	}
	return modelWeights(l.model), nil
}

func (l *modelLayer) outputShapes(in []Shape) ([]Shape, error) {
	outs := make([]Shape, len(l.model.Outputs))
	for i, r := range l.model.Outputs {
		outs[i] = r.Shape()
		if outs[i] == nil {
			return nil, nil
		}
		outs[i] = outs[i].Clone()
	}
	return outs, nil
}

// modelWeights lists every weight of a model's layers, layer by layer,
// with the trainable flag Keras would give it as part of this model.
func modelWeights(m *Model) []WeightSpec {
	var w []WeightSpec
	for _, l := range m.Layers {
		for _, s := range l.Weights {
			s.Trainable = s.Trainable && l.Trainable && m.Trainable
			w = append(w, s)
		}
	}
	return w
}

// decodeSequentialInput decodes a serialized Sequential model as if its
// config named the input shape in.
func decodeSequentialInput(obj gjson.Result, in Shape, depth int) (*Model, error) {
	return decodeSequentialWith(obj.Get("config"), obj.Get("build_config"), depth, in)
}
