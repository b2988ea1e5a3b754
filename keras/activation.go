package keras

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/tidwall/gjson"

	"github.com/kerascope/kerascope/keras/internal/kernel"
)

// The advanced activation layers ReLU, LeakyReLU, PReLU, ELU, Softmax and
// ThresholdedReLU (keras/src/layers/activations/*.py; tf_keras
// layers/activation/*.py; Keras 1 and 2 layers/advanced_activations.py).
// Activation functions by name are in activation_fn.go.
//
// All keep their input's shape. Only PReLU has a weight: alpha, of the
// input's shape without the batch dimension, with each axis listed in
// shared_axes set to 1 (Keras writes param_shape[i-1] = 1, so a negative
// axis counts from the end of that list, as Python indexing does).
//
// Config keys used: ReLU max_value, negative_slope, threshold; LeakyReLU
// negative_slope (Keras 3) or alpha (Keras 1 and 2); ELU alpha; Softmax
// axis; ThresholdedReLU theta; PReLU shared_axes. PReLU's
// initializer, regularizer and constraint only matter in training and are
// ignored.

// elementwise is an activation layer without weights.
type elementwise struct{}

func (elementwise) build([]Shape) ([]WeightSpec, error)      { return nil, nil }
func (elementwise) outputShapes(in []Shape) ([]Shape, error) { return sameShape(in) }

// reluLayer is the ReLU layer: Keras's relu with all its arguments.
type reluLayer struct {
	elementwise
	slope, maxValue, threshold float32
	hasMax                     bool
}

func newReLU(d *decoder) (layerKind, error) {
	l := &reluLayer{hasMax: d.has("max_value")}
	if l.hasMax {
		l.maxValue = float32(scalar(d, 0, "max_value"))
		nonNegative(d, float64(l.maxValue), "max_value")
	}
	l.slope = float32(scalar(d, 0, "negative_slope"))
	nonNegative(d, float64(l.slope), "negative_slope")
	l.threshold = float32(scalar(d, 0, "threshold"))
	return l, nil
}

// leakyReLU is LeakyReLU. Every Keras version defaults the slope to 0.3
// (Keras 3's negative_slope, Keras 1 and 2's alpha), unlike the
// leaky_relu activation function, whose Keras 3 default is 0.2.
type leakyReLU struct {
	elementwise
	slope float32
}

func newLeakyReLU(d *decoder) (layerKind, error) {
	l := &leakyReLU{slope: float32(scalar(d, 0.3, "negative_slope", "alpha"))}
	nonNegative(d, float64(l.slope), "negative_slope", "alpha")
	return l, nil
}

type eluLayer struct {
	elementwise
	alpha float32
}

func newELU(d *decoder) (layerKind, error) {
	return &eluLayer{alpha: float32(scalar(d, 1, "alpha"))}, nil
}

// thresholdedReLU is tf.keras's and Keras 1's ThresholdedReLU: x where
// x > theta, else 0.
type thresholdedReLU struct {
	elementwise
	theta float32
}

func newThresholdedReLU(d *decoder) (layerKind, error) {
	l := &thresholdedReLU{theta: float32(scalar(d, 1, "theta"))}
	nonNegative(d, float64(l.theta), "theta")
	return l, nil
}

// softmaxLayer is the Softmax layer, over one axis or several.
type softmaxLayer struct {
	elementwise
	axes []int
}

func newSoftmax(d *decoder) (layerKind, error) {
	// axis is an integer or a list of them; any axis keeps the shape.
	return &softmaxLayer{axes: readAxes(d, []int{-1}, "axis")}, nil
}

// All the activation layers support masking and pass their input's mask
// on (Keras sets supports_masking in each).
func (*reluLayer) passesMask() bool       { return true }
func (*leakyReLU) passesMask() bool       { return true }
func (*eluLayer) passesMask() bool        { return true }
func (*thresholdedReLU) passesMask() bool { return true }
func (*softmaxLayer) passesMask() bool    { return true }
func (*prelu) passesMask() bool           { return true }

func (l *reluLayer) forward(c *call) error {
	out := c.in[0].Clone()
	kernel.KerasRelu(out.Data, l.slope, l.maxValue, l.hasMax, l.threshold)
	c.out = []*Tensor{out}
	return nil
}

func (l *leakyReLU) forward(c *call) error {
	out := c.in[0].Clone()
	kernel.LeakyRelu(out.Data, l.slope)
	c.out = []*Tensor{out}
	return nil
}

