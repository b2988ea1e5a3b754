package keras

import (
	"fmt"
	"slices"
	"strings"

	"github.com/tidwall/gjson"
)

// The attention layers MultiHeadAttention, Attention and AdditiveAttention
// (keras/src/layers/attention/*.py; tf_keras layers/attention).
//
// MultiHeadAttention is called on query, value and an optional key (key
// defaults to value), in that order. It builds EinsumDense sublayers from
// equations it generates (_build_proj_equation), so its weights come from
// analyzeEinsum too. With H = num_heads, K = key_dim, V = value_dim
// (default K), Dq, Dk, Dv the inputs' last dimensions and O = output_shape
// (default Dq), in Keras's order:
//
//	query kernel (Dq, H, K), bias (H, K)
//	key   kernel (Dk, H, K), bias (H, K)
//	gate  kernel (Dq, H, V), bias (H, V)   Keras 3 use_gate only
//	value kernel (Dv, H, V), bias (H, V)
//	attention_output kernel (H, V, O...), bias (O...)
//
// without the biases when use_bias is false. The output is the query's
// shape with O for its last dimension. value and key must agree on every
// dimension but the batch and the last.
//
// Attention and AdditiveAttention are called on [query, value] or
// [query, value, key]; the output is the query's shape with value's last
// dimension. Attention: scale, a scalar, with use_scale; Keras 3 score_mode
// "concat" adds concat_score_weight, a scalar. AdditiveAttention: scale
// (dim,) with use_scale (default true), dim the query's last dimension.
//
// return_attention_scores is a call argument, not a config key, so the
// scores output is not modeled here (the forward pass, in
// attention_forward.go, returns it).
//
// Keys used: num_heads, key_dim, value_dim, use_bias, output_shape,
// use_gate, attention_axes, sliding_window, use_scale, score_mode, causal.
// Ignored: dropout, seed, flash_attention and the initializers,
// regularizers and constraints, which only matter in training.

type multiHeadAttention struct {
	heads, keyDim, valueDim int
	useBias, useGate        bool
	output                  Shape // nil: the query's last dimension
	attentionAxes           []int // nil: every axis but batch and features
	slidingWindow           int   // Keras 3: 0 for none
}

func newMultiHeadAttention(d *decoder) (layerKind, error) {
	l := &multiHeadAttention{
		heads:   d.int(0, "num_heads"),
		keyDim:  d.int(0, "key_dim"),
		useBias: d.boolean(true, "use_bias"),
		useGate: d.boolean(false, "use_gate"),
	}
	l.valueDim = d.int(l.keyDim, "value_dim")
	l.attentionAxes = readAxes(d, nil, "attention_axes")
	if d.has("sliding_window") {
		if l.slidingWindow = d.int(0, "sliding_window"); l.slidingWindow <= 0 {
			l.slidingWindow = -1 // refused by cannotRun
		}
	}
	for _, v := range []struct {
		key string
		n   int
	}{{"num_heads", l.heads}, {"key_dim", l.keyDim}, {"value_dim", l.valueDim}} {
		if d.err == nil && v.n <= 0 {
			d.fail(v.key, "got %d, want a positive integer", v.n)
		}
	}
	switch r := d.cfg.Get("output_shape"); {
	case r.Type == gjson.Number:
		v, ok := intValue(r)
		if !ok || v <= 0 {
			d.fail("output_shape", "got %s, want a size or a list of sizes", short(r.Raw))
		}
		l.output = Shape{v}
	case r.IsArray() && len(r.Array()) > 0:
		s, err := parseShape(r)
		if err == nil && slices.Contains(s, None) {
			err = formatErrorf("got %s, want known sizes", short(r.Raw))
		}
		if err != nil {
			d.fail("output_shape", "%v", err)
		}
		l.output = s
	case r.Exists() && r.Type != gjson.Null && !r.IsArray():
		d.fail("output_shape", "got %s, want a size or a list of sizes", short(r.Raw))
	}
	return l, nil
}

// projEquation is _build_proj_equation: an einsum equation projecting free
// dimensions through bound ones to output ones, its bias axes and the rank
// of its output.
func projEquation(free, bound, output int) (einsumEq, string, int) {
	const letters = "abcdefghijklmnopqrstuvwxyz"
	var in, kernel, out strings.Builder
	i := 0
	for range free {
		in.WriteByte(letters[i])
		out.WriteByte(letters[i])
		i++
	}
	for range bound {
		in.WriteByte(letters[i])
		kernel.WriteByte(letters[i])
		i++
	}
	bias := ""
	for range output {
		kernel.WriteByte(letters[i])
		out.WriteByte(letters[i])
		bias += letters[i : i+1]
		i++
	}
	return einsumEq{input: in.String(), kernel: kernel.String(), output: out.String()}, bias, free + output
}

