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
	fwd, bwd  *Layer
	mergeMode string // "" for None
	nf        int    // the forward layer's weights, set by build
}

func newBidirectional(d *decoder) (layerKind, error) {
	fwd, err := d.sub(d.cfg.Get("layer"))
	if err != nil {
		return nil, fmt.Errorf("config.layer: %w", err)
	}
	var bwd *Layer
	if r := d.cfg.Get("backward_layer"); r.IsObject() {
		if bwd, err = d.sub(r); err != nil {
			return nil, fmt.Errorf("config.backward_layer: %w", err)
		}
	} else {
		// Keras 2 writes backward_layer only when it was given: the
		// backward layer is then the forward one's config with
		// go_backwards flipped (Keras 3 always writes both).
		if bwd, err = d.sub(d.cfg.Get("layer")); err != nil {
			return nil, fmt.Errorf("config.layer: %w", err)
		}
		if r, ok := bwd.impl.(*rnn); ok {
			r.goBackwards = !r.goBackwards
		}
	}
	l := &bidirectional{fwd: fwd, bwd: bwd, mergeMode: d.str("concat", "merge_mode")}
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
	if len(in) < 1 {
		return nil, wantInputs(in, 1)
	}
	fw, err := l.fwd.impl.build(in[:1])
	if err != nil {
		return nil, fmt.Errorf("forward layer: %w", err)
	}
	bw, err := l.bwd.impl.build(in[:1])
	if err != nil {
		return nil, fmt.Errorf("backward layer: %w", err)
	}
	l.nf = len(fw)
	return append(append([]WeightSpec(nil), fw...), bw...), nil
}

