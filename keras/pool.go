package keras

import "fmt"

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

type pool struct {
	rank          int // spatial dimensions
	size, strides []int
	padding       string
	channelsFirst bool
}

// newPool returns the constructor of the N-D max or average pooling class:
// both have the same shapes.
func newPool(rank int) func(*decoder) (layerKind, error) {
	return func(d *decoder) (layerKind, error) {
		l := &pool{rank: rank}
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
}

// newGlobalPool returns the constructor of the N-D global max or average
// pooling class.
func newGlobalPool(rank int) func(*decoder) (layerKind, error) {
	return func(d *decoder) (layerKind, error) {
		return &globalPool{
			rank:          rank,
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
