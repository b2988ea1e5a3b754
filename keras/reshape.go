package keras

import (
	"fmt"

	"github.com/tidwall/gjson"

	"github.com/kerascope/kerascope/keras/internal/kernel"
)

// The reshaping layers, mirroring Keras 3's keras/src/layers/reshaping/*.py
// (compute_output_shape of each class; Reshape through
// compute_reshape_output_shape in keras/src/ops/operation_utils.py). None of
// them has weights. The batch dimension always passes through.
//
//	Flatten          (batch, prod(rest)); None if any of rest is None
//	Reshape          (batch, *target_shape); one -1 takes what is left,
//	                 or None when the input has a None dimension
//	Permute          dims: a 1-based permutation of the non-batch axes
//	RepeatVector     (batch, k) -> (batch, n, k)
//	ZeroPaddingND    each spatial length grows by its two pads
//	CroppingND       each spatial length shrinks by its two crops, and
//	                 must stay positive
//	UpSamplingND     each spatial length is multiplied by size
//
// Padding and cropping take an int, one value per spatial dimension, or a
// pair per spatial dimension; Cropping1D and ZeroPadding1D take an int or
// one pair. Keras 1 also wrote ZeroPadding2D's padding as
// (top, bottom, left, right) or a dict of top_pad, bottom_pad, left_pad and
// right_pad, and ZeroPadding1D's as a dict of left_pad and right_pad.
//
// Used config: target_shape, dims, n, padding, cropping, size (Keras 1:
// length), interpolation (UpSampling2D) and data_format (Keras 1:
// dim_ordering). Cropping1D has no data_format: it always crops axis 1.
//
// Forward passes: Flatten with channels_first first moves the channels
// last, as Keras 3's and tf_keras's Flatten.call do, so its order is a
// channels_last model's. UpSampling repeats each cell (ops.repeat), except
// UpSampling2D with another interpolation than nearest, which resizes as
// tf.image.resize does (half-pixel centers; see kernel.ResizeTaps). None of
// these layers supports masking in Keras 3 or tf_keras, so masks stop here.

type flatten struct{ channelsFirst bool }

func newFlatten(d *decoder) (layerKind, error) {
	return flatten{channelsFirst: d.channelsFirst()}, nil
}

func (flatten) build(in []Shape) ([]WeightSpec, error) { return nil, wantInputs(in, 1) }

func (flatten) outputShapes(in []Shape) ([]Shape, error) {
	if err := wantInputs(in, 1); err != nil {
		return nil, err
	}
	s := in[0]
	if err := wantRank(s, 1, -1); err != nil {
		return nil, err
	}
	n, err := knownSize(s[1:])
	if err != nil {
		return nil, err
	}
	return []Shape{{s[0], n}}, nil
}

// knownSize returns the number of elements of s, None if a dimension is
// unknown, or an error if it exceeds maxDim.
func knownSize(s Shape) (int, error) {
	for _, d := range s {
		if d < 0 {
			return None, nil
		}
	}
	n, ok := s.Size()
	if !ok || n > maxDim {
		return 0, formatErrorf("shape %s has more than %d elements", s, maxDim)
	}
	return int(n), nil
}

type reshape struct{ target Shape }

func newReshape(d *decoder) (layerKind, error) {
	r, _ := d.lookup("target_shape")
	if !r.IsArray() {
		d.fail("target_shape", "got %s, want a list of dimensions", short(r.Raw))
		return reshape{}, nil
	}
	l := reshape{}
	unknown := 0
	for _, e := range r.Array() {
		v, ok := intValue(e)
		if !ok || v < -1 || len(l.target) == maxRank {
			d.fail("target_shape", "got %s, want at most %d sizes, one of them possibly -1", short(r.Raw), maxRank)
			return reshape{}, nil
		}
		if v == -1 {
			unknown++
		}
		l.target = append(l.target, v)
	}
	if unknown > 1 {
		d.fail("target_shape", "got %s, want at most one -1", short(r.Raw))
	}
	return l, nil
}

func (reshape) build(in []Shape) ([]WeightSpec, error) { return nil, wantInputs(in, 1) }

