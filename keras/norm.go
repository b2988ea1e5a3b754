package keras

import (
	"slices"
	"strconv"

	"github.com/tidwall/gjson"
)

// The normalization layers BatchNormalization (and tf.keras's
// SyncBatchNormalization), LayerNormalization, GroupNormalization,
// UnitNormalization, RMSNormalization and the Normalization preprocessing
// layer (keras/src/layers/normalization/*.py and
// preprocessing/normalization.py; tf_keras layers/normalization and
// preprocessing/normalization.py; Keras 1 layers/normalization.py).
//
// All keep their input's shape. Weights, with C the size of the
// normalized axis:
//
//	BatchNormalization: gamma (C) if scale, beta (C) if center, then the
//	    non-trainable moving_mean (C), moving_variance (C), and with renorm
//	    moving_stddev, renorm_mean, renorm_stddev (C). With several axes (or
//	    tf.keras's virtual_batch_size) each is shaped to broadcast against
//	    the input instead: the axes' sizes, 1 elsewhere.
//	    Keras 1 named the statistics running_mean and running_std and had
//	    neither center nor scale; its mode does not change the weights.
//	LayerNormalization: gamma then beta, each of the normalized axes'
//	    sizes, in the axes' order (Keras 3 sorts them first; tf.keras does
//	    not, and saves them resolved to positive indices). Keras 3's
//	    deprecated rms_scaling keeps gamma only.
//	GroupNormalization: gamma (C) if scale, beta (C) if center; groups must
//	    divide C (-1 means one group per channel).
//	RMSNormalization: scale, of the normalized axes' sizes.
//	UnitNormalization: none.
//	Normalization: mean and variance, of the kept axes' sizes, and the
//	    int64 scalar count, all non-trainable, when the layer is adapted;
//	    none when the config gives mean and variance.
//
// Keys used: axis, center, scale, renorm, virtual_batch_size, mode (Keras 1),
// rms_scaling, groups, mean, variance, invert, epsilon. Ignored, as they
// only matter in training: momentum, initializers, regularizers,
// constraints, fused, renorm_clipping, renorm_momentum, synchronized.
// The forward passes are in norm_forward.go.

// readAxes reads an axis argument: an integer or a list of integers.
func readAxes(d *decoder, def []int, keys ...string) []int {
	r, k := d.lookup(keys...)
	if !r.Exists() || r.Type == gjson.Null {
		return def
	}
	if v, ok := intValue(r); ok {
		return []int{v}
	}
	if !r.IsArray() {
		d.fail(k, "got %s, want an integer or a list of integers", short(r.Raw))
		return def
	}
	arr := r.Array()
	if len(arr) > maxRank {
		d.fail(k, "got %d axes, more than %d", len(arr), maxRank)
		return def
	}
	if out, ok := d.intArray(k, arr); ok {
		return out
	}
	return def
}

// resolveAxes turns axes that may count from the end into indices of a
// shape of the given rank, as tf_keras's validate_axis does, rejecting
// axes out of range and duplicates.
func resolveAxes(axes []int, rank int, key string) ([]int, error) {
	out := make([]int, len(axes))
	for i, a := range axes {
		if a < 0 {
			a += rank
		}
		if a < 0 || a >= rank {
			return nil, formatErrorf("config.%s: axis %d is out of range for rank %d", key, axes[i], rank)
		}
		for _, b := range out[:i] {
			if a == b {
				return nil, formatErrorf("config.%s: axis %d appears twice", key, axes[i])
			}
		}
		out[i] = a
	}
	return out, nil
}

// axisDims returns the sizes of s along axes, which must be known: weights
// are sized by them.
func axisDims(s Shape, axes []int, key string) (Shape, error) {
	dims := make(Shape, len(axes))
	for i, a := range axes {
		if s[a] < 0 {
			return nil, formatErrorf("config.%s: axis %d of input shape %s must be known", key, a, s)
		}
		dims[i] = s[a]
	}
	return dims, nil
}

type batchNorm struct {
	axes          []int
	center, scale bool
	renorm        bool
	virtualBatch  bool
	keras1        bool
	mode          int // Keras 1: 0 feature-wise with moving statistics
	epsilon       float64
}

