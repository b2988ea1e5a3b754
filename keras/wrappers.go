package keras

import (
	"fmt"

	"github.com/tidwall/gjson"
)

// The wrapper layers Bidirectional and TimeDistributed
// (keras/src/layers/rnn/bidirectional.py, time_distributed.py), which hold
// another layer's config and own its weights.
//
// Bidirectional: the forward layer's weights, then the backward layer's
// (a copy of the forward config unless backward_layer is given). Outputs
// are merged by merge_mode: "concat" doubles the last dimension; "sum",
// "mul" and "ave" keep it; null returns both. With return_state the
// forward states then the backward states follow.
//
// TimeDistributed: the inner layer's weights, built on the shape of one
// time step; every output gets the time axis back.

type bidirectional struct {
	forward, backward *Layer
	mergeMode         string // "" for None
}

func newBidirectional(d *decoder) (layerKind, error) {
	fwd, err := d.sub(d.cfg.Get("layer"))
	if err != nil {
		return nil, fmt.Errorf("config.layer: %w", err)
	}
	bwd := fwd
	if r := d.cfg.Get("backward_layer"); r.IsObject() {
		if bwd, err = d.sub(r); err != nil {
			return nil, fmt.Errorf("config.backward_layer: %w", err)
		}
	}
	l := &bidirectional{forward: fwd, backward: bwd, mergeMode: d.str("concat", "merge_mode")}
	if r := d.cfg.Get("merge_mode"); r.Exists() && r.Type == gjson.Null {
		l.mergeMode = "" // None: both outputs, unmerged
	}
	switch l.mergeMode {
	case "concat", "sum", "mul", "ave", "":
	default:
		d.fail("merge_mode", "got %q, want concat, sum, mul, ave or null", l.mergeMode)
	}
	return l, nil
}

func (l *bidirectional) build(in []Shape) ([]WeightSpec, error) {
	fw, err := l.forward.impl.build(in[:1])
	if err != nil {
		return nil, fmt.Errorf("forward layer: %w", err)
	}
	bw, err := l.backward.impl.build(in[:1])
	if err != nil {
		return nil, fmt.Errorf("backward layer: %w", err)
	}
	return append(append([]WeightSpec(nil), fw...), bw...), nil
}

func (l *bidirectional) outputShapes(in []Shape) ([]Shape, error) {
	fo, err := l.forward.impl.outputShapes(in[:1])
	if err != nil {
		return nil, err
	}
	bo, err := l.backward.impl.outputShapes(in[:1])
	if err != nil {
		return nil, err
	}
	if fo == nil || bo == nil || len(fo[0]) != len(bo[0]) {
		return nil, formatErrorf("forward and backward layers give outputs of different ranks")
	}
	var outs []Shape
	switch l.mergeMode {
	case "":
		outs = []Shape{fo[0], bo[0]}
	case "concat":
		o := fo[0].Clone()
		o[len(o)-1] = fo[0][len(o)-1] + bo[0][len(o)-1]
		outs = []Shape{o}
	default:
		outs = []Shape{fo[0]}
	}
	outs = append(outs, fo[1:]...)
	return append(outs, bo[1:]...), nil
}

type timeDistributed struct{ inner *Layer }

func newTimeDistributed(d *decoder) (layerKind, error) {
	inner, err := d.sub(d.cfg.Get("layer"))
	if err != nil {
		return nil, fmt.Errorf("config.layer: %w", err)
	}
	return &timeDistributed{inner: inner}, nil
}

// step removes the time axis: (batch, time, ...) -> (batch, ...).
func step(in []Shape) ([]Shape, error) {
	out := make([]Shape, len(in))
	for i, s := range in {
		if err := wantRank(s, 3, -1); err != nil {
			return nil, err
		}
		out[i] = append(Shape{s[0]}, s[2:]...)
	}
	return out, nil
}

func (l *timeDistributed) build(in []Shape) ([]WeightSpec, error) {
	st, err := step(in)
	if err != nil {
		return nil, err
	}
	return l.inner.impl.build(st)
}

func (l *timeDistributed) outputShapes(in []Shape) ([]Shape, error) {
	st, err := step(in)
	if err != nil {
		return nil, err
	}
	outs, err := l.inner.impl.outputShapes(st)
	if err != nil || outs == nil {
		return nil, err
	}
	for i, o := range outs {
		if len(o) == 0 {
			return nil, formatErrorf("wrapped layer gives a scalar output")
		}
		outs[i] = append(Shape{o[0], in[0][1]}, o[1:]...)
	}
	return outs, nil
}

// explain: Bidirectional runs two copies of its layer, forward and
// backward, each with weights of its own: twice the layer's, or forward
// plus backward when backward_layer differs.
func (l *bidirectional) explain(_ string, in []Shape) (*formula, error) {
	if len(in) < 1 {
		return nil, wantInputs(in, 1)
	}
	fw, err := explainLayer(l.forward, in[:1])
	if err != nil {
		return nil, err
	}
	bw, err := explainLayer(l.backward, in[:1])
	if err != nil {
		return nil, err
	}
	terms := append(prefixed("forward ", fw.terms), prefixed("backward ", bw.terms)...)
	nf, nb := sumTerms(fw.terms), sumTerms(bw.terms)
	if fw.head == bw.head && fw.body == bw.body {
		if nf == 0 {
			return &formula{head: "forward and backward " + fw.head, body: "no weights"}, nil
		}
		return &formula{
			head:  "forward and backward " + fw.head,
			body:  "2 × (" + termsText(fw.terms) + ") = 2 × " + num(nf) + " = " + num(nf+nb),
			terms: terms,
		}, nil
	}
	return &formula{
		body:  "forward " + fw.head + ": " + fw.body + "; backward " + bw.head + ": " + bw.body + "; " + num(nf) + " + " + num(nb) + " = " + num(nf+nb),
		terms: terms,
	}, nil
}

// explain: TimeDistributed applies its layer at every time step with the
// same weights: the layer's, on one step's shape.
func (l *timeDistributed) explain(_ string, in []Shape) (*formula, error) {
	st, err := step(in)
	if err != nil {
		return nil, err
	}
	f, err := explainLayer(l.inner, st)
	if err != nil {
		return nil, err
	}
	if sumTerms(f.terms) == 0 {
		return &formula{body: "no weights", layers: f.layers}, nil
	}
	inner := f.head
	if inner == "" {
		inner = l.inner.Class
	}
	return &formula{head: "the same " + inner + ", at every time step", body: f.body, terms: f.terms, layers: f.layers}, nil
}