func (l *bidirectional) outputShapes(in []Shape) ([]Shape, error) {
	if len(in) < 1 {
		return nil, wantInputs(in, 1)
	}
	fo, err := l.fwd.impl.outputShapes(in[:1])
	if err != nil {
		return nil, err
	}
	bo, err := l.bwd.impl.outputShapes(in[:1])
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
	fw, err := explainLayer(l.fwd, in[:1])
	if err != nil {
		return nil, err
	}
	bw, err := explainLayer(l.bwd, in[:1])
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

// cannotRun: Bidirectional runs recurrent layers only (Keras accepts any
// layer with go_backwards and return_sequences, which in practice means
// an RNN).
func (l *bidirectional) cannotRun() string {
	for _, s := range []*Layer{l.fwd, l.bwd} {
		r, ok := s.impl.(*rnn)
		if !ok {
			return "Bidirectional over " + s.Class + " has no native forward pass"
		}
		if reason := r.cannotRun(); reason != "" {
			return s.Class + ": " + reason
		}
	}
	return ""
}

// sublayers: Keras 3 stores the two layers as forward_layer and
// backward_layer, which HDF5 lists backward first.
func (l *bidirectional) sublayers() []string {
	var out []string
	out = append(out, prefixGroups("forward_layer", l.fwd)...)
	return append(out, prefixGroups("backward_layer", l.bwd)...)
}

// prefixGroups lists a sublayer's weight groups under its attribute name.
func prefixGroups(attr string, l *Layer) []string {
	g, ok := l.impl.(sublayered)
	if !ok {
		return []string{attr}
	}
	inner := g.sublayers()
	if len(inner) == 0 {
		return []string{attr}
	}
	out := make([]string, len(inner))
	for i, p := range inner {
		out[i] = attr + "/" + p
	}
	return out
}

// sublayers: the wrapped layer's weights live under "layer".
func (l *timeDistributed) sublayers() []string { return prefixGroups("layer", l.inner) }

// cannotRun: the wrapped layer must run.
func (l *timeDistributed) cannotRun() string {
	if reason := runReason(l.inner); reason != "" {
		return l.inner.Class + ": " + reason
	}
	return ""
}

// forward runs the forward and backward layers on the same inputs and
// merges their outputs (bidirectional.py call): the backward layer's
// output sequence is flipped back into time order first. Initial states,
// when given, are the forward layer's then the backward layer's. Both
// layers output zeros at masked steps when they return sequences, as
// Bidirectional forces zero_output_for_mask on them.
func (l *bidirectional) forward(c *call) error {
	fw, _ := l.fwd.impl.(*rnn)
	bw, _ := l.bwd.impl.(*rnn)
	if fw == nil || bw == nil {
		return errNotRunnable
	}
	x := c.in[0]
	var m mask
	if len(c.masks) > 0 {
		m = c.masks[0]
	}
	init := append(append([]*Tensor(nil), c.kwarg("initial_state")...), c.in[1:]...)
	var fInit, bInit []*Tensor
	if len(init) > 0 {
		if len(init)%2 != 0 {
			return fmt.Errorf("got %d initial states, want as many for the backward layer as for the forward one", len(init))
		}
		fInit, bInit = init[:len(init)/2], init[len(init)/2:]
	}
	if l.nf > len(c.w) {
		return fmt.Errorf("%d weights, want at least %d for the forward layer", len(c.w), l.nf)
	}
	fo, err := fw.run(c.ar, c.net.legacy, x, m, fInit, c.w[:l.nf], fw.returnSequences)
	if err != nil {
		return fmt.Errorf("forward layer: %w", err)
	}
	bo, err := bw.run(c.ar, c.net.legacy, x, m, bInit, c.w[l.nf:], bw.returnSequences)
	if err != nil {
		return fmt.Errorf("backward layer: %w", err)
	}
	y, yr := fo[0], bo[0]
	if !sameLeading(y.Shape, yr.Shape) || (l.mergeMode != "concat" && l.mergeMode != "" && len(y.Data) != len(yr.Data)) {
		return fmt.Errorf("forward output %s and backward output %s do not merge", shapeString(y.Shape), shapeString(yr.Shape))
	}
	if bw.returnSequences {
		yr = flipTime(yr)
	}
	var outs []*Tensor
	switch l.mergeMode {
	case "":
		outs = []*Tensor{y, yr}
	case "concat":
		outs = []*Tensor{concatLast(y, yr)}
	default:
		out := NewTensor(y.Shape...)
		a, b := y.Data, yr.Data
		switch l.mergeMode {
		case "sum":
			for i := range out.Data {
				out.Data[i] = a[i] + b[i]
			}
		case "mul":
			for i := range out.Data {
				out.Data[i] = a[i] * b[i]
			}
		case "ave":
			for i := range out.Data {
				out.Data[i] = (a[i] + b[i]) / 2
			}
		}
		outs = []*Tensor{out}
	}
	nOut := len(outs)
	outs = append(outs, fo[1:]...)
	c.out = append(outs, bo[1:]...)
	// The merged output keeps the input's mask when it is a sequence;
	// states never have one.
	c.outMasks = make([]mask, len(c.out))
	if fw.returnSequences {
		for i := 0; i < nOut; i++ {
			c.outMasks[i] = m
		}
	}
	return nil
}

// sameLeading reports whether two shapes agree but for the last axis.
func sameLeading(a, b []int) bool {
	if len(a) != len(b) || len(a) == 0 {
		return false
	}
	for i := range a[:len(a)-1] {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// flipTime reverses the time axis of a (batch, time, ...) tensor.
func flipTime(t *Tensor) *Tensor {
	out := NewTensor(t.Shape...)
	if len(t.Shape) < 2 || t.Shape[0] == 0 || t.Shape[1] == 0 {
		return out
	}
	steps := t.Shape[1]
	per := len(t.Data) / (t.Shape[0] * steps)
	for b := 0; b < t.Shape[0]; b++ {
		for s := 0; s < steps; s++ {
			src := (b*steps + s) * per
			dst := (b*steps + steps - 1 - s) * per
			copy(out.Data[dst:dst+per], t.Data[src:src+per])
		}
	}
	return out
}

// concatLast joins two tensors of equal leading dimensions along the last
// axis.
func concatLast(a, b *Tensor) *Tensor {
	ra, na := rows(a)
	_, nb := rows(b)
	out := newLike(a, na+nb)
	for r := 0; r < ra; r++ {
		o := out.Data[r*(na+nb):]
		copy(o[:na], a.Data[r*na:(r+1)*na])
		copy(o[na:na+nb], b.Data[r*nb:(r+1)*nb])
	}
	return out
}

// forward runs the wrapped layer once on all time steps, folded into the
// batch: (batch, time, ...) -> (batch·time, ...), the same values in the
// same order, and unfolds its outputs.
//
// Masks: the inner layer gets the input mask when it fits the folded
// input. Keras 3 passes the input mask on (TimeDistributed supports
// masking); tf-keras takes the inner layer's output mask when it computes
// one, else the input mask reduced to (batch, time).
func (l *timeDistributed) forward(c *call) error {
	x := c.in[0]
	if len(x.Shape) < 3 {
		return fmt.Errorf("input shape %s, want (batch, time, ...)", shapeString(x.Shape))
	}
	batch, steps := x.Shape[0], x.Shape[1]
	folded := &Tensor{Shape: append([]int{batch * steps}, x.Shape[2:]...), Data: x.Data}
	var m, inner mask
	if len(c.masks) > 0 {
		m = c.masks[0]
	}
	if m != nil && len(m) == maskSize(folded.Shape) {
		inner = m
	}
	outs, innerMasks, err := c.sub(l.inner.impl, []*Tensor{folded}, []mask{inner}, c.w)
	if err != nil {
		return fmt.Errorf("%s: %w", l.inner.Class, err)
	}
	if innerMasks == nil {
		if p, ok := l.inner.impl.(masker); ok && p.passesMask() {
			innerMasks = []mask{inner}
		}
	}
	c.out = make([]*Tensor, len(outs))
	c.outMasks = make([]mask, len(outs))
	for i, o := range outs {
		if len(o.Shape) == 0 || o.Shape[0] != batch*steps {
			return fmt.Errorf("%s: output shape %s, want %d samples", l.inner.Class, shapeString(o.Shape), batch*steps)
		}
		data := o.Data
		if len(data) > 0 && len(x.Data) > 0 && &data[0] == &x.Data[0] {
			data = append([]float32(nil), data...) // never hand out the input's memory
		}
		out := &Tensor{Shape: append([]int{batch, steps}, o.Shape[1:]...), Data: data}
		c.out[i] = out
		switch {
		case !c.net.legacy:
			c.outMasks[i] = m
		case i < len(innerMasks) && innerMasks[i] != nil && len(innerMasks[i]) == maskSize(out.Shape):
			c.outMasks[i] = innerMasks[i]
		case m != nil:
			c.outMasks[i] = anyPerStep(m, batch*steps)
		}
	}
	return nil
}

// maskSize is the number of flags in a mask of a tensor of this shape: one
// per element of the shape without its last axis.
func maskSize(shape []int) int {
	if len(shape) == 0 {
		return 0
	}
	return shapeLen(shape[:len(shape)-1])
}

// anyPerStep reduces a mask of n·k flags to n: whether any of each
// group of k is set.
func anyPerStep(m mask, n int) mask {
	if n == 0 || len(m)%n != 0 {
		return nil
	}
	k := len(m) / n
	out := make(mask, n)
	for i := range out {
		for _, v := range m[i*k : (i+1)*k] {
			if v {
				out[i] = true
				break
			}
		}
	}
	return out
}

func (l *bidirectional) isStateful() bool { return statefulLayer(l.fwd) || statefulLayer(l.bwd) }

func (l *timeDistributed) isStateful() bool { return statefulLayer(l.inner) }