func newBatchNorm(d *decoder) (layerKind, error) {
	l := &batchNorm{
		axes:    readAxes(d, []int{-1}, "axis"),
		center:  d.boolean(true, "center"),
		scale:   d.boolean(true, "scale"),
		renorm:  d.boolean(false, "renorm"),
		keras1:  d.has("mode"),
		mode:    d.int(0, "mode"),
		epsilon: d.float(1e-3, "epsilon"),
	}
	if d.has("virtual_batch_size") {
		if v := d.int(0, "virtual_batch_size"); d.err == nil && v <= 0 {
			d.fail("virtual_batch_size", "got %d, want a positive integer", v)
		}
		l.virtualBatch = true
	}
	if d.err == nil && len(l.axes) == 0 {
		d.fail("axis", "got no axes")
	}
	return l, nil
}

func (l *batchNorm) build(in []Shape) ([]WeightSpec, error) {
	if err := wantInputs(in, 1); err != nil {
		return nil, err
	}
	s := in[0]
	axes, err := resolveAxes(l.axes, len(s), "axis")
	if err != nil {
		return nil, err
	}
	dims, err := axisDims(s, axes, "axis")
	if err != nil {
		return nil, err
	}
	shape := dims
	if len(axes) > 1 || l.virtualBatch {
		// tf_keras batch_normalization.py build: a shape that broadcasts.
		shape = ones(len(s))
		for i, a := range axes {
			shape[a] = dims[i]
		}
		if l.virtualBatch {
			shape = append(Shape{shape[0], 1}, shape[1:]...)
		}
	}
	var w []WeightSpec
	if l.scale {
		w = append(w, WeightSpec{Name: "gamma", Shape: shape, Trainable: true})
	}
	if l.center {
		w = append(w, WeightSpec{Name: "beta", Shape: shape.Clone(), Trainable: true})
	}
	stats := []string{"moving_mean", "moving_variance"}
	if l.keras1 {
		stats = []string{"running_mean", "running_std"}
	}
	if l.renorm {
		stats = append(stats, "moving_stddev", "renorm_mean", "renorm_stddev")
	}
	for _, name := range stats {
		w = append(w, WeightSpec{Name: name, Shape: shape.Clone()})
	}
	return w, nil
}

func (l *batchNorm) outputShapes(in []Shape) ([]Shape, error) { return sameShape(in) }

// layerNorm is LayerNormalization and RMSNormalization: weights sized by
// the normalized axes.
type layerNorm struct {
	axes    []int
	sort    bool // Keras 3 sorts the axes as given, negative ones first
	weights []string
	epsilon float64
	rms     bool // Keras 3's LayerNormalization(rms_scaling=True)
	rmsNorm bool // RMSNormalization
}

func newLayerNorm(d *decoder) (layerKind, error) {
	l := &layerNorm{axes: readAxes(d, []int{-1}, "axis"), sort: !tfShapes(d), epsilon: d.float(1e-3, "epsilon")}
	l.rms = d.boolean(false, "rms_scaling")
	if d.boolean(true, "scale") || l.rms {
		l.weights = append(l.weights, "gamma")
	}
	if d.boolean(true, "center") && !l.rms {
		l.weights = append(l.weights, "beta")
	}
	return l, nil
}

func newRMSNorm(d *decoder) (layerKind, error) {
	return &layerNorm{
		axes:    readAxes(d, []int{-1}, "axis"),
		sort:    true,
		weights: []string{"scale"},
		epsilon: d.float(1e-6, "epsilon"),
		rmsNorm: true,
	}, nil
}

func (l *layerNorm) build(in []Shape) ([]WeightSpec, error) {
	if err := wantInputs(in, 1); err != nil {
		return nil, err
	}
	// The weights have the axes' sizes in the order of the axes: Keras 3
	// sorts them as given, negative ones first; tf.keras keeps the order.
	axes := l.axes
	if l.sort {
		axes = slices.Sorted(slices.Values(axes))
	}
	axes, err := resolveAxes(axes, len(in[0]), "axis")
	if err != nil {
		return nil, err
	}
	dims, err := axisDims(in[0], axes, "axis")
	if err != nil {
		return nil, err
	}
	w := make([]WeightSpec, len(l.weights))
	for i, name := range l.weights {
		w[i] = WeightSpec{Name: name, Shape: dims.Clone(), Trainable: true}
	}
	return w, nil
}

func (l *layerNorm) outputShapes(in []Shape) ([]Shape, error) { return sameShape(in) }

type groupNorm struct {
	groups, axis  int
	center, scale bool
	epsilon       float64
}

func newGroupNorm(d *decoder) (layerKind, error) {
	l := &groupNorm{
		groups:  d.int(32, "groups"),
		axis:    d.int(-1, "axis"),
		center:  d.boolean(true, "center"),
		scale:   d.boolean(true, "scale"),
		epsilon: d.float(1e-3, "epsilon"),
	}
	if d.err == nil && l.groups <= 0 && l.groups != -1 {
		d.fail("groups", "got %d, want a positive integer or -1", l.groups)
	}
	return l, nil
}