func (l *eluLayer) forward(c *call) error {
	out := c.in[0].Clone()
	// TensorFlow computes elu(x) and multiplies by alpha only when alpha
	// is not 1; alpha·(e^x - 1) with alpha = 1 is the same number.
	kernel.Elu(out.Data, l.alpha)
	c.out = []*Tensor{out}
	return nil
}

func (l *thresholdedReLU) forward(c *call) error {
	out := c.in[0].Clone()
	kernel.ThresholdedRelu(out.Data, l.theta)
	c.out = []*Tensor{out}
	return nil
}

func (l *prelu) forward(c *call) error {
	x := c.in[0]
	alpha := c.w[0]
	if len(x.Shape) != len(alpha.Shape)+1 {
		return fmt.Errorf("input shape %s does not fit alpha of shape %s", shapeString(x.Shape), shapeString(alpha.Shape))
	}
	// idx maps each position of a sample to its alpha: the sample's
	// row-major index with the shared axes (alpha size 1) left out.
	per := shapeLen(x.Shape[1:])
	idx := make([]int32, per)
	sample := x.Shape[1:]
	for i := range sample {
		if alpha.Shape[i] != 1 && alpha.Shape[i] != sample[i] {
			return fmt.Errorf("input shape %s does not fit alpha of shape %s", shapeString(x.Shape), shapeString(alpha.Shape))
		}
	}
	var pos [maxRank]int
	for j := 0; j < per; j++ {
		a := 0
		for i, n := range alpha.Shape {
			a *= n
			if n != 1 {
				a += pos[i]
			}
		}
		idx[j] = int32(a)
		for i := len(sample) - 1; i >= 0; i-- {
			if pos[i]++; pos[i] < sample[i] {
				break
			}
			pos[i] = 0
		}
	}
	out := c.ar.tensor(x.Shape...)
	kernel.PRelu(out.Data, x.Data, alpha.Data, idx)
	c.out = []*Tensor{out}
	return nil
}

func (l *softmaxLayer) forward(c *call) error {
	x := c.in[0]
	axes, err := resolveAxes(droppedAxes(c, l.axes), len(x.Shape), "axis")
	if err != nil {
		return err
	}
	out := x.Clone()
	if len(c.masks) > 0 && c.masks[0] != nil {
		if err := maskLogits(out, c.masks[0], c.net.legacy); err != nil {
			return err
		}
	}
	softmaxAxes(out, axes)
	c.out = []*Tensor{out}
	return nil
}

// droppedAxes returns the axes a layer runs with: its default, the last
// axis, where Keras 3 loading a legacy .h5 file drops a list of several
// (see Net.axisListsDropped).
func droppedAxes(c *call, axes []int) []int {
	if c.net != nil && c.net.axisListsDropped && len(axes) > 1 {
		return []int{-1}
	}
	return axes
}

// maskLogits sets masked positions to Keras's large negative number before
// a softmax. Keras 3 replaces them with -1e9; tf.keras adds -1e9 in
// float32, which keeps a trace of the value. A mask may cover every value
// or, as Keras's propagated masks do, every position but the last axis.
func maskLogits(x *Tensor, m mask, legacy bool) error {
	_, n := rows(x)
	switch {
	case len(m) == len(x.Data):
		n = 1
	case n > 0 && len(m)*n == len(x.Data):
	default:
		return fmt.Errorf("a mask of %d values does not fit input shape %s", len(m), shapeString(x.Shape))
	}
	const big = -1e9
	for i, keep := range m {
		if keep {
			continue
		}
		row := x.Data[i*n : (i+1)*n]
		for j := range row {
			if legacy {
				row[j] += big
			} else {
				row[j] = big
			}
		}
	}
	return nil
}

// softmaxAxes applies softmax over the given axes of x in place: over
// their positions taken together when there are several (Keras's
// exp(x - logsumexp(x, axes))).
func softmaxAxes(x *Tensor, axes []int) {
	if len(axes) == 1 {
		a := axes[0]
		outer, inner := shapeLen(x.Shape[:a]), shapeLen(x.Shape[a+1:])
		if n := x.Shape[a]; n > 0 {
			kernel.Softmax(x.Data, outer, n, inner)
		}
		return
	}
	// Move the axes to the end, take the softmax of each row, move them
	// back.
	perm, inv := axesLast(len(x.Shape), axes)
	shape := permuted(x.Shape, perm)
	tmp := make([]float32, len(x.Data))
	kernel.Transpose(tmp, x.Data, x.Shape, perm)
	n := 1
	for _, a := range axes {
		n *= x.Shape[a]
	}
	if n > 0 {
		kernel.Softmax(tmp, len(tmp)/n, n, 1)
	}
	kernel.Transpose(x.Data, tmp, shape, inv)
}