func (l reshape) outputShapes(in []Shape) ([]Shape, error) {
	if err := wantInputs(in, 1); err != nil {
		return nil, err
	}
	s := in[0]
	if err := wantRank(s, 1, -1); err != nil {
		return nil, err
	}
	out := append(Shape{s[0]}, l.target...)
	size, err := knownSize(s[1:])
	if err != nil {
		return nil, err
	}
	free := -1 // the index in out of the -1, if any
	known := 1
	for i, d := range l.target {
		if d < 0 {
			free = i + 1
			continue
		}
		if known > maxDim {
			return nil, formatErrorf("target shape %s has more than %d elements", l.target, maxDim)
		}
		known *= d
	}
	switch {
	case size < 0:
		// The -1, if any, stays unknown.
	case free < 0 && known != size:
		return nil, formatErrorf("input shape %s does not have the %d elements of target shape %s", s, known, l.target)
	case free >= 0 && (known == 0 || size%known != 0):
		return nil, formatErrorf("input shape %s does not divide into target shape %s", s, l.target)
	case free >= 0:
		out[free] = size / known
	}
	return []Shape{out}, nil
}

type permute struct{ dims []int }

func newPermute(d *decoder) (layerKind, error) {
	r, _ := d.lookup("dims")
	if !r.IsArray() || len(r.Array()) > maxRank {
		d.fail("dims", "got %s, want a list of axes", short(r.Raw))
		return permute{}, nil
	}
	arr := r.Array()
	l := permute{dims: make([]int, len(arr))}
	seen := make([]bool, len(arr)+1)
	for i, e := range arr {
		v, ok := intValue(e)
		if !ok || v < 1 || v > len(arr) || seen[v] {
			d.fail("dims", "got %s, want a permutation of 1..%d", short(r.Raw), len(arr))
			return permute{}, nil
		}
		seen[v] = true
		l.dims[i] = v
	}
	return l, nil
}

func (l permute) build(in []Shape) ([]WeightSpec, error) {
	if err := wantInputs(in, 1); err != nil {
		return nil, err
	}
	return nil, wantRank(in[0], len(l.dims)+1, len(l.dims)+1)
}

func (l permute) outputShapes(in []Shape) ([]Shape, error) {
	if _, err := l.build(in); err != nil {
		return nil, err
	}
	out := Shape{in[0][0]}
	for _, a := range l.dims {
		out = append(out, in[0][a])
	}
	return []Shape{out}, nil
}

type repeatVector struct{ n int }

func newRepeatVector(d *decoder) (layerKind, error) {
	l := repeatVector{n: d.int(0, "n")}
	if d.err == nil && l.n <= 0 {
		d.fail("n", "got %d, want a positive integer", l.n)
	}
	return l, nil
}

func (repeatVector) build(in []Shape) ([]WeightSpec, error) {
	if err := wantInputs(in, 1); err != nil {
		return nil, err
	}
	return nil, wantRank(in[0], 2, 2)
}

func (l repeatVector) outputShapes(in []Shape) ([]Shape, error) {
	if _, err := l.build(in); err != nil {
		return nil, err
	}
	return []Shape{{in[0][0], l.n, in[0][1]}}, nil
}

// spatialResize is ZeroPadding, Cropping and UpSampling: each spatial
// length n becomes n·scale + grow; None stays None.
type spatialResize struct {
	rank          int
	channelsFirst bool
	scale         []int
	grow          []int // negative for cropping
	crop, pad     bool
	// before is the padding or cropping before each spatial axis.
	before []int
	// interpolation is UpSampling2D's; the other upsamplings repeat.
	interpolation string
}

func newZeroPadding(rank int) func(*decoder) (layerKind, error) {
	return func(d *decoder) (layerKind, error) {
		l := &spatialResize{rank: rank, scale: repeat(1, rank), grow: make([]int, rank), before: make([]int, rank), pad: true}
		for i, p := range d.pairs(1, rank, "padding") {
			l.grow[i] = p[0] + p[1]
			l.before[i] = p[0]
		}
		l.channelsFirst = d.channelsFirst()
		return l, nil
	}
}

