package keras

import (
	"fmt"
	"strings"

	"github.com/kerascope/kerascope/keras/bind"
	"github.com/kerascope/kerascope/keras/internal/kernel"
)

// The convolution layers, mirroring Keras 3's
// keras/src/layers/convolutional/base_{conv,conv_transpose,depthwise_conv,
// separable_conv}.py and the shape arithmetic of
// keras/src/ops/operation_utils.py (compute_conv_output_shape) and
// keras/src/backend/common/backend_utils.py
// (compute_conv_transpose_output_shape); tf_keras's conv_utils gives the
// same lengths. N is the rank: 1, 2 or 3.
//
//	ConvND           kernel (*k, in/groups, filters), bias (filters)
//	ConvNDTranspose  kernel (*k, filters, in), bias (filters)
//	DepthwiseConvND  kernel (*k, in, dm), bias (in·dm); N = 1, 2
//	SeparableConvND  depthwise_kernel (*k, in, dm),
//	                 pointwise_kernel (1…, in·dm, filters), bias (filters)
//
// Keras 3 names the depthwise kernel "kernel"; tf_keras names it
// "depthwise_kernel". Weights are matched by position, so only the name
// shown differs.
//
// Inputs are (batch, *spatial, channels), or (batch, channels, *spatial)
// with data_format channels_first. Each spatial length n becomes, with
// kernel k, stride s, dilation d and effective kernel e = d·(k-1) + 1:
//
//	valid        (n - e) // s + 1, which must be positive
//	same, causal ceil(n / s)
//	transpose    valid: (n-1)·s + max(e, s), or (n-1)·s + e + output_padding
//	             same:  n·s,                 or (n-1)·s + e%2 + output_padding
//
// Used config: filters, kernel_size, strides, padding, data_format,
// dilation_rate, groups, depth_multiplier, output_padding, use_bias,
// activation, and the Keras 1 spellings nb_filter, filter_length, nb_row,
// nb_col, kernel_dim1..3, subsample(_length), border_mode, dim_ordering,
// atrous_rate and bias. Initializers, regularizers and constraints matter
// only in training and are ignored. Keras 1's Deconvolution2D output_shape
// is ignored too, as Keras 2 did when it loaded such a file. Keras 3's
// lora_rank is not modelled.

type convKind int

const (
	plainConv convKind = iota
	transposeConv
	depthwiseConv
	separableConv
)

type conv struct {
	kind            convKind
	rank            int // spatial dimensions
	filters         int // unused by depthwise
	depthMultiplier int // depthwise and separable
	groups          int
	kernel          []int
	strides         []int
	dilation        []int
	outputPadding   []int // transpose only; nil lets Keras infer it
	padding         string
	channelsFirst   bool
	useBias         bool
	activation      string
	// keras1 is how Keras 1 stored the kernel, for files it saved;
	// legacy is why a Keras 1 kernel layout that is not converted keeps the
	// layer from running ("" for every other layout).
	keras1 bind.Keras1
	legacy string
	// padBefore and padAfter, set only on the load-time copy of a layer
	// that a ZeroPadding layer was folded into (fuse.go), pad each
	// spatial axis of the input with zeros before the layer's own
	// padding applies; the window reads the zeros in place.
	padBefore, padAfter []int
	// packed, set only on the load-time copy (pack.go), holds the kernel
	// (the pointwise one of a separable convolution) packed for
	// kernel.MulPacked, one matrix per group; the call's kernel weight is
	// then nil.
	packed []*kernel.Packed
	// epi, with packed, is the bias and relu the product applies to its
	// rows as it completes them, and for a depthwise convolution those
	// its loop applies (then useBias is false).
	epi kernel.Epilogue
}

func (l *conv) keras1Layout() bind.Keras1 { return l.keras1 }

// newConv returns the constructor of one convolution class.
func newConv(kind convKind, rank int) func(*decoder) (layerKind, error) {
	return func(d *decoder) (layerKind, error) { return decodeConv(d, kind, rank), nil }
}

