package keras

import (
	"fmt"

	"github.com/kerascope/kerascope/keras/internal/kernel"
)

// The pooling layers, mirroring Keras 3's
// keras/src/layers/pooling/base_pooling.py and base_global_pooling.py, with
// the shape arithmetic of compute_pooling_output_shape in
// keras/src/ops/operation_utils.py (the same as convolution's with
// dilation 1, shared through convLength). None of them has weights.
//
//	MaxPoolingND, AveragePoolingND (N = 1, 2, 3; aliases MaxPoolND,
//	AvgPoolND): each spatial length n becomes (n - p) // s + 1 with valid
//	padding and ceil(n / s) with same, for pool size p and stride s.
//	GlobalMaxPoolingND, GlobalAveragePoolingND (aliases GlobalMaxPoolND,
//	GlobalAvgPoolND): (batch, channels), or with keepdims every spatial
//	dimension kept as 1.
//
// Used config: pool_size, strides (default pool_size), padding,
// data_format, keepdims, and the Keras 1 spellings pool_length, stride,
// border_mode and dim_ordering.
//
// Forward passes compute as TensorFlow's pooling ops, which Keras calls on
// its TensorFlow backend (and its other backends match): same padding
// puts the smaller half of the padding first, padded cells never win a
// max, and an average divides by the number of input cells the window
// covers, not by the window size. channels_first tensors are transposed
// to channels-last and back, as Keras itself does on CPU. No pooling layer
// supports masking except GlobalAveragePooling1D, which averages over the
// unmasked steps (sum(x·mask) / sum(mask), NaN when all are masked) and
// returns no mask (global_average_pooling1d.py in Keras 3 and tf_keras).

type pool struct {
	rank          int // spatial dimensions
	size, strides []int
	padding       string
	channelsFirst bool
	max           bool // max pooling, else average
	// padBefore and padAfter, set only on the load-time copy of a max
	// pooling that a ZeroPadding layer was folded into (fuse.go), pad
	// each spatial axis with zeros that take part in the maximum.
	padBefore, padAfter []int
}

func newMaxPool(rank int) func(*decoder) (layerKind, error) { return newPool(rank, true) }
func newAvgPool(rank int) func(*decoder) (layerKind, error) { return newPool(rank, false) }

// newPool returns the constructor of the N-D max or average pooling class:
// both have the same shapes.
func newPool(rank int, max bool) func(*decoder) (layerKind, error) {
	return func(d *decoder) (layerKind, error) {
		l := &pool{rank: rank, max: max}
		l.size = d.positives(repeat(2, rank), rank, "pool_size", "pool_length")
		l.strides = d.positives(l.size, rank, "strides", "stride")
		l.padding = d.padding(false)
		l.channelsFirst = d.channelsFirst()
		return l, nil
	}
}

func (l *pool) build(in []Shape) ([]WeightSpec, error) { return nil, checkInput(in, l.rank) }

func (l *pool) outputShapes(in []Shape) ([]Shape, error) {
	if err := checkInput(in, l.rank); err != nil {
		return nil, err
	}
	s := in[0]
	out := s.Clone()
	first := spatialStart(l.channelsFirst)
	for i := range l.rank {
		n, err := convLength(s[first+i], l.size[i], l.strides[i], 1, l.padding)
		if err != nil {
			return nil, fmt.Errorf("input shape %s: %w", s, err)
		}
		out[first+i] = n
	}
	return []Shape{out}, nil
}

type globalPool struct {
	rank          int
	channelsFirst bool
	keepDims      bool
	max           bool
}

func newGlobalMaxPool(rank int) func(*decoder) (layerKind, error) { return newGlobalPool(rank, true) }
func newGlobalAvgPool(rank int) func(*decoder) (layerKind, error) {
	return newGlobalPool(rank, false)
}

// newGlobalPool returns the constructor of the N-D global max or average
// pooling class.
func newGlobalPool(rank int, max bool) func(*decoder) (layerKind, error) {
	return func(d *decoder) (layerKind, error) {
		return &globalPool{
			rank:          rank,
			max:           max,
			channelsFirst: d.channelsFirst(),
			keepDims:      d.boolean(false, "keepdims"),
		}, nil
	}
}

func (l *globalPool) build(in []Shape) ([]WeightSpec, error) { return nil, checkInput(in, l.rank) }

