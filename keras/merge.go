package keras

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