// project returns the weights of one EinsumDense sublayer of
// MultiHeadAttention, which maps the free dimensions of its input through
// bound ones to last, and its output shape.
func (l *multiHeadAttention) project(name string, in Shape, free, bound int, last Shape) ([]WeightSpec, Shape, error) {
	// Keras names einsum dimensions by the 26 lowercase letters.
	if free+bound+len(last) > 26 {
		return nil, nil, formatErrorf("input shape %s has too high a rank", in)
	}
	eq, biasAxes, rank := projEquation(free, bound, len(last))
	// _get_output_shape: unknown sizes, then last.
	partial := make(Shape, max(rank-1, len(last)))
	for i := range partial {
		partial[i] = None
	}
	copy(partial[len(partial)-len(last):], last)
	var b *string
	if l.useBias {
		b = &biasAxes
	}
	kernel, bias, out, err := analyzeEinsum(eq, b, in, partial)
	if err != nil {
		return nil, nil, err
	}
	w := []WeightSpec{{Name: name + "/kernel", Shape: kernel, Trainable: true}}
	if bias != nil {
		w = append(w, WeightSpec{Name: name + "/bias", Shape: bias, Trainable: true})
	}
	return w, out, nil
}

// inputs returns query, value and key, checking what Keras checks.
func (l *multiHeadAttention) inputs(in []Shape) (q, v, k Shape, err error) {
	if len(in) != 2 && len(in) != 3 {
		return nil, nil, nil, formatErrorf("called on %d inputs, want query, value and an optional key", len(in))
	}
	q, v, k = in[0], in[1], in[len(in)-1]
	for _, s := range []Shape{q, v, k} {
		if err := wantRank(s, 2, -1); err != nil {
			return nil, nil, nil, err
		}
	}
	if !v[1 : len(v)-1].Equal(k[1 : len(k)-1]) {
		return nil, nil, nil, formatErrorf("value shape %s and key shape %s differ before the last dimension", v, k)
	}
	return q, v, k, nil
}

func (l *multiHeadAttention) build(in []Shape) ([]WeightSpec, error) {
	q, v, k, err := l.inputs(in)
	if err != nil {
		return nil, err
	}
	hk, hv := Shape{l.heads, l.keyDim}, Shape{l.heads, l.valueDim}
	type proj struct {
		name string
		in   Shape
		last Shape
	}
	projs := []proj{{"query", q, hk}, {"key", k, hk}}
	if l.useGate {
		projs = append(projs, proj{"gate", q, hv})
	}
	projs = append(projs, proj{"value", v, hv})
	var all []WeightSpec
	var queryOut Shape
	for _, p := range projs {
		w, out, err := l.project(p.name, p.in, len(p.in)-1, 1, p.last)
		if err != nil {
			return nil, err
		}
		if p.name == "query" {
			queryOut = out
		}
		all = append(all, w...)
	}
	// The output projection reads the attention result: the query
	// projection's output with value_dim channels per head.
	attn := queryOut.Clone()
	attn[len(attn)-1] = l.valueDim
	w, _, err := l.project("attention_output", attn, len(q)-1, 2, l.outputLast(q))
	if err != nil {
		return nil, err
	}
	return append(all, w...), nil
}

func (l *multiHeadAttention) outputLast(q Shape) Shape {
	if l.output != nil {
		return l.output
	}
	return q[len(q)-1:]
}

func (l *multiHeadAttention) outputShapes(in []Shape) ([]Shape, error) {
	q, _, _, err := l.inputs(in)
	if err != nil {
		return nil, err
	}
	out := append(q[:len(q)-1].Clone(), l.outputLast(q)...)
	return []Shape{out}, nil
}

// dotAttention is Attention (Luong) and AdditiveAttention (Bahdanau).
type dotAttention struct {
	additive bool
	useScale bool
	concat   bool // score_mode "concat"
	causal   bool // tf.keras's deprecated causal argument
}

func newAttention(d *decoder) (layerKind, error) {
	l := &dotAttention{useScale: d.boolean(false, "use_scale"), causal: d.boolean(false, "causal")}
	switch mode := d.str("dot", "score_mode"); mode {
	case "dot":
	case "concat":
		l.concat = true
	default:
		d.fail("score_mode", "got %q, want dot or concat", mode)
	}
	return l, nil
}

func newAdditiveAttention(d *decoder) (layerKind, error) {
	return &dotAttention{additive: true, useScale: d.boolean(true, "use_scale"), causal: d.boolean(false, "causal")}, nil
}