func (l *groupNorm) build(in []Shape) ([]WeightSpec, error) {
	if err := wantInputs(in, 1); err != nil {
		return nil, err
	}
	axes, err := resolveAxes([]int{l.axis}, len(in[0]), "axis")
	if err != nil {
		return nil, err
	}
	dims, err := axisDims(in[0], axes, "axis")
	if err != nil {
		return nil, err
	}
	c, g := dims[0], l.groups
	if g == -1 {
		g = c
	}
	if c < g || c%g != 0 {
		return nil, formatErrorf("config.groups: %d groups do not divide %d channels", g, c)
	}
	var w []WeightSpec
	if l.scale {
		w = append(w, WeightSpec{Name: "gamma", Shape: Shape{c}, Trainable: true})
	}
	if l.center {
		w = append(w, WeightSpec{Name: "beta", Shape: Shape{c}, Trainable: true})
	}
	return w, nil
}

func (l *groupNorm) outputShapes(in []Shape) ([]Shape, error) { return sameShape(in) }

type unitNorm struct{ axes []int }

func newUnitNorm(d *decoder) (layerKind, error) {
	return unitNorm{axes: readAxes(d, []int{-1}, "axis")}, nil
}

func (l unitNorm) build(in []Shape) ([]WeightSpec, error) {
	if err := wantInputs(in, 1); err != nil {
		return nil, err
	}
	_, err := resolveAxes(l.axes, len(in[0]), "axis")
	return nil, err
}

func (unitNorm) outputShapes(in []Shape) ([]Shape, error) { return sameShape(in) }

// normalization is the Normalization preprocessing layer.
type normalization struct {
	axes  []int // the axes kept; statistics are reduced over the others
	fixed bool  // mean and variance come from the config
	// mean and variance as the config gives them, with their shapes.
	mean, variance           []float32
	meanShape, varianceShape []int
	invert                   bool
}

func newNormalization(d *decoder) (layerKind, error) {
	l := &normalization{axes: []int{-1}}
	// A null axis keeps no axis (one mean for everything); a missing one
	// is the default, the last axis.
	if r := d.cfg.Get("axis"); r.Exists() {
		l.axes = readAxes(d, nil, "axis")
	}
	l.fixed = d.has("mean")
	if d.err == nil && l.fixed != d.has("variance") {
		d.fail("variance", "mean and variance must be given together")
	}
	if l.fixed {
		l.mean, l.meanShape = configArray(d, "mean")
		l.variance, l.varianceShape = configArray(d, "variance")
	}
	l.invert = d.boolean(false, "invert")
	return l, nil
}

func (l *normalization) build(in []Shape) ([]WeightSpec, error) {
	if err := wantInputs(in, 1); err != nil {
		return nil, err
	}
	axes, err := resolveAxes(l.axes, len(in[0]), "axis")
	if err != nil {
		return nil, err
	}
	slices.Sort(axes)
	dims, err := axisDims(in[0], axes, "axis")
	if err != nil || l.fixed {
		return nil, err
	}
	return []WeightSpec{
		{Name: "mean", Shape: dims},
		{Name: "variance", Shape: dims.Clone()},
		{Name: "count", Shape: Shape{}, DType: "int64"},
	}, nil
}

func (l *normalization) outputShapes(in []Shape) ([]Shape, error) { return sameShape(in) }

// normDims returns the sizes of the normalized axes of an input of shape
// s: each weight of a normalization layer has one value per position.
func normDims(axes []int, s Shape) (Shape, error) {
	r, err := resolveAxes(axes, len(s), "axis")
	if err != nil {
		return nil, err
	}
	return axisDims(s, r, "axis")
}

// normHead writes a normalization layer's head: "LayerNormalization(axis
// -1), 64 features", "BatchNormalization(axis [1, 3]), 4×6 = 24 features".
func normHead(class string, axes []int, d Shape) string {
	if len(d) == 0 {
		return class + "(axis " + axesText(axes) + "), one feature"
	}
	if n, _ := d.Size(); n == 1 && len(d) == 1 {
		return class + "(axis " + axesText(axes) + "), 1 feature"
	}
	return class + "(axis " + axesText(axes) + "), " + sizeText(d) + " features"
}

// perFeature makes one term per name, each of one value per feature.
func perFeature(names []string, trainable bool, d Shape) []Term {
	terms := make([]Term, len(names))
	for i, n := range names {
		terms[i] = newTerm(n, trainable, d...)
	}
	return terms
}