func (l *globalPool) outputShapes(in []Shape) ([]Shape, error) {
	if err := checkInput(in, l.rank); err != nil {
		return nil, err
	}
	s := in[0]
	c := s[channelAxis(len(s), l.channelsFirst)]
	if !l.keepDims {
		return []Shape{{s[0], c}}, nil
	}
	out := Shape(repeat(1, len(s)))
	out[0] = s[0]
	out[channelAxis(len(s), l.channelsFirst)] = c
	return []Shape{out}, nil
}

func (*pool) explain(string, []Shape) (*formula, error)       { return noWeights(""), nil }
func (*globalPool) explain(string, []Shape) (*formula, error) { return noWeights(""), nil }

func (l *pool) forward(c *call) error {
	x, err := oneInput(c, l.rank+2, l.rank+2)
	if err != nil {
		return err
	}
	if l.channelsFirst {
		x = toChannelsLast(x, true)
	}
	s := x.Shape
	w := kernel.PoolWindow{In: [3]int{1, 1, 1}, Out: [3]int{1, 1, 1}, Size: [3]int{1, 1, 1}, Stride: [3]int{1, 1, 1}}
	outShape := append([]int(nil), s...)
	for i := range l.rank {
		n := s[1+i]
		padded := n
		if l.padBefore != nil {
			padded += l.padBefore[i] + l.padAfter[i]
		}
		out, err := convLength(padded, l.size[i], l.strides[i], 1, l.padding)
		if err != nil {
			return fmt.Errorf("input shape %s: %w", shapeString(s), err)
		}
		a := 3 - l.rank + i // 1-D pools along w, 2-D along h and w
		w.In[a], w.Out[a], w.Size[a], w.Stride[a] = n, out, l.size[i], l.strides[i]
		switch {
		case l.padBefore != nil:
			w.Pad[a], w.ZeroPad = l.padBefore[i], true
		case l.padding == "same":
			w.Pad[a] = max((out-1)*l.strides[i]+l.size[i]-n, 0) / 2
		}
		outShape[1+i] = out
	}
	out := c.ar.output(outShape...)
	ch := s[len(s)-1]
	if l.max {
		kernel.MaxPool(out.Data, x.Data, s[0], ch, &w)
	} else {
		kernel.AvgPool(out.Data, x.Data, s[0], ch, &w)
	}
	if l.channelsFirst {
		out = toChannelsFirst(out, true)
	}
	c.out = []*Tensor{out}
	return nil
}

func (l *globalPool) forward(c *call) error {
	x, err := oneInput(c, l.rank+2, l.rank+2)
	if err != nil {
		return err
	}
	s := x.Shape
	batch := s[0]
	ch := s[channelAxis(len(s), l.channelsFirst)]
	n := 1
	for _, d := range s[spatialStart(l.channelsFirst) : spatialStart(l.channelsFirst)+l.rank] {
		n *= d
	}
	src := x.Data
	if l.channelsFirst {
		// (batch, ch, n) -> (batch, n, ch)
		src = make([]float32, len(x.Data))
		kernel.Transpose(src, x.Data, []int{batch, ch, n}, []int{0, 2, 1})
	}
	outShape := []int{batch, ch}
	if l.keepDims {
		outShape = repeat(1, len(s))
		outShape[0] = batch
		outShape[channelAxis(len(s), l.channelsFirst)] = ch
	}
	out := c.ar.output(outShape...)
	if l.max {
		kernel.GlobalMax(out.Data, src, batch, n, ch)
	} else {
		var m mask
		if l.rank == 1 && len(c.masks) > 0 && c.masks[0] != nil {
			// Keras's mask is (batch, steps) in either data format.
			if m = c.masks[0]; len(m) != batch*n {
				return fmt.Errorf("mask of %d values for input shape %s, want %d", len(m), shapeString(s), batch*n)
			}
		}
		// The accumulators on the stack for up to 2048 channels (every
		// application's), so that a squeeze-and-excite network's many
		// poolings make no garbage.
		var stack [2048]float64
		acc := stack[:]
		if ch > len(stack) {
			acc = make([]float64, ch)
		}
		kernel.GlobalAvg(out.Data, src, m, batch, n, ch, acc)
	}
	c.out = []*Tensor{out}
	return nil
}