func newCropping(rank int) func(*decoder) (layerKind, error) {
	return func(d *decoder) (layerKind, error) {
		def := 1
		if rank == 2 {
			def = 0 // Keras's own defaults differ by rank
		}
		l := &spatialResize{rank: rank, scale: repeat(1, rank), grow: make([]int, rank), before: make([]int, rank), crop: true}
		for i, p := range d.pairs(def, rank, "cropping") {
			l.grow[i] = -p[0] - p[1]
			l.before[i] = p[0]
		}
		if rank > 1 {
			l.channelsFirst = d.channelsFirst()
		}
		return l, nil
	}
}

func newUpSampling(rank int) func(*decoder) (layerKind, error) {
	return func(d *decoder) (layerKind, error) {
		l := &spatialResize{rank: rank, grow: make([]int, rank), before: make([]int, rank)}
		l.scale = d.positives(repeat(2, rank), rank, "size", "length")
		l.channelsFirst = d.channelsFirst()
		l.interpolation = "nearest"
		if rank == 2 {
			l.interpolation = d.str("nearest", "interpolation")
		}
		return l, nil
	}
}

// pairs reads padding or cropping: an int, or (rank 1) a pair, or one int
// or pair per spatial dimension, plus Keras 1's forms; every value at
// least 0. def fills in when the key is absent.
func (d *decoder) pairs(def, rank int, key string) [][2]int {
	out := make([][2]int, rank)
	for i := range out {
		out[i] = [2]int{def, def}
	}
	r, _ := d.lookup(key)
	if d.err != nil || !r.Exists() || r.Type == gjson.Null {
		return out
	}
	flat, ok := pairValues(r, rank)
	for _, v := range flat {
		ok = ok && v >= 0
	}
	if !ok {
		if rank == 1 {
			d.fail(key, "got %s, want an integer or a pair, at least 0", short(r.Raw))
		} else {
			d.fail(key, "got %s, want an integer or %d integers or pairs, at least 0", short(r.Raw), rank)
		}
		return out
	}
	for i := range out {
		out[i] = [2]int{flat[2*i], flat[2*i+1]}
	}
	return out
}

// pairValues flattens the forms pairs accepts into 2·rank values.
func pairValues(r gjson.Result, rank int) ([]int, bool) {
	if v, ok := intValue(r); ok {
		return repeat(v, 2*rank), true
	}
	if r.IsObject() {
		var names []string
		switch rank {
		case 1:
			names = []string{"left_pad", "right_pad"}
		case 2:
			names = []string{"top_pad", "bottom_pad", "left_pad", "right_pad"}
		default:
			return nil, false
		}
		flat := make([]int, len(names))
		for i, n := range names {
			if e := r.Get(n); e.Exists() {
				v, ok := intValue(e)
				if !ok {
					return nil, false
				}
				flat[i] = v
			}
		}
		return flat, true
	}
	if !r.IsArray() {
		return nil, false
	}
	arr := r.Array()
	if rank == 1 || (rank == 2 && len(arr) == 4) {
		// One pair, or Keras 1's (top, bottom, left, right).
		if len(arr) != 2*rank {
			return nil, false
		}
		flat := make([]int, len(arr))
		for i, e := range arr {
			v, ok := intValue(e)
			if !ok {
				return nil, false
			}
			flat[i] = v
		}
		return flat, true
	}
	if len(arr) != rank {
		return nil, false
	}
	var flat []int
	for _, e := range arr {
		if v, ok := intValue(e); ok {
			flat = append(flat, v, v)
			continue
		}
		p := e.Array()
		if !e.IsArray() || len(p) != 2 {
			return nil, false
		}
		a, ok1 := intValue(p[0])
		b, ok2 := intValue(p[1])
		if !ok1 || !ok2 {
			return nil, false
		}
		flat = append(flat, a, b)
	}
	return flat, true
}

func (l *spatialResize) build(in []Shape) ([]WeightSpec, error) {
	return nil, checkInput(in, l.rank)
}