// axesLast returns the permutation moving axes (in increasing order) after
// the other axes of a rank-r tensor, and its inverse.
func axesLast(r int, axes []int) (perm, inv []int) {
	sorted := slices.Sorted(slices.Values(axes))
	for i := 0; i < r; i++ {
		if !slices.Contains(sorted, i) {
			perm = append(perm, i)
		}
	}
	perm = append(perm, sorted...)
	inv = make([]int, r)
	for i, p := range perm {
		inv[p] = i
	}
	return perm, inv
}

// permuted returns shape with its axes in the order perm gives.
func permuted(shape, perm []int) []int {
	out := make([]int, len(perm))
	for i, p := range perm {
		out[i] = shape[p]
	}
	return out
}

// scalar reads a number argument. Keras 3 may serialize one as a tensor
// or NumPy object, {"class_name": "__tensor__", "config": {"value": [x]}};
// its value is then taken as given.
func scalar(d *decoder, def float64, keys ...string) float64 {
	r, k := d.lookup(keys...)
	if r.IsObject() {
		switch r.Get("class_name").Str {
		case "__tensor__", "__numpy__":
			v := r.Get("config.value")
			if v.IsArray() && len(v.Array()) == 1 {
				v = v.Array()[0]
			}
			if v.Type == gjson.Number {
				return v.Float()
			}
		}
		d.fail(k, "got %s, want a number", short(r.Raw))
		return def
	}
	return d.float(def, keys...)
}

// nonNegative fails the decoder when a value Keras requires to be >= 0 is
// negative.
func nonNegative(d *decoder, v float64, keys ...string) {
	if d.err == nil && v < 0 {
		_, k := d.lookup(keys...)
		d.fail(k, "got %g, want a non-negative number", v)
	}
}

// prelu is PReLU: one alpha per input element, shared along shared_axes.
type prelu struct {
	shared []int
}

func newPReLU(d *decoder) (layerKind, error) {
	l := &prelu{}
	if d.has("shared_axes") {
		l.shared = readAxes(d, nil, "shared_axes")
	}
	return l, nil
}

func (l *prelu) build(in []Shape) ([]WeightSpec, error) {
	if err := wantInputs(in, 1); err != nil {
		return nil, err
	}
	if err := wantRank(in[0], 2, -1); err != nil {
		return nil, err
	}
	alpha := in[0][1:].Clone()
	for _, a := range l.shared {
		i := a - 1
		if i < 0 {
			i += len(alpha)
		}
		if i < 0 || i >= len(alpha) {
			return nil, formatErrorf("config.shared_axes: axis %d is out of range for input shape %s", a, in[0])
		}
		alpha[i] = 1
	}
	for i, n := range alpha {
		if n < 0 {
			return nil, formatErrorf("input shape %s: dimension %d must be known, or shared", in[0], i+1)
		}
	}
	return []WeightSpec{{Name: "alpha", Shape: alpha, Trainable: true}}, nil
}

func (l *prelu) outputShapes(in []Shape) ([]Shape, error) { return sameShape(in) }

func (elementwise) explain(string, []Shape) (*formula, error) { return noWeights(""), nil }

// explain: one learned slope per input value, shared along shared_axes.
func (l *prelu) explain(class string, in []Shape) (*formula, error) {
	if err := wantInputs(in, 1); err != nil {
		return nil, err
	}
	if err := wantRank(in[0], 2, -1); err != nil {
		return nil, err
	}
	alpha := in[0][1:].Clone()
	var shared []string
	for _, a := range l.shared {
		i := a - 1
		if i < 0 {
			i += len(alpha)
		}
		if i < 0 || i >= len(alpha) {
			return nil, formatErrorf("shared axis %d is out of range", a)
		}
		alpha[i] = 1
		shared = append(shared, strconv.Itoa(a))
	}
	terms := []Term{newTerm("alpha", true, alpha...)}
	body := equation(terms) + ", one negative slope per input value"
	if len(shared) > 0 {
		body += ", shared along axis " + nameList(shared)
	}
	return &formula{head: class + ", input " + in[0].String(), body: body, terms: terms}, nil
}