func (l *dotAttention) build(in []Shape) ([]WeightSpec, error) {
	if len(in) != 2 && len(in) != 3 {
		return nil, formatErrorf("called on %d inputs, want [query, value] or [query, value, key]", len(in))
	}
	var w []WeightSpec
	switch {
	case l.additive && l.useScale:
		dim, err := lastDim(in[0])
		if err != nil {
			return nil, err
		}
		w = append(w, WeightSpec{Name: "scale", Shape: Shape{dim}, Trainable: true})
	case l.useScale:
		w = append(w, WeightSpec{Name: "scale", Shape: Shape{}, Trainable: true})
	}
	if l.concat {
		w = append(w, WeightSpec{Name: "concat_score_weight", Shape: Shape{}, Trainable: true})
	}
	return w, nil
}

func (l *dotAttention) outputShapes(in []Shape) ([]Shape, error) {
	if len(in) != 2 && len(in) != 3 {
		return nil, formatErrorf("called on %d inputs, want [query, value] or [query, value, key]", len(in))
	}
	q, v := in[0], in[1]
	if len(q) == 0 || len(v) == 0 {
		return nil, formatErrorf("inputs of shapes %s and %s: want rank at least 1", q, v)
	}
	out := append(q[:len(q)-1].Clone(), v[len(v)-1])
	return []Shape{out}, nil
}

// explain: four projections (five with the gate), each an EinsumDense:
// query, key and value map their input's last dimension to num_heads ×
// key_dim (value_dim for value), and the output maps the heads back to
// the output size; each adds a bias of its output's shape.
func (l *multiHeadAttention) explain(class string, in []Shape) (*formula, error) {
	q, v, k, err := l.inputs(in)
	if err != nil {
		return nil, err
	}
	dq, dk, dv := q[len(q)-1], k[len(k)-1], v[len(v)-1]
	if dq < 0 || dk < 0 || dv < 0 {
		return nil, formatErrorf("unknown input dimension")
	}
	h := l.heads
	type proj struct {
		name   string
		kernel []int
		bias   []int
	}
	projs := []proj{
		{"query", []int{dq, h, l.keyDim}, []int{h, l.keyDim}},
		{"key", []int{dk, h, l.keyDim}, []int{h, l.keyDim}},
	}
	if l.useGate {
		projs = append(projs, proj{"gate", []int{dq, h, l.valueDim}, []int{h, l.valueDim}})
	}
	projs = append(projs, proj{"value", []int{dv, h, l.valueDim}, []int{h, l.valueDim}})
	out := l.outputLast(q)
	projs = append(projs, proj{"output", append([]int{h, l.valueDim}, out...), out})
	var terms []Term
	parts := make([]string, len(projs))
	counts := make([]string, len(projs))
	for i, p := range projs {
		pt := []Term{newTerm(p.name+" kernel", true, p.kernel...)}
		if l.useBias {
			pt = append(pt, newTerm(p.name+" bias", true, p.bias...))
			parts[i] = p.name + " (" + dims(p.kernel...) + " + " + dims(p.bias...) + ")"
		} else {
			parts[i] = p.name + " " + dims(p.kernel...)
		}
		counts[i] = num(sumTerms(pt))
		terms = append(terms, pt...)
	}
	head := fmt.Sprintf("%s(%s heads, key dim %s", class, num(h), num(l.keyDim))
	if l.valueDim != l.keyDim {
		head += ", value dim " + num(l.valueDim)
	}
	head += "), query " + num(dq) + ", key " + num(dk) + ", value " + num(dv)
	body := strings.Join(parts, " + ") + " = " + strings.Join(counts, " + ") + " = " + num(sumTerms(terms))
	return &formula{head: head, body: body, terms: terms}, nil
}

// explain: Attention's optional learned scalar scale (and concat score
// weight); AdditiveAttention's optional scale per query feature.
func (l *dotAttention) explain(class string, in []Shape) (*formula, error) {
	if len(in) != 2 && len(in) != 3 {
		return nil, formatErrorf("called on %d inputs", len(in))
	}
	var terms []Term
	switch {
	case l.additive && l.useScale:
		dim, err := lastDim(in[0])
		if err != nil {
			return nil, err
		}
		terms = append(terms, newTerm("scale", true, dim).noted("one per query feature"))
	case l.useScale:
		terms = append(terms, newTerm("scale", true).noted("a learned scalar multiplying the scores"))
	}
	if l.concat {
		terms = append(terms, newTerm("concat score weight", true))
	}
	var args []string
	if l.useScale {
		args = append(args, "use_scale")
	}
	if l.concat {
		args = append(args, `score_mode "concat"`)
	}
	head := class
	if len(args) > 0 {
		head += "(" + strings.Join(args, ", ") + ")"
	}
	if len(terms) == 0 {
		return &formula{head: head, body: "no weights"}, nil
	}
	return &formula{head: head, body: equation(terms), terms: terms}, nil
}