func (l *spatialResize) outputShapes(in []Shape) ([]Shape, error) {
	if err := checkInput(in, l.rank); err != nil {
		return nil, err
	}
	s := in[0]
	out := s.Clone()
	first := spatialStart(l.channelsFirst)
	for i := range l.rank {
		n := s[first+i]
		if n < 0 {
			continue
		}
		n = n*l.scale[i] + l.grow[i]
		if l.crop && n <= 0 {
			return nil, formatErrorf("input shape %s: cropping %d leaves nothing of length %d", s, -l.grow[i], s[first+i])
		}
		out[first+i] = n
	}
	return []Shape{out}, checkDims(out)
}

// None of the reshaping layers has weights.

func (flatten) explain(string, []Shape) (*formula, error)        { return noWeights(""), nil }
func (reshape) explain(string, []Shape) (*formula, error)        { return noWeights(""), nil }
func (permute) explain(string, []Shape) (*formula, error)        { return noWeights(""), nil }
func (repeatVector) explain(string, []Shape) (*formula, error)   { return noWeights(""), nil }
func (*spatialResize) explain(string, []Shape) (*formula, error) { return noWeights(""), nil }

// oneInput returns a call's single input after checking its data fills
// its shape and its rank is within [lo, hi] (hi < 0: no limit).
func oneInput(c *call, lo, hi int) (*Tensor, error) {
	if len(c.in) != 1 {
		return nil, fmt.Errorf("got %d inputs, want 1", len(c.in))
	}
	x := c.in[0]
	if err := x.Check(); err != nil {
		return nil, err
	}
	if r := len(x.Shape); r < lo || (hi >= 0 && r > hi) || r > kernel.MaxRank {
		return nil, fmt.Errorf("input shape %s: rank %d, want %s", shapeString(x.Shape), r, rankRange(lo, hi))
	}
	return x, nil
}

func rankRange(lo, hi int) string {
	switch {
	case lo == hi:
		return fmt.Sprint(lo)
	case hi < 0:
		return fmt.Sprintf("at least %d", lo)
	}
	return fmt.Sprintf("%d to %d", lo, hi)
}

// axesMoved returns x with its axes permuted as numpy.transpose.
func axesMoved(x *Tensor, perm []int) *Tensor {
	shape := make([]int, len(perm))
	for i, p := range perm {
		shape[i] = x.Shape[p]
	}
	out := NewTensor(shape...)
	kernel.Transpose(out.Data, x.Data, x.Shape, perm)
	return out
}

// toChannelsLast returns x (batch, channels, *spatial) as (batch, *spatial,
// channels); other tensors come back unchanged.
func toChannelsLast(x *Tensor, first bool) *Tensor {
	if !first || len(x.Shape) < 3 {
		return x
	}
	n, c := x.Shape[0], x.Shape[1]
	shape := append(append([]int{n}, x.Shape[2:]...), c)
	t := &Tensor{Shape: shape, Data: make([]float32, len(x.Data))}
	if n > 0 && c > 0 {
		kernel.TransposeInner(t.Data, x.Data, n, c, len(x.Data)/(n*c))
	}
	return t
}

// toChannelsFirst is the inverse of toChannelsLast.
func toChannelsFirst(x *Tensor, first bool) *Tensor {
	if !first || len(x.Shape) < 3 {
		return x
	}
	r := len(x.Shape)
	n, c := x.Shape[0], x.Shape[r-1]
	shape := append([]int{n, c}, x.Shape[1:r-1]...)
	t := &Tensor{Shape: shape, Data: make([]float32, len(x.Data))}
	if n > 0 && c > 0 {
		kernel.TransposeInner(t.Data, x.Data, n, len(x.Data)/(n*c), c)
	}
	return t
}

func (l flatten) forward(c *call) error {
	x, err := oneInput(c, 1, -1)
	if err != nil {
		return err
	}
	if l.channelsFirst && len(x.Shape) > 2 {
		x = toChannelsLast(x, true)
	} else {
		x = c.sameData(x)
	}
	n := 1
	for _, d := range x.Shape[1:] {
		n *= d
	}
	x.Shape = []int{x.Shape[0], n}
	c.out = []*Tensor{x}
	return nil
}

