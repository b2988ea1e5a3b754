package keras

import (
	"fmt"
	"slices"

	"github.com/kerascope/kerascope/keras/internal/kernel"
)

// The merge layers Add, Subtract, Multiply, Average, Maximum, Minimum,
// Concatenate and Dot (keras/src/layers/merging/*.py; tf_keras
// layers/merging), and Keras 1's Merge layer (Keras 1 engine/topology.py,
// Keras 2.0 legacy/layers.py). None has weights.
//
// Shapes follow each class's compute_output_shape:
//
//	elementwise: the batch size the inputs agree on, then the inputs'
//	    other dimensions broadcast from the right
//	    (Merge._compute_elemwise_op_output_shape): a 1 takes the other
//	    size, an unknown size makes the result unknown.
//	Concatenate: the first input's shape, with the sizes along axis summed
//	    (unknown if any is unknown). Other dimensions must agree.
//	Dot: the first input without axes[0], then the second without its
//	    batch dimension and axes[1]; (batch, 1) if that leaves one
//	    dimension. normalize does not change the shape.
//	Merge: mode sum, mul, ave, max keep the first input's shape; concat
//	    as Concatenate on concat_axis; dot and cos as Dot on dot_axes. A
//	    lambda mode has the shape its output_shape gives, or an unknown
//	    one.
//
// tf.keras takes shapes from the TensorFlow ops rather than from
// compute_output_shape (see tfShapes); they know more where a size is
// unknown on one input only: broadcasting an unknown size against a known
// one above 1 gives the known one, and concat takes any input's known size.
//
// Keys used: axis, axes, mode, mode_type, concat_axis, dot_axes,
// output_shape, normalize. A Keras 1 Merge whose
// config lists the layers it merges (a branch of a Sequential model) is
// reported unsupported.

// elemwise is Add, Subtract, Multiply, Average, Maximum and Minimum.
type elemwise struct {
	inputs int  // exactly this many inputs; 0 for one or more
	tf     bool // shapes from TensorFlow's broadcasting (see tfShapes)
}

func newElemwise(d *decoder) (layerKind, error) { return elemwise{tf: tfShapes(d)}, nil }
func newSubtract(d *decoder) (layerKind, error) { return elemwise{inputs: 2, tf: tfShapes(d)}, nil }

func (elemwise) build([]Shape) ([]WeightSpec, error) { return nil, nil }

func (l elemwise) outputShapes(in []Shape) ([]Shape, error) {
	if l.inputs > 0 {
		if err := wantInputs(in, l.inputs); err != nil {
			return nil, err
		}
	}
	out, err := broadcastShapes(in, l.tf)
	if err != nil {
		return nil, err
	}
	return []Shape{out}, nil
}

