package keras

import (
	"fmt"

	"github.com/tidwall/gjson"
)

// TensorFlow functions that index or multiply: x[...] (SlicingOpLambda's
// __operators__.getitem), tf.split and tf.matmul (tfop.go).

func init() {
	tfOps["linalg.matmul"] = &tfOpSpec{shape: matmulShape, eval: matmulEval}
	tfOps["matmul"] = tfOps["linalg.matmul"]
	tfOps["split"] = &tfOpSpec{shape: splitShape, eval: splitEval}
	tfOps["__operators__.getitem"] = &tfOpSpec{shape: getitemShape, eval: getitemEval}
}

// An index is one element of a slice_spec.
type index struct {
	kind              int // sliceIdx, intIdx, newAxis, ellipsis
	start, stop, step *int
	at                int
}

const (
	sliceIdx = iota
	intIdx
	newAxis
	ellipsisIdx
)

func optInt(v gjson.Result) (*int, bool) {
	if !v.Exists() || v.Type == gjson.Null {
		return nil, true
	}
	n, ok := intValue(v)
	return &n, ok
}

// readSliceSpec reads the slice_spec tf.keras records for x[...]: slices
// as {"start", "stop", "step"}, integers, null for tf.newaxis and the
// Ellipsis as {"class_name": "__ellipsis__"}.
func readSliceSpec(c *tfCall) ([]index, error) {
	v := c.arg("slice_spec").value
	if !v.Exists() {
		return nil, formatErrorf("the call records no slice_spec")
	}
	items := []gjson.Result{v}
	if v.IsArray() {
		items = v.Array()
	}
	var out []index
	for _, it := range items {
		switch {
		case it.Type == gjson.Null:
			out = append(out, index{kind: newAxis})
		case it.Type == gjson.Number:
			n, ok := intValue(it)
			if !ok {
				return nil, formatErrorf("index %s is not an integer", short(it.Raw))
			}
			out = append(out, index{kind: intIdx, at: n})
		case it.IsObject() && it.Get("class_name").Str == "__ellipsis__", it.Str == "...", it.Str == "Ellipsis":
			out = append(out, index{kind: ellipsisIdx})
		case it.IsObject():
			var ix index
			var ok1, ok2, ok3 bool
			ix.start, ok1 = optInt(it.Get("start"))
			ix.stop, ok2 = optInt(it.Get("stop"))
			ix.step, ok3 = optInt(it.Get("step"))
			if !ok1 || !ok2 || !ok3 || (ix.step != nil && *ix.step == 0) {
				return nil, formatErrorf("slice %s: want integer bounds and a non-zero step", short(it.Raw))
			}
			out = append(out, ix)
		default:
			return nil, formatErrorf("slice_spec element %s is not supported", short(it.Raw))
		}
	}
	return out, nil
}

// expandSpec replaces the Ellipsis (or the missing tail) by full slices
// so that the spec consumes every axis of a rank-r tensor.
func expandSpec(spec []index, rank int) ([]index, error) {
	consumed, ell := 0, -1
	for i, ix := range spec {
		switch ix.kind {
		case sliceIdx, intIdx:
			consumed++
		case ellipsisIdx:
			if ell >= 0 {
				return nil, formatErrorf("more than one Ellipsis")
			}
			ell = i
		}
	}
	if consumed > rank {
		return nil, formatErrorf("%d indices for a rank-%d tensor", consumed, rank)
	}
	fill := make([]index, rank-consumed)
	if ell < 0 {
		return append(append([]index{}, spec...), fill...), nil
	}
	out := append(append([]index{}, spec[:ell]...), fill...)
	return append(out, spec[ell+1:]...), nil
}

// sliceRange normalizes a Python slice over n elements: start, step and
// the number of elements taken.
func sliceRange(ix index, n int) (start, step, count int) {
	step = 1
	if ix.step != nil {
		step = *ix.step
	}
	clamp := func(v, lo, hi int) int { return max(lo, min(v, hi)) }
	if step > 0 {
		start, stop := 0, n
		if ix.start != nil {
			start = *ix.start
			if start < 0 {
				start += n
			}
			start = clamp(start, 0, n)
		}
		if ix.stop != nil {
			stop = *ix.stop
			if stop < 0 {
				stop += n
			}
			stop = clamp(stop, 0, n)
		}
		if stop > start {
			count = (stop - start + step - 1) / step
		}
		return start, step, count
	}
	start, stop := n-1, -1
	if ix.start != nil {
		start = *ix.start
		if start < 0 {
			start += n
		}
		start = clamp(start, -1, n-1)
	}
	if ix.stop != nil {
		stop = *ix.stop
		if stop < 0 {
			stop += n
		}
		stop = clamp(stop, -1, n-1)
	}
	if start > stop {
		count = (start - stop - step - 1) / -step
	}
	return start, step, count
}