func (l reshape) forward(c *call) error {
	x, err := oneInput(c, 1, -1)
	if err != nil {
		return err
	}
	size := 1
	for _, d := range x.Shape[1:] {
		size *= d
	}
	shape := append([]int{x.Shape[0]}, l.target...)
	free, known := -1, 1
	for i, d := range l.target {
		if d < 0 {
			free = i + 1
		} else {
			known *= d
		}
	}
	switch {
	case free >= 0 && known > 0 && size%known == 0:
		shape[free] = size / known
	case free >= 0 || known != size:
		return fmt.Errorf("cannot reshape %s to target shape %v", shapeString(x.Shape), l.target)
	}
	out := c.sameData(x)
	out.Shape = shape
	c.out = []*Tensor{out}
	return nil
}

func (l permute) forward(c *call) error {
	x, err := oneInput(c, len(l.dims)+1, len(l.dims)+1)
	if err != nil {
		return err
	}
	c.out = []*Tensor{axesMoved(x, append([]int{0}, l.dims...))}
	return nil
}

func (l repeatVector) forward(c *call) error {
	x, err := oneInput(c, 2, 2)
	if err != nil {
		return err
	}
	b, k := x.Shape[0], x.Shape[1]
	out := NewTensor(b, l.n, k)
	for i := 0; i < b; i++ {
		row := x.Data[i*k : (i+1)*k]
		for j := 0; j < l.n; j++ {
			copy(out.Data[(i*l.n+j)*k:], row)
		}
	}
	c.out = []*Tensor{out}
	return nil
}

func (l *spatialResize) forward(c *call) error {
	x, err := oneInput(c, l.rank+2, l.rank+2)
	if err != nil {
		return err
	}
	s := x.Shape
	first := spatialStart(l.channelsFirst)
	outShape := append([]int(nil), s...)
	for i := range l.rank {
		n := s[first+i]*l.scale[i] + l.grow[i]
		if n <= 0 && l.crop {
			return fmt.Errorf("input shape %s: cropping %d leaves nothing of length %d", shapeString(s), -l.grow[i], s[first+i])
		}
		outShape[first+i] = n
	}
	out := c.ar.tensor(outShape...)
	zero := make([]int, len(s))
	off := make([]int, len(s))
	for i, b := range l.before {
		off[first+i] = b
	}
	switch {
	case l.crop:
		kernel.CopyBox(out.Data, outShape, zero, x.Data, s, off, outShape)
	case l.pad:
		kernel.CopyBox(out.Data, outShape, off, x.Data, s, zero, s)
	case l.interpolation == "nearest":
		reps := repeat(1, len(s))
		copy(reps[first:], l.scale)
		kernel.Repeat(out.Data, x.Data, s, reps)
	default:
		return l.resize(c, x)
	}
	c.out = []*Tensor{out}
	return nil
}

// resize is UpSampling2D with an interpolation other than nearest: Keras
// resizes the image to size·(h, w) with ops.image.resize.
func (l *spatialResize) resize(c *call, x *Tensor) error {
	if l.channelsFirst {
		x = toChannelsLast(x, true)
	}
	s := x.Shape
	out, err := resizeImages(x, s[0], s[1], s[2], s[3], s[1]*l.scale[0], s[2]*l.scale[1], l.interpolation)
	if err != nil {
		return err
	}
	out.Shape = []int{s[0], s[1] * l.scale[0], s[2] * l.scale[1], s[3]}
	if l.channelsFirst {
		out = toChannelsFirst(out, true)
	}
	c.out = []*Tensor{out}
	return nil
}

// cannotRun: UpSampling2D's interpolation must be one tf.image.resize
// knows.
func (l *spatialResize) cannotRun() string {
	if l.interpolation == "nearest" || l.interpolation == "" {
		return ""
	}
	if _, ok := kernel.ResizeTaps(l.interpolation, 1, 1); !ok {
		return fmt.Sprintf("its interpolation %q is not one kerascope implements", l.interpolation)
	}
	return ""
}