// explain: gamma and beta (a learned scale and offset) and the moving mean
// and variance (statistics, not trained), each one value per feature.
func (l *batchNorm) explain(class string, in []Shape) (*formula, error) {
	if err := wantInputs(in, 1); err != nil {
		return nil, err
	}
	d, err := normDims(l.axes, in[0])
	if err != nil {
		return nil, err
	}
	var learned []string
	if l.scale {
		learned = append(learned, "gamma")
	}
	if l.center {
		learned = append(learned, "beta")
	}
	stats := []string{"mean", "variance"}
	prefix := "moving "
	if l.keras1 {
		stats, prefix = []string{"mean", "std"}, "running "
	}
	if l.renorm {
		stats = append(stats, "stddev")
	}
	names := append([]string{}, learned...)
	for _, s := range stats {
		names = append(names, prefix+s)
	}
	statTerms := perFeature(names[len(learned):], false, d)
	if l.renorm {
		// renorm_mean and renorm_stddev follow the moving statistics.
		statTerms = append(statTerms, perFeature([]string{"renorm mean", "renorm stddev"}, false, d)...)
		names = append(names, "renorm mean", "renorm stddev")
	}
	terms := append(perFeature(learned, true, d), statTerms...)
	n, _ := d.Size()
	body := nameList(names) + ": " + strconv.Itoa(len(terms)) + " × " + num(n) + " = " + num(sumTerms(terms))
	if len(learned) == 0 {
		body += ", all non-trainable"
	} else {
		fixed := nameList(names[len(learned):])
		if !l.renorm {
			fixed = prefix + nameList(stats)
		}
		body += ", of which " + num(nonTrainable(terms)) + " non-trainable (" + fixed + ")"
	}
	return &formula{head: normHead(class, l.axes, d), body: body, terms: terms}, nil
}

// explain: a scale (gamma) and an offset (beta) per normalized feature.
func (l *layerNorm) explain(class string, in []Shape) (*formula, error) {
	if err := wantInputs(in, 1); err != nil {
		return nil, err
	}
	axes := l.axes
	if l.sort {
		axes = slices.Sorted(slices.Values(axes))
	}
	d, err := normDims(axes, in[0])
	if err != nil {
		return nil, err
	}
	if len(l.weights) == 0 {
		return noWeights("neither scale nor center"), nil
	}
	terms := perFeature(l.weights, true, d)
	n, _ := d.Size()
	factored := ""
	if len(terms) > 1 {
		factored = strconv.Itoa(len(terms)) + " × " + num(n)
	}
	return &formula{head: normHead(class, l.axes, d), body: equation(terms, factored), terms: terms}, nil
}

// explain: a scale and an offset per channel (the groups share the
// statistics, not the weights).
func (l *groupNorm) explain(class string, in []Shape) (*formula, error) {
	if err := wantInputs(in, 1); err != nil {
		return nil, err
	}
	d, err := normDims([]int{l.axis}, in[0])
	if err != nil {
		return nil, err
	}
	c := d[0]
	groups := plural(l.groups, "group")
	if l.groups == -1 {
		groups = "a group per channel"
	}
	head := class + "(" + groups + "), " + plural(c, "channel")
	var names []string
	if l.scale {
		names = append(names, "gamma")
	}
	if l.center {
		names = append(names, "beta")
	}
	if len(names) == 0 {
		return &formula{head: head, body: "no weights"}, nil
	}
	terms := perFeature(names, true, d)
	factored := ""
	if len(terms) > 1 {
		factored = strconv.Itoa(len(terms)) + " × " + num(c)
	}
	return &formula{head: head, body: equation(terms, factored) + ", per channel, not per group", terms: terms}, nil
}

func (unitNorm) explain(string, []Shape) (*formula, error) { return noWeights(""), nil }

// explain: the mean and variance adapt() computed for each kept feature,
// and the number of samples it saw; none of them is trained.
func (l *normalization) explain(class string, in []Shape) (*formula, error) {
	if l.fixed {
		return noWeights("mean and variance are in the config"), nil
	}
	if err := wantInputs(in, 1); err != nil {
		return nil, err
	}
	d, err := normDims(l.axes, in[0])
	if err != nil {
		return nil, err
	}
	terms := append(perFeature([]string{"mean", "variance"}, false, d), newTerm("count", false))
	return &formula{
		head:  normHead(class, l.axes, d),
		body:  equation(terms) + ", all non-trainable (statistics from adapt())",
		terms: terms,
	}, nil
}