func decodeConv(d *decoder, kind convKind, rank int) *conv {
	l := &conv{kind: kind, rank: rank, groups: 1, depthMultiplier: 1}
	if kind != depthwiseConv {
		l.filters = d.int(0, "filters", "nb_filter")
		if d.err == nil && l.filters <= 0 {
			d.fail("filters", "got %d, want a positive integer", l.filters)
		}
	}
	l.kernel = kernelSize(d, rank)
	l.strides = d.positives(repeat(1, rank), rank, "strides", "subsample_length", "subsample")
	l.dilation = d.positives(repeat(1, rank), rank, "dilation_rate", "atrous_rate")
	// tf_keras SeparableConv1D accepts causal padding as Conv1D does.
	l.padding = d.padding(rank == 1 && kind != transposeConv && kind != depthwiseConv)
	l.channelsFirst = d.channelsFirst()
	l.keras1, l.legacy = keras1Layout(d, kind, rank)
	l.useBias = d.boolean(true, "use_bias", "bias")
	l.activation = d.activation("linear", "activation")
	switch kind {
	case plainConv:
		l.groups = d.int(1, "groups")
		if d.err == nil && (l.groups <= 0 || l.filters%l.groups != 0) {
			d.fail("groups", "got %d, want a positive divisor of filters (%d)", l.groups, l.filters)
		}
	case transposeConv:
		if d.has("output_padding") {
			l.outputPadding = d.ints(nil, rank, "output_padding")
			for i, p := range l.outputPadding {
				if d.err == nil && (p < 0 || p >= l.strides[i]) {
					d.fail("output_padding", "got %s, want values from 0 to less than the strides",
						short(d.cfg.Get("output_padding").Raw))
				}
			}
		}
	case depthwiseConv, separableConv:
		l.depthMultiplier = d.int(1, "depth_multiplier")
		if d.err == nil && l.depthMultiplier <= 0 {
			d.fail("depth_multiplier", "got %d, want a positive integer", l.depthMultiplier)
		}
	}
	return l
}

// kernelSize reads kernel_size, or Keras 1's spellings of it: filter_length
// in 1D, else one key per dimension (nb_row and nb_col, kernel_dim1..3).
func kernelSize(d *decoder, rank int) []int {
	legacy := []string{"nb_row", "nb_col"}
	if rank == 3 {
		legacy = []string{"kernel_dim1", "kernel_dim2", "kernel_dim3"}
	}
	if rank == 1 || d.has("kernel_size") || !d.has(legacy[0]) {
		return d.positives(nil, rank, "kernel_size", "filter_length")
	}
	k := make([]int, rank)
	for i, key := range legacy {
		k[i] = d.positives(nil, 1, key)[0]
	}
	return k
}

// repeat returns n copies of v.
func repeat(v, n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = v
	}
	return s
}

// positives reads an integer or a list of n integers, all positive. A nil
// default makes the key required.
func (d *decoder) positives(def []int, n int, keys ...string) []int {
	v := d.ints(def, n, keys...)
	r, key := d.lookup(keys...)
	if d.err != nil {
		return repeat(1, n)
	}
	if v == nil {
		d.fail(key, "missing, want an integer or a list of %d integers", n)
		return repeat(1, n)
	}
	for _, x := range v {
		if x <= 0 {
			d.fail(key, "got %s, want positive integers", short(r.Raw))
			return repeat(1, n)
		}
	}
	return v
}

// padding reads the padding mode, which Keras lower-cases. Keras 1's
// "full" mode had no Keras 2 equivalent.
func (d *decoder) padding(causal bool) string {
	r, key := d.lookup("padding", "border_mode")
	p := strings.ToLower(d.str("valid", "padding", "border_mode"))
	switch {
	case p == "valid" || p == "same" || (causal && p == "causal"):
		return p
	case p == "full" && d.err == nil:
		d.err = unsupportedf("config.%s: %q padding (Keras 1 on Theano)", key, r.Str)
	case causal:
		d.fail(key, "got %s, want valid, same or causal", short(r.Raw))
	default:
		d.fail(key, "got %s, want valid or same", short(r.Raw))
	}
	return "valid"
}

// channelsFirst reads data_format, or Keras 1's dim_ordering ("th" for
// Theano's channels-first order). An absent value means Keras's default
// image_data_format, channels_last.
func (d *decoder) channelsFirst() bool {
	r, key := d.lookup("data_format", "dim_ordering")
	switch strings.ToLower(d.str("channels_last", "data_format", "dim_ordering")) {
	case "channels_last", "tf", "default":
		return false
	case "channels_first", "th":
		return true
	}
	d.fail(key, "got %s, want channels_last or channels_first", short(r.Raw))
	return false
}