func getitemShape(c *tfCall, in []Shape) ([]Shape, error) {
	x, err := argShape(c.first, in)
	if err != nil {
		return nil, err
	}
	spec, err := readSliceSpec(c)
	if err != nil {
		return nil, err
	}
	spec, err = expandSpec(spec, len(x))
	if err != nil {
		return nil, err
	}
	out := Shape{}
	ax := 0
	for _, ix := range spec {
		switch ix.kind {
		case newAxis:
			out = append(out, 1)
		case intIdx:
			if d := x[ax]; d != None && (ix.at >= d || ix.at < -d) {
				return nil, formatErrorf("index %d out of range for dimension %d", ix.at, d)
			}
			ax++
		case sliceIdx:
			d := x[ax]
			if d == None {
				out = append(out, None)
			} else {
				_, _, n := sliceRange(ix, d)
				out = append(out, n)
			}
			ax++
		}
	}
	return []Shape{out}, nil
}

func getitemEval(c *tfCall, in []*Tensor) ([]*Tensor, error) {
	x, err := tfTensor(c.first, in)
	if err != nil {
		return nil, err
	}
	spec, err := readSliceSpec(c)
	if err != nil {
		return nil, err
	}
	spec, err = expandSpec(spec, len(x.Shape))
	if err != nil {
		return nil, err
	}
	rank := len(x.Shape)
	strides := make([]int, rank)
	s := 1
	for i := rank - 1; i >= 0; i-- {
		strides[i] = s
		s *= x.Shape[i]
	}
	var shape, step []int // per output axis: size and source stride
	base, ax := 0, 0
	for _, ix := range spec {
		switch ix.kind {
		case newAxis:
			shape, step = append(shape, 1), append(step, 0)
		case intIdx:
			i := ix.at
			if i < 0 {
				i += x.Shape[ax]
			}
			if i < 0 || i >= x.Shape[ax] {
				return nil, fmt.Errorf("index %d out of range for dimension %d", ix.at, x.Shape[ax])
			}
			base += i * strides[ax]
			ax++
		case sliceIdx:
			st, sp, n := sliceRange(ix, x.Shape[ax])
			base += st * strides[ax]
			shape, step = append(shape, n), append(step, sp*strides[ax])
			ax++
		}
	}
	out := NewTensor(shape...)
	if len(out.Data) == 0 {
		return []*Tensor{out}, nil
	}
	idx := make([]int, len(shape))
	src := base
	for o := range out.Data {
		out.Data[o] = x.Data[src]
		for a := len(shape) - 1; a >= 0; a-- {
			idx[a]++
			src += step[a]
			if idx[a] < shape[a] {
				break
			}
			src -= step[a] * shape[a]
			idx[a] = 0
		}
	}
	return []*Tensor{out}, nil
}

// maxSplits bounds the number of outputs of a tf.split.
const maxSplits = 1 << 16

// splitSizes reads num_or_size_splits for a dimension of size d (None:
// sizes stay unknown where they depend on it).
func splitSizes(c *tfCall, d int) ([]int, error) {
	v := c.arg("num_or_size_splits").value
	if v.Type == gjson.Number {
		n, ok := intValue(v)
		// Bounded by the dimension it splits, or by maxSplits when that
		// is unknown: the count sizes an allocation.
		if !ok || n <= 0 || n > maxSplits || (d != None && n > d) {
			return nil, formatErrorf("num_or_size_splits %s", short(v.Raw))
		}
		if d != None && d%n != 0 {
			return nil, formatErrorf("dimension %d does not split into %d", d, n)
		}
		out := make([]int, n)
		for i := range out {
			out[i] = None
			if d != None {
				out[i] = d / n
			}
		}
		return out, nil
	}
	sizes, ok := intList(v)
	if !ok || len(sizes) == 0 {
		return nil, formatErrorf("num_or_size_splits %s", short(v.Raw))
	}
	free, sum := -1, 0
	for i, n := range sizes {
		if n == -1 && free < 0 {
			free = i
		} else if n < 0 {
			return nil, formatErrorf("num_or_size_splits %s", short(v.Raw))
		} else {
			sum += n
		}
	}
	if free >= 0 {
		sizes[free] = None
		if d != None {
			sizes[free] = d - sum
		}
	}
	return sizes, nil
}

func splitShape(c *tfCall, in []Shape) ([]Shape, error) {
	x, err := argShape(c.first, in)
	if err != nil {
		return nil, err
	}
	ax, err := axisArg(c, "axis", 0, len(x))
	if err != nil {
		return nil, err
	}
	sizes, err := splitSizes(c, x[ax])
	if err != nil {
		return nil, err
	}
	out := make([]Shape, len(sizes))
	for i, n := range sizes {
		out[i] = x.Clone()
		out[i][ax] = n
	}
	return out, nil
}