// broadcastShapes is Keras 3's Merge.compute_output_shape: the batch size
// the inputs agree on, then the other dimensions broadcast. tf.keras runs
// the TensorFlow ops instead, which broadcast the batch dimension too.
func broadcastShapes(in []Shape, tf bool) (Shape, error) {
	if len(in) == 0 {
		return nil, formatErrorf("called on no inputs")
	}
	batch := None
	for _, s := range in {
		if len(s) == 0 {
			return nil, formatErrorf("input shape %s has no batch dimension", s)
		}
		if s[0] >= 0 {
			if batch >= 0 && batch != s[0] {
				return nil, formatErrorf("inputs have batch sizes %d and %d", batch, s[0])
			}
			batch = s[0]
		}
	}
	if tf {
		// tf.keras first brings the inputs to one rank by inserting 1s
		// after the batch dimension (base_merge.py call).
		rank := 0
		for _, s := range in {
			rank = max(rank, len(s))
		}
		var out Shape
		for i, s := range in {
			s = append(append(Shape{s[0]}, ones(rank-len(s))...), s[1:]...)
			if i == 0 {
				out = s
				continue
			}
			var err error
			if out, err = broadcast(out, s, true); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	out := in[0][1:]
	for _, s := range in[1:] {
		var err error
		if out, err = broadcast(out, s[1:], false); err != nil {
			return nil, err
		}
	}
	return append(Shape{batch}, out...), nil
}

// broadcast aligns two shapes on the right and broadcasts them. Keras 3
// (Merge._compute_elemwise_op_output_shape) makes a dimension unknown if
// either side's is; TensorFlow takes the known side's when it exceeds 1,
// as the unknown one must then match it.
func broadcast(a, b Shape, tf bool) (Shape, error) {
	if len(a) < len(b) {
		a, b = b, a
	}
	lead := len(a) - len(b)
	out := a[:lead].Clone()
	for k, j := range b {
		i := a[lead+k]
		switch {
		case tf && i < 0 && j > 1:
			out = append(out, j)
		case tf && j < 0 && i > 1:
			out = append(out, i)
		case i < 0 || j < 0:
			out = append(out, None)
		case i == 1:
			out = append(out, j)
		case j == 1 || i == j:
			out = append(out, i)
		default:
			return nil, formatErrorf("inputs of shapes %s and %s do not broadcast", a, b)
		}
	}
	return out, nil
}

type concatenate struct {
	axis int
	tf   bool
}

func newConcatenate(d *decoder) (layerKind, error) {
	return concatenate{axis: d.int(-1, "axis"), tf: tfShapes(d)}, nil
}

func (concatenate) build([]Shape) ([]WeightSpec, error) { return nil, nil }

func (l concatenate) outputShapes(in []Shape) ([]Shape, error) {
	out, err := concatShapes(in, l.axis, "axis", l.tf)
	if err != nil {
		return nil, err
	}
	return []Shape{out}, nil
}

// concatShapes is Concatenate.compute_output_shape, with the checks of its
// build: the same rank, and known sizes off the axis agree. Keras 3 takes
// the sizes off the axis from the first input; TensorFlow's concat takes
// any input's known size.
func concatShapes(in []Shape, axis int, key string, tf bool) (Shape, error) {
	if len(in) == 0 {
		return nil, formatErrorf("called on no inputs")
	}
	rank := len(in[0])
	a, err := resolveAxes([]int{axis}, rank, key)
	if err != nil {
		return nil, err
	}
	out := in[0].Clone()
	for _, s := range in[1:] {
		if len(s) != rank {
			return nil, formatErrorf("cannot concatenate inputs of shapes %s and %s", in[0], s)
		}
		for i := range s {
			if i == a[0] || s[i] < 0 {
				continue
			}
			if out[i] >= 0 && s[i] != out[i] {
				return nil, formatErrorf("cannot concatenate inputs of shapes %s and %s on axis %d", in[0], s, axis)
			}
			if tf {
				out[i] = s[i]
			}
		}
	}
	for _, s := range in[1:] {
		if out[a[0]] < 0 || s[a[0]] < 0 {
			out[a[0]] = None
			break
		}
		out[a[0]] += s[a[0]]
	}
	return out, nil
}

type dot struct {
	axes      []int // one axis for both inputs, or one per input
	key       string
	normalize bool
}

func newDot(d *decoder) (layerKind, error) {
	if !d.has("axes") {
		d.fail("axes", "missing")
	}
	l := decodeDotAxes(d, "axes")
	l.normalize = d.boolean(false, "normalize")
	return l, nil
}

func decodeDotAxes(d *decoder, key string) dot {
	l := dot{axes: readAxes(d, []int{-1}, key), key: key}
	if d.err == nil && len(l.axes) != 1 && len(l.axes) != 2 {
		d.fail(key, "got %d axes, want 1 or 2", len(l.axes))
	}
	return l
}

func (dot) build([]Shape) ([]WeightSpec, error) { return nil, nil }

func (l dot) outputShapes(in []Shape) ([]Shape, error) {
	out, err := l.shape(in)
	if err != nil {
		return nil, err
	}
	return []Shape{out}, nil
}

// shape is Dot.compute_output_shape, with the checks of batch_dot.
func (l dot) shape(in []Shape) (Shape, error) {
	if err := wantInputs(in, 2); err != nil {
		return nil, err
	}
	a, b := in[0], in[1]
	if len(a) < 2 || len(b) < 2 {
		return nil, formatErrorf("cannot take the dot product of inputs of shapes %s and %s: rank below 2", a, b)
	}
	ax := []int{l.axes[0], l.axes[0]}
	if len(l.axes) == 2 {
		ax[1] = l.axes[1]
	}
	for i, s := range []Shape{a, b} {
		r, err := resolveAxes(ax[i:i+1], len(s), l.key)
		if err != nil {
			return nil, err
		}
		if r[0] == 0 {
			return nil, formatErrorf("config.%s: axis 0 is the batch axis", l.key)
		}
		ax[i] = r[0]
	}
	if a[ax[0]] >= 0 && b[ax[1]] >= 0 && a[ax[0]] != b[ax[1]] {
		return nil, formatErrorf("cannot take the dot product of inputs of shapes %s and %s on axes %d and %d", a, b, ax[0], ax[1])
	}
	out := append(a[:ax[0]].Clone(), a[ax[0]+1:]...)
	out = append(out, b[1:ax[1]]...)
	out = append(out, b[ax[1]+1:]...)
	if len(out) == 1 {
		out = append(out, 1)
	}
	return out, nil
}

// legacyMerge is Keras 1's Merge layer.
type legacyMerge struct {
	mode   string
	concat int
	dot    dot
	// lambda modes: the output shape the config gives without the batch
	// dimension, or nil when unknown.
	lambdaShape Shape
}

func newLegacyMerge(d *decoder) (layerKind, error) {
	if d.has("layers") {
		return nil, unsupportedf("config.layers: a Merge of Sequential branches")
	}
	for _, a := range d.cfg.Get("dot_axes").Array() {
		if a.IsArray() {
			// Keras 1.0 contracted lists of axes, as tensordot does.
			return nil, unsupportedf("config.dot_axes: lists of axes per input")
		}
	}
	l := &legacyMerge{
		concat: d.int(-1, "concat_axis"),
		dot:    decodeDotAxes(d, "dot_axes"),
	}
	if t := d.str("raw", "mode_type"); d.err == nil && t != "raw" {
		// mode is a serialized Python function, never run here; only a
		// literal output_shape says what it returns.
		l.mode = "lambda"
		if r := d.cfg.Get("output_shape"); r.IsArray() && d.str("raw", "output_shape_type") == "raw" {
			s, err := parseShape(r)
			if err != nil {
				d.fail("output_shape", "%v", err)
			}
			l.lambdaShape = s
		}
		return l, nil
	}
	switch l.mode = d.str("sum", "mode"); l.mode {
	case "sum", "mul", "ave", "max", "concat", "dot", "cos":
	default:
		d.fail("mode", "got %q, want sum, mul, concat, ave, max, dot or cos", l.mode)
	}
	return l, nil
}

func (*legacyMerge) build([]Shape) ([]WeightSpec, error) { return nil, nil }

func (l *legacyMerge) outputShapes(in []Shape) ([]Shape, error) {
	if len(in) < 2 {
		return nil, formatErrorf("called on %d inputs, want at least 2", len(in))
	}
	var out Shape
	var err error
	switch l.mode {
	case "lambda":
		if l.lambdaShape == nil || len(in[0]) == 0 {
			return nil, nil
		}
		out = append(Shape{in[0][0]}, l.lambdaShape...)
	case "concat":
		out, err = concatShapes(in, l.concat, "concat_axis", false)
	case "dot", "cos":
		out, err = l.dot.shape(in)
	default:
		out = in[0].Clone()
	}
	if err != nil {
		return nil, err
	}
	return []Shape{out}, nil
}

func ones(n int) Shape {
	s := make(Shape, n)
	for i := range s {
		s[i] = 1
	}
	return s
}

// No merge layer has weights.

func (elemwise) explain(string, []Shape) (*formula, error)     { return noWeights(""), nil }
func (concatenate) explain(string, []Shape) (*formula, error)  { return noWeights(""), nil }
func (dot) explain(string, []Shape) (*formula, error)          { return noWeights(""), nil }
func (*legacyMerge) explain(string, []Shape) (*formula, error) { return noWeights(""), nil }

// The forward passes. Elementwise merges bring their inputs to one rank by
// inserting 1s after the batch dimension (Merge.call's expand_dims at axis
// 1), broadcast them and combine them left to right in float32, as
// TensorFlow does; Average divides the sum by the number of inputs.

type mergeOp int

const (
	opAdd mergeOp = iota
	opSubtract
	opMultiply
	opAverage
	opMaximum
	opMinimum
)

// mergeOps maps the merge classes (and Keras 1's Merge modes) to their
// operation.
var mergeOps = map[string]mergeOp{
	"Add": opAdd, "Subtract": opSubtract, "Multiply": opMultiply,
	"Average": opAverage, "Maximum": opMaximum, "Minimum": opMinimum,
	"sum": opAdd, "mul": opMultiply, "ave": opAverage, "max": opMaximum,
}

func (l elemwise) forward(c *call) error {
	op, ok := mergeOps[c.layer.Class]
	if !ok {
		return fmt.Errorf("no elementwise merge is called %s", c.layer.Class)
	}
	if l.inputs > 0 && len(c.in) != l.inputs {
		return fmt.Errorf("called on %d inputs, want %d", len(c.in), l.inputs)
	}
	out, err := mergeElemwise(op, c.in)
	if err != nil {
		return err
	}
	c.out = []*Tensor{out}
	c.outMasks = []mask{elemwiseMask(c.masks, c.net.legacy)}
	return nil
}

// mergeElemwise combines tensors elementwise with broadcasting.
func mergeElemwise(op mergeOp, in []*Tensor) (*Tensor, error) {
	if len(in) == 0 {
		return nil, fmt.Errorf("called on no inputs")
	}
	rank := 0
	for _, t := range in {
		if len(t.Shape) == 0 {
			return nil, fmt.Errorf("an input has no batch dimension")
		}
		rank = max(rank, len(t.Shape))
	}
	shapes := make([][]int, len(in))
	var outShape []int
	for i, t := range in {
		s := append(append([]int{t.Shape[0]}, ones(rank-len(t.Shape))...), t.Shape[1:]...)
		shapes[i] = s
		if i == 0 {
			outShape = append([]int(nil), s...)
			continue
		}
		for k, d := range s {
			switch {
			case d == outShape[k] || d == 1:
			case outShape[k] == 1:
				outShape[k] = d
			default:
				return nil, fmt.Errorf("inputs of shapes %s and %s do not broadcast", shapeString(in[0].Shape), shapeString(t.Shape))
			}
		}
	}
	out := NewTensor(outShape...)
	// The first input, broadcast, is the running result.
	if err := broadcastInto(out.Data, in[0].Data, shapes[0], outShape); err != nil {
		return nil, err
	}
	var tmp []float32
	for i, t := range in[1:] {
		b := t.Data
		if !slices.Equal(shapes[i+1], outShape) {
			if tmp == nil {
				tmp = make([]float32, len(out.Data))
			}
			if err := broadcastInto(tmp, t.Data, shapes[i+1], outShape); err != nil {
				return nil, err
			}
			b = tmp
		}
		combine(op, out.Data, b)
	}
	if op == opAverage {
		n := float32(len(in))
		for i := range out.Data {
			out.Data[i] /= n
		}
	}
	return out, nil
}

// combine sets a to a op b elementwise.
func combine(op mergeOp, a, b []float32) {
	b = b[:len(a)]
	switch op {
	case opAdd, opAverage:
		for i, v := range b {
			a[i] += v
		}
	case opSubtract:
		for i, v := range b {
			a[i] -= v
		}
	case opMultiply:
		for i, v := range b {
			a[i] *= v
		}
	case opMaximum:
		for i, v := range b {
			a[i] = max(a[i], v)
		}
	case opMinimum:
		for i, v := range b {
			a[i] = min(a[i], v)
		}
	}
}

// broadcastInto writes src, of shape from, broadcast to shape to (same
// rank; each of from's dimensions equal to to's or 1) into dst.
func broadcastInto(dst, src []float32, from, to []int) error {
	if len(src) != shapeLen(from) || len(dst) != shapeLen(to) {
		return fmt.Errorf("internal: broadcasting %d values of shape %s to %s", len(src), shapeString(from), shapeString(to))
	}
	if slices.Equal(from, to) {
		copy(dst, src)
		return nil
	}
	kernel.Broadcast(dst, src, from, to)
	return nil
}

// elemwiseMask is the mask of an elementwise merge: tf.keras (and Keras 1)
// keep the positions every masked input keeps; Keras 3 (Merge.compute_mask)
// has a mask only when every input has one, and keeps the positions any
// input keeps.
func elemwiseMask(masks []mask, legacy bool) mask {
	var out mask
	for _, m := range masks {
		switch {
		case m == nil && legacy:
			continue
		case m == nil:
			return nil
		case out == nil:
			out = slices.Clone(m)
		case len(m) != len(out):
			return nil // shapes Keras would reject; keep no mask
		default:
			for i, keep := range m {
				if legacy {
					out[i] = out[i] && keep
				} else {
					out[i] = out[i] || keep
				}
			}
		}
	}
	return out
}

func (l concatenate) forward(c *call) error {
	out, err := concatTensors(c.in, l.axis)
	if err != nil {
		return err
	}
	c.out = []*Tensor{out}
	c.outMasks = []mask{concatMask(c.in, c.masks, l.axis, c.net.legacy)}
	return nil
}

// concatTensors joins tensors along an axis.
func concatTensors(in []*Tensor, axis int) (*Tensor, error) {
	if len(in) == 0 {
		return nil, fmt.Errorf("called on no inputs")
	}
	rank := len(in[0].Shape)
	a, err := resolveAxes([]int{axis}, rank, "axis")
	if err != nil {
		return nil, err
	}
	ax := a[0]
	shape := slices.Clone(in[0].Shape)
	shape[ax] = 0
	for _, t := range in {
		if len(t.Shape) != rank {
			return nil, fmt.Errorf("cannot concatenate inputs of shapes %s and %s", shapeString(in[0].Shape), shapeString(t.Shape))
		}
		for i, d := range t.Shape {
			if i != ax && d != in[0].Shape[i] {
				return nil, fmt.Errorf("cannot concatenate inputs of shapes %s and %s on axis %d", shapeString(in[0].Shape), shapeString(t.Shape), axis)
			}
		}
		shape[ax] += t.Shape[ax]
	}
	out := NewTensor(shape...)
	outer := shapeLen(shape[:ax])
	inner := shapeLen(shape[ax+1:])
	row := shape[ax] * inner
	off := 0
	for _, t := range in {
		n := t.Shape[ax] * inner
		for o := 0; o < outer; o++ {
			copy(out.Data[o*row+off:o*row+off+n], t.Data[o*n:(o+1)*n])
		}
		off += n
	}
	return out, nil
}

// concatMask is Concatenate.compute_mask: each input's mask widened to the
// input's full shape (all kept for an unmasked input), joined along the
// axis, then reduced over the last axis: tf.keras keeps a position if
// every value does, Keras 3 if any does.
func concatMask(in []*Tensor, masks []mask, axis int, legacy bool) mask {
	if !slices.ContainsFunc(masks, func(m mask) bool { return m != nil }) {
		return nil
	}
	full := make([]*Tensor, len(in))
	for i, t := range in {
		f := NewTensor(t.Shape...)
		full[i] = f
		var m mask
		if i < len(masks) {
			m = masks[i]
		}
		_, n := t.rows()
		switch {
		case m == nil:
			for j := range f.Data {
				f.Data[j] = 1
			}
		case len(m) == len(t.Data):
			for j, keep := range m {
				if keep {
					f.Data[j] = 1
				}
			}
		case n > 0 && len(m)*n == len(t.Data):
			for j, keep := range m {
				if keep {
					for k := j * n; k < (j+1)*n; k++ {
						f.Data[k] = 1
					}
				}
			}
		default:
			return nil // a mask Keras could not have made
		}
	}
	joined, err := concatTensors(full, axis)
	if err != nil {
		return nil
	}
	rows, n := joined.rows()
	res := make(mask, rows)
	for r := range res {
		keep := legacy
		for _, v := range joined.Data[r*n : (r+1)*n] {
			if legacy {
				keep = keep && v != 0
			} else {
				keep = keep || v != 0
			}
		}
		res[r] = keep
	}
	return res
}

func (l dot) forward(c *call) error {
	if len(c.in) != 2 {
		return fmt.Errorf("called on %d inputs, want 2", len(c.in))
	}
	out, err := batchDot(c.in[0], c.in[1], l.axes, l.normalize, c.net.legacy)
	if err != nil {
		return err
	}
	c.out = []*Tensor{out}
	c.outMasks = []mask{nil} // Dot.compute_mask returns None
	return nil
}

// batchDot is Keras's batch_dot: for each sample, the contraction of x's
// axis axes[0] with y's axes[1]; the result has x's other dimensions, then
// y's (a (batch, 1) result when nothing else is left). With normalize both
// are first L2-normalized along those axes (Dot(normalize=True)).
func batchDot(x, y *Tensor, axes []int, normalize, legacy bool) (*Tensor, error) {
	if len(x.Shape) < 2 || len(y.Shape) < 2 {
		return nil, fmt.Errorf("cannot take the dot product of inputs of shapes %s and %s: rank below 2", shapeString(x.Shape), shapeString(y.Shape))
	}
	ax := []int{axes[0], axes[0]}
	if len(axes) == 2 {
		ax[1] = axes[1]
	}
	for i, t := range []*Tensor{x, y} {
		r, err := resolveAxes(ax[i:i+1], len(t.Shape), "axes")
		if err != nil {
			return nil, err
		}
		if r[0] == 0 {
			return nil, fmt.Errorf("axes: axis 0 is the batch axis")
		}
		ax[i] = r[0]
	}
	b, k := x.Shape[0], x.Shape[ax[0]]
	if y.Shape[0] != b || y.Shape[ax[1]] != k {
		return nil, fmt.Errorf("cannot take the dot product of inputs of shapes %s and %s on axes %d and %d", shapeString(x.Shape), shapeString(y.Shape), ax[0], ax[1])
	}
	// x as (batch, m, k) and y as (batch, k, n): move the contracted axes.
	xp := moveAxis(x, ax[0], len(x.Shape)-1)
	yp := moveAxis(y, ax[1], 1)
	if normalize {
		// Both contracted axes now lie where rows are: x's last axis; y's
		// is axis 1, so normalize y before moving it instead.
		eps := 1e-14 // Keras 3: x / max(‖x‖, 1e-7)
		if legacy {
			eps = 1e-12 // tf.nn.l2_normalize: x·rsqrt(max(Σx², 1e-12))
		}
		xn := NewTensor(xp.Shape...)
		kernel.L2NormalizeRows(xn.Data, xp.Data, k, eps)
		xp = xn
		yl := moveAxis(y, ax[1], len(y.Shape)-1)
		yn := NewTensor(yl.Shape...)
		kernel.L2NormalizeRows(yn.Data, yl.Data, k, eps)
		yp = moveAxis(yn, len(y.Shape)-1, 1)
	}
	var shape []int
	shape = append(shape, x.Shape[:ax[0]]...)
	shape = append(shape, x.Shape[ax[0]+1:]...)
	shape = append(shape, y.Shape[1:ax[1]]...)
	shape = append(shape, y.Shape[ax[1]+1:]...)
	if len(shape) == 1 {
		shape = append(shape, 1)
	}
	out := NewTensor(shape...)
	if b == 0 {
		return out, nil
	}
	m := len(xp.Data) / b / max(k, 1)
	n := len(yp.Data) / b / max(k, 1)
	if k == 0 {
		return out, nil
	}
	for s := 0; s < b; s++ {
		kernel.MatMul(out.Data[s*m*n:(s+1)*m*n], xp.Data[s*m*k:(s+1)*m*k], yp.Data[s*k*n:(s+1)*k*n], m, k, n, false)
	}
	return out, nil
}

// moveAxis returns t with axis from moved to position to, the other axes
// keeping their order (t itself when nothing moves).
func moveAxis(t *Tensor, from, to int) *Tensor {
	if from == to {
		return t
	}
	var perm []int
	for i := range t.Shape {
		if i != from {
			perm = append(perm, i)
		}
	}
	perm = slices.Insert(perm, to, from)
	out := NewTensor(permuted(t.Shape, perm)...)
	kernel.Transpose(out.Data, t.Data, t.Shape, perm)
	return out
}

func (l *legacyMerge) cannotRun() string {
	switch l.mode {
	case "lambda":
		return "a Merge with a Python function as its mode, which kerascope never runs"
	case "cos":
		return "Keras 1's Merge(mode=\"cos\") has no native implementation"
	}
	return ""
}

// forward is Keras 1's Merge: the elementwise modes with their masks
// combined by AND, concat with Concatenate's mask, dot without a mask.
func (l *legacyMerge) forward(c *call) error {
	if len(c.in) < 2 {
		return fmt.Errorf("called on %d inputs, want at least 2", len(c.in))
	}
	var out *Tensor
	var err error
	var m mask
	switch l.mode {
	case "concat":
		out, err = concatTensors(c.in, l.concat)
		if err == nil {
			m = concatMask(c.in, c.masks, l.concat, true)
		}
	case "dot":
		if len(c.in) != 2 {
			return fmt.Errorf("mode dot: called on %d inputs, want 2", len(c.in))
		}
		out, err = batchDot(c.in[0], c.in[1], l.dot.axes, false, true)
	default:
		op, ok := mergeOps[l.mode]
		if !ok {
			return fmt.Errorf("mode %q: %w", l.mode, errNotRunnable)
		}
		out, err = mergeElemwise(op, c.in)
		m = elemwiseMask(c.masks, true)
	}
	if err != nil {
		return err
	}
	c.out, c.outMasks = []*Tensor{out}, []mask{m}
	return nil
}