// spatialStart returns the axis of the first spatial dimension.
func spatialStart(channelsFirst bool) int {
	if channelsFirst {
		return 2
	}
	return 1
}

// channelAxis returns the channel axis of an input of rank r.
func channelAxis(r int, channelsFirst bool) int {
	if channelsFirst {
		return 1
	}
	return r - 1
}

// checkInput checks a call's single input has the rank of an N-D spatial
// layer and no dimension too large for exact shape arithmetic.
func checkInput(in []Shape, spatial int) error {
	if err := wantInputs(in, 1); err != nil {
		return err
	}
	if err := wantRank(in[0], spatial+2, spatial+2); err != nil {
		return err
	}
	return checkDims(in[0])
}

// checkDims rejects dimensions beyond maxDim, so that products and sums of
// a few of them cannot overflow.
func checkDims(s Shape) error {
	for _, n := range s {
		if n > maxDim {
			return formatErrorf("shape %s: dimension %d is more than %d", s, n, maxDim)
		}
	}
	return nil
}

func (l *conv) inChannels(s Shape) (int, error) {
	c := s[channelAxis(len(s), l.channelsFirst)]
	if c < 0 {
		return 0, formatErrorf("input shape %s: the channel dimension must be known", s)
	}
	return c, nil
}

func (l *conv) build(in []Shape) ([]WeightSpec, error) {
	if err := checkInput(in, l.rank); err != nil {
		return nil, err
	}
	c, err := l.inChannels(in[0])
	if err != nil {
		return nil, err
	}
	// kernel returns the kernel size followed by the given dimensions.
	kernel := func(dims ...int) Shape {
		return append(append(Shape{}, l.kernel...), dims...)
	}
	var w []WeightSpec
	add := func(name string, s Shape) {
		w = append(w, WeightSpec{Name: name, Shape: s, Trainable: true})
	}
	out := l.filters
	switch l.kind {
	case plainConv:
		if c%l.groups != 0 {
			return nil, formatErrorf("input shape %s: %d channels do not divide into %d groups", in[0], c, l.groups)
		}
		add("kernel", kernel(c/l.groups, l.filters))
	case transposeConv:
		add("kernel", kernel(l.filters, c))
	case depthwiseConv:
		// tf_keras names this weight depthwise_kernel.
		add("kernel", kernel(c, l.depthMultiplier))
		out = c * l.depthMultiplier
	case separableConv:
		add("depthwise_kernel", kernel(c, l.depthMultiplier))
		add("pointwise_kernel", append(Shape(repeat(1, l.rank)), c*l.depthMultiplier, l.filters))
	}
	if l.useBias {
		add("bias", Shape{out})
	}
	return w, nil
}

func (l *conv) outputShapes(in []Shape) ([]Shape, error) {
	if err := checkInput(in, l.rank); err != nil {
		return nil, err
	}
	s := in[0]
	out := s.Clone()
	out[channelAxis(len(s), l.channelsFirst)] = l.filters
	if l.kind == depthwiseConv {
		c, err := l.inChannels(s)
		if err != nil {
			return nil, err
		}
		out[channelAxis(len(s), l.channelsFirst)] = c * l.depthMultiplier
	}
	first := spatialStart(l.channelsFirst)
	for i := range l.rank {
		n, err := l.length(s[first+i], i)
		if err != nil {
			return nil, fmt.Errorf("input shape %s: %w", s, err)
		}
		out[first+i] = n
	}
	if err := checkDims(out); err != nil {
		return nil, err
	}
	return []Shape{out}, nil
}

// length returns the output length of spatial dimension i for input
// length n (None stays None).
func (l *conv) length(n, i int) (int, error) {
	if l.kind == transposeConv {
		op := -1 // None: Keras infers it
		if l.outputPadding != nil {
			op = l.outputPadding[i]
		}
		return deconvLength(n, l.kernel[i], l.strides[i], l.dilation[i], l.padding, op)
	}
	return convLength(n, l.kernel[i], l.strides[i], l.dilation[i], l.padding)
}

