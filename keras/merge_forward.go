package keras

import (
	"fmt"
	"slices"
	"unsafe"

	"github.com/kerascope/kerascope/keras/internal/kernel"
)

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
	_, err := l.forwardThen(c, nil)
	return err
}

// forwardThen is forward followed by then (an activation folded into the
// merge, applied in place to whole rows of n values, the last axis), and reports
// whether then was applied: with the last input's combination, part by
// part over the CPUs, each part while it is in cache (ResNet50's
// residual Add and relu took 7% of one sample's time as two passes on one
// CPU), when the inputs have the output's shape.
func (l elemwise) forwardThen(c *call, then func(x []float32, n int)) (bool, error) {
	op, ok := mergeOps[c.layer.Class]
	if !ok {
		return false, fmt.Errorf("no elementwise merge is called %s", c.layer.Class)
	}
	if l.inputs > 0 && len(c.in) != l.inputs {
		return false, fmt.Errorf("called on %d inputs, want %d", len(c.in), l.inputs)
	}
	out, applied, err := mergeElemwise(op, c.in, c.ar, c.donor, then)
	if err != nil {
		return false, err
	}
	c.out = []*Tensor{out}
	c.outMasks = []mask{elemwiseMask(c.masks, c.net.legacy)}
	return applied, nil
}

// mergeElemwise combines tensors elementwise with broadcasting. donor,
// when not nil, is an input the result may overwrite (call.donor): it
// then does, when it has the result's shape and is the first input, or
// the second of two under an operation whose operands commute (the same
// bits either way). then, when not nil, is applied to whole rows of the
// result after the last input's combination where that input has the
// result's shape, and it reports whether it was.
func mergeElemwise(op mergeOp, in []*Tensor, ar *arena, donor *Tensor, then func(x []float32, n int)) (*Tensor, bool, error) {
	if len(in) == 0 {
		return nil, false, fmt.Errorf("called on no inputs")
	}
	rank := 0
	for _, t := range in {
		if len(t.Shape) == 0 {
			return nil, false, fmt.Errorf("an input has no batch dimension")
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
				return nil, false, fmt.Errorf("inputs of shapes %s and %s do not broadcast", shapeString(in[0].Shape), shapeString(t.Shape))
			}
		}
	}
	var out *Tensor
	if donor != nil && len(donor.Data) == shapeLen(outShape) {
		switch {
		case donor == in[0] && slices.Equal(shapes[0], outShape):
			out = &Tensor{Shape: outShape, Data: donor.Data}
		case len(in) == 2 && donor == in[1] && slices.Equal(shapes[1], outShape) && op != opSubtract:
			in = []*Tensor{in[1], in[0]}
			shapes = [][]int{shapes[1], shapes[0]}
			out = &Tensor{Shape: outShape, Data: donor.Data}
		}
	}
	if out == nil {
		out = ar.output(outShape...) // broadcastInto writes all of it
	}
	// The first input, broadcast, is the running result (already there
	// when it is the donor).
	if unsafe.SliceData(out.Data) != unsafe.SliceData(in[0].Data) {
		if err := broadcastInto(out.Data, in[0].Data, shapes[0], outShape); err != nil {
			return nil, false, err
		}
	}
	var tmp *[]float32
	applied := false
	for i, t := range in[1:] {
		from := shapes[i+1]
		switch {
		case slices.Equal(from, outShape) && rank > 0 && outShape[rank-1] > 0 && (then != nil && i == len(in)-2 && op != opAverage || len(out.Data) >= 2*parallelActElems):
			// Part by part over the CPUs, whole rows each; the last
			// combination with then, each part's rows in cache for it.
			n := outShape[rank-1]
			last := then != nil && i == len(in)-2 && op != opAverage
			kernel.Parallel(len(out.Data)/n, max(1, parallelActElems/n), func(lo, hi int) {
				combine(op, out.Data[lo*n:hi*n], t.Data[lo*n:hi*n])
				if last {
					then(out.Data[lo*n:hi*n], n)
				}
			})
			applied = applied || last
		case slices.Equal(from, outShape):
			combine(op, out.Data, t.Data)
		case from[rank-1] == outShape[rank-1] && len(t.Data) == shapeLen(from):
			// Broadcast along outer axes only (a squeeze-and-excite
			// scale of shape (batch, 1, 1, channels)): each output row
			// takes its source row in place, with no broadcast copy.
			combineRows(op, out.Data, outShape, t.Data, from)
		default:
			if tmp == nil {
				tmp = getScratch(len(out.Data))
				defer putScratch(tmp)
			}
			if err := broadcastInto(*tmp, t.Data, from, outShape); err != nil {
				return nil, false, err
			}
			combine(op, out.Data, *tmp)
		}
	}
	if op == opAverage {
		n := float32(len(in))
		for i := range out.Data {
			out.Data[i] /= n
		}
	}
	return out, applied, nil
}

// combineRows combines each row (last axis) of a, of shape to, with the row
// of b (shape from, the same rank and last axis, other axes equal or 1)
// that broadcasts onto it.
func combineRows(op mergeOp, a []float32, to []int, b []float32, from []int) {
	rank := len(to)
	c := to[rank-1]
	if c == 0 {
		return
	}
	if op == opMultiply && from[0] == to[0] && shapeLen(from[1:rank-1]) == 1 {
		// One row of b per sample, over all the sample's positions (a
		// squeeze-and-excite scale): the sample's rows multiplied by it
		// in one call per part, split over the CPUs.
		per := shapeLen(to[1 : rank-1])
		for s := 0; s < to[0]; s++ {
			x, row := a[s*per*c:(s+1)*per*c], b[s*c:(s+1)*c]
			kernel.Parallel(per, max(1, parallelActElems/c), func(lo, hi int) {
				kernel.MulRows(x[lo*c:hi*c], row)
			})
		}
		return
	}
	idx := make([]int, rank-1) // the output row's index along each outer axis
	for r := 0; r < len(a)/c; r++ {
		src := 0
		for k, i := range idx {
			if from[k] != 1 {
				src += i
			}
			if k+1 < len(idx) {
				src *= from[k+1]
			}
		}
		combine(op, a[r*c:(r+1)*c], b[src*c:(src+1)*c])
		for k := len(idx) - 1; k >= 0; k-- {
			if idx[k]++; idx[k] < to[k] {
				break
			}
			idx[k] = 0
		}
	}
}

// combine sets a to a op b elementwise.
func combine(op mergeOp, a, b []float32) {
	b = b[:len(a)]
	switch op {
	case opAdd, opAverage:
		kernel.AddInto(a, b)
	case opSubtract:
		for i, v := range b {
			a[i] -= v
		}
	case opMultiply:
		kernel.MulInto(a, b)
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
		_, n := rows(t)
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
	rows, n := rows(joined)
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
		out, _, err = mergeElemwise(op, c.in, c.ar, c.donor, nil)
		m = elemwiseMask(c.masks, true)
	}
	if err != nil {
		return err
	}
	c.out, c.outMasks = []*Tensor{out}, []mask{m}
	return nil
}
