package keras

import (
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
)

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

// explain: a nested model's parameters are its layers', each counted once
// however often the model calls it; every layer is explained on its own.
func (l *modelLayer) explain(class string, _ []Shape) (*formula, error) {
	m := l.model
	layers := m.Explain()
	var terms []Term
	var parts []string
	for _, e := range layers {
		for _, t := range e.Terms {
			t.Label = e.Layer + "/" + t.Label
			t.Trainable = t.Trainable && m.Trainable
			terms = append(terms, t)
		}
		if e.Total > 0 {
			parts = append(parts, e.Layer+" "+num(e.Total))
		}
	}
	head := "nested " + class + " model \"" + m.Name + "\" of " + strconv.Itoa(len(m.Layers)) + " layers"
	if len(parts) == 0 {
		return &formula{head: head, body: "no weights", layers: layers}, nil
	}
	total := sumTerms(terms)
	body := strings.Join(parts, " + ") + " = " + num(total)
	switch nt := nonTrainable(terms); {
	case !m.Trainable:
		body += ", all non-trainable (the model is frozen)"
	case nt == total:
		body += ", all non-trainable"
	case nt > 0:
		body += ", of which " + num(nt) + " non-trainable"
	}
	return &formula{head: head, body: body, terms: terms, layers: layers}, nil
}

// forward runs the inner model's graph on the call's inputs, masks
// included, with the weights its layers were given at load.
func (l *modelLayer) forward(c *call) error {
	out, masks, err := c.net.runModel(l.model, c.in, c.masks, c.ar)
	if err != nil {
		return err
	}
	c.out, c.outMasks = out, masks
	return nil
}