// convLength is compute_conv_output_shape for one dimension; pooling uses
// it with dilation 1. Keras rejects a valid-padded window larger than its
// input.
func convLength(n, k, s, dil int, padding string) (int, error) {
	if n < 0 {
		return None, nil
	}
	if padding != "valid" {
		return floorDiv(n-1, s) + 1, nil
	}
	e := dil*(k-1) + 1
	if n < e {
		return 0, formatErrorf("a window of %d does not fit in length %d", e, n)
	}
	return (n-e)/s + 1, nil
}

// deconvLength is _get_output_shape_given_tf_padding for one dimension:
// the inverse of convLength, made exact by output padding op when it is
// not negative (None). Only an empty input can make the result negative.
func deconvLength(n, k, s, dil int, padding string, op int) (int, error) {
	if n < 0 {
		return None, nil
	}
	e := dil*(k-1) + 1
	var out int
	switch {
	case padding == "valid" && op < 0:
		out = (n-1)*s + max(e, s)
	case padding == "valid":
		out = (n-1)*s + e + op
	case op < 0:
		out = n * s
	default:
		out = (n-1)*s + e%2 + op
	}
	if out < 0 {
		return 0, formatErrorf("length %d gives a negative output length %d", n, out)
	}
	return out, nil
}

// floorDiv divides rounding toward negative infinity, as Python's // and
// numpy's floor do.
func floorDiv(a, b int) int {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// explain: a filter spans the kernel window over every input channel of
// its group, plus a bias: filters × (window × channels + 1). Depthwise
// kernels span one channel each; a separable convolution is a depthwise
// one followed by a 1×1 pointwise one.
func (l *conv) explain(class string, in []Shape) (*formula, error) {
	if err := checkInput(in, l.rank); err != nil {
		return nil, err
	}
	c, err := l.inChannels(in[0])
	if err != nil {
		return nil, err
	}
	window := dims(l.kernel...)
	kernel := func(label string, d ...int) Term {
		return newTerm(label, true, append(append([]int{}, l.kernel...), d...)...)
	}
	var args []string
	if l.kind != depthwiseConv {
		args = append(args, num(l.filters))
	}
	args = append(args, window)
	if l.groups > 1 {
		args = append(args, "groups "+num(l.groups))
	}
	if l.depthMultiplier > 1 {
		args = append(args, "depth multiplier "+num(l.depthMultiplier))
	}
	var terms []Term
	factored := ""
	out := l.filters
	switch l.kind {
	case plainConv:
		if c%l.groups != 0 {
			return nil, formatErrorf("%d channels do not divide into %d groups", c, l.groups)
		}
		k := kernel("kernel", c/l.groups, l.filters)
		if l.groups > 1 {
			k = k.noted(plural(c, "channel") + " in " + num(l.groups) + " groups of " + num(c/l.groups))
		}
		terms = append(terms, k)
		factored = plural(l.filters, "filter") + " × (" + window + "×" + num(c/l.groups) + " + 1)"
	case transposeConv:
		terms = append(terms, kernel("kernel", l.filters, c))
		factored = plural(l.filters, "filter") + " × (" + window + "×" + num(c) + " + 1)"
	case depthwiseConv:
		terms = append(terms, kernel("depthwise kernel", c, l.depthMultiplier))
		out = c * l.depthMultiplier
		factored = plural(c, "channel") + " × (" + window + " + 1)"
		if l.depthMultiplier > 1 {
			factored = plural(c, "channel") + " × " + num(l.depthMultiplier) + " × (" + window + " + 1)"
		}
	case separableConv:
		terms = append(terms,
			kernel("depthwise kernel", c, l.depthMultiplier),
			newTerm("pointwise kernel", true, append(repeat(1, l.rank), c*l.depthMultiplier, l.filters)...))
	}
	if l.useBias {
		b := newTerm("bias", true, out)
		if l.kind == depthwiseConv && l.depthMultiplier > 1 {
			b = b.noted(plural(c, "channel") + " × " + num(l.depthMultiplier))
		}
		terms = append(terms, b)
	} else {
		factored = ""
	}
	return &formula{
		head:  class + "(" + strings.Join(args, ", ") + "), " + plural(c, "channel") + " in",
		body:  equation(terms, factored),
		terms: terms,
	}, nil
}