func splitEval(c *tfCall, in []*Tensor) ([]*Tensor, error) {
	x, err := tfTensor(c.first, in)
	if err != nil {
		return nil, err
	}
	ax, err := axisArg(c, "axis", 0, len(x.Shape))
	if err != nil {
		return nil, err
	}
	sizes, err := splitSizes(c, x.Shape[ax])
	if err != nil {
		return nil, err
	}
	total := 0
	for _, n := range sizes {
		if n < 0 {
			return nil, fmt.Errorf("sizes %v do not fit dimension %d", sizes, x.Shape[ax])
		}
		total += n
	}
	if total != x.Shape[ax] {
		return nil, fmt.Errorf("sizes %v do not add up to dimension %d", sizes, x.Shape[ax])
	}
	inner := 1
	for _, d := range x.Shape[ax+1:] {
		inner *= d
	}
	outer := len(x.Data) / max(1, x.Shape[ax]*inner)
	var outs []*Tensor
	off := 0
	for _, n := range sizes {
		shape := append([]int(nil), x.Shape...)
		shape[ax] = n
		t := NewTensor(shape...)
		for o := range outer {
			src := (o*x.Shape[ax] + off) * inner
			copy(t.Data[o*n*inner:(o+1)*n*inner], x.Data[src:src+n*inner])
		}
		outs = append(outs, t)
		off += n
	}
	return outs, nil
}

func boolArg(c *tfCall, names ...string) bool {
	for _, n := range names {
		if c.arg(n).value.Bool() {
			return true
		}
	}
	return false
}

func matmulShape(c *tfCall, in []Shape) ([]Shape, error) {
	a, err := argShape(c.first, in)
	if err != nil {
		return nil, err
	}
	b, err := argShape(c.arg("b"), in)
	if err != nil {
		return nil, err
	}
	if len(a) < 2 || len(b) < 2 {
		return nil, formatErrorf("matmul of shapes %s and %s: want rank 2 or more", a, b)
	}
	m, n := a[len(a)-2], b[len(b)-1]
	if boolArg(c, "transpose_a", "adjoint_a") {
		m = a[len(a)-1]
	}
	if boolArg(c, "transpose_b", "adjoint_b") {
		n = b[len(b)-2]
	}
	batch, err := tfBroadcastShapes(a[:len(a)-2], b[:len(b)-2])
	if err != nil {
		return nil, err
	}
	return []Shape{append(batch, m, n)}, nil
}

func matmulEval(c *tfCall, in []*Tensor) ([]*Tensor, error) {
	a, err := tfTensor(c.first, in)
	if err != nil {
		return nil, err
	}
	b, err := tfTensor(c.arg("b"), in)
	if err != nil {
		return nil, err
	}
	ta, tb := boolArg(c, "transpose_a", "adjoint_a"), boolArg(c, "transpose_b", "adjoint_b")
	ra, rb := len(a.Shape), len(b.Shape)
	if ra < 2 || rb < 2 {
		return nil, fmt.Errorf("matmul of shapes %s and %s: want rank 2 or more", shapeString(a.Shape), shapeString(b.Shape))
	}
	m, k := a.Shape[ra-2], a.Shape[ra-1]
	if ta {
		m, k = k, m
	}
	k2, n := b.Shape[rb-2], b.Shape[rb-1]
	if tb {
		k2, n = n, k2
	}
	if k != k2 {
		return nil, fmt.Errorf("matmul of shapes %s and %s: inner dimensions differ", shapeString(a.Shape), shapeString(b.Shape))
	}
	batchShape, err := tfBroadcastShapes(Shape(a.Shape[:ra-2]), Shape(b.Shape[:rb-2]))
	if err != nil {
		return nil, err
	}
	// Batch offsets of a and b for each output batch element, by
	// broadcasting an index tensor of each.
	ia, ib := batchIndex(a.Shape[:ra-2]), batchIndex(b.Shape[:rb-2])
	ja, err := broadcastApply(ia, &Tensor{Shape: []int(batchShape), Data: make([]float32, shapeLen(batchShape))}, func(x, _ float32) float32 { return x })
	if err != nil {
		return nil, err
	}
	jb, err := broadcastApply(ib, &Tensor{Shape: []int(batchShape), Data: make([]float32, shapeLen(batchShape))}, func(x, _ float32) float32 { return x })
	if err != nil {
		return nil, err
	}
	out := NewTensor(append([]int(batchShape.Clone()), m, n)...)
	for bi := range ja.Data {
		pa, pb := int(ja.Data[bi])*m*k, int(jb.Data[bi])*k*n
		po := bi * m * n
		for i := range m {
			for j := range n {
				var sum float64
				for p := range k {
					av := a.Data[pa+i*k+p]
					if ta {
						av = a.Data[pa+p*m+i]
					}
					bv := b.Data[pb+p*n+j]
					if tb {
						bv = b.Data[pb+j*k+p]
					}
					sum += float64(av) * float64(bv)
				}
				out.Data[po+i*n+j] = float32(sum)
			}
		}
	}
	return []*Tensor{out}, nil
}

// batchIndex is a tensor of the given batch shape holding each element's
// flat index.
func batchIndex(shape []int) *Tensor {
	t := NewTensor(shape...)
	for i := range t.Data {
		t.Data[i] = float32(i)
	}
	return t
}
