package keras

import (
	"fmt"
	"math"
	"slices"

	"github.com/tidwall/gjson"

	"github.com/kerascope/kerascope/keras/internal/kernel"
)

// The normalization layers' forward passes (decoding and shapes are in
// norm.go). Per-feature weights sized by several axes are indexed
// row-major over those axes in increasing order: Keras 3 and tf.keras both
// reshape them to a shape that broadcasts against the input, whatever
// order the axes were listed in.

// featureView returns the (outer, features, inner) view of a tensor of the
// given shape whose feature axes are axes (resolved, increasing), when
// they are contiguous; ok is false otherwise.
func featureView(shape []int, axes []int) (outer, c, inner int, ok bool) {
	for i := 1; i < len(axes); i++ {
		if axes[i] != axes[i-1]+1 {
			return 0, 0, 0, false
		}
	}
	first, last := axes[0], axes[len(axes)-1]
	return shapeLen(shape[:first]), shapeLen(shape[first : last+1]), shapeLen(shape[last+1:]), true
}

// featureApply runs f on x's data viewed as (outer, features, inner), the
// features being the values along axes (resolved, increasing), and
// returns the result as a new tensor. Non-contiguous axes are moved to the
// end first and back afterwards.
func featureApply(ar *arena, x *Tensor, axes []int, f func(dst, src []float32, outer, c, inner int)) *Tensor {
	out := ar.tensor(x.Shape...)
	if outer, c, inner, ok := featureView(x.Shape, axes); ok {
		f(out.Data, x.Data, outer, c, inner)
		return out
	}
	perm, inv := axesLast(len(x.Shape), axes)
	shape := permuted(x.Shape, perm)
	src := make([]float32, len(x.Data))
	kernel.Transpose(src, x.Data, x.Shape, perm)
	tmp := make([]float32, len(x.Data))
	c := 1
	for _, a := range axes {
		c *= x.Shape[a]
	}
	if c > 0 {
		f(tmp, src, len(src)/c, c, 1)
	}
	kernel.Transpose(out.Data, tmp, shape, inv)
	return out
}

// sortedAxes resolves axes against a rank and sorts them.
func sortedAxes(axes []int, rank int) ([]int, error) {
	r, err := resolveAxes(axes, rank, "axis")
	if err != nil {
		return nil, err
	}
	slices.Sort(r)
	return r, nil
}

// wantLen checks that a weight holds n values.
func wantLen(name string, w *Tensor, n int) error {
	if w == nil || len(w.Data) != n {
		return fmt.Errorf("weight %s does not have %d values", name, n)
	}
	return nil
}

func (l *batchNorm) cannotRun() string {
	if l.keras1 && l.mode != 0 {
		return fmt.Sprintf("Keras 1's BatchNormalization(mode=%d) normalizes with the batch's own statistics, which kerascope does not compute", l.mode)
	}
	return ""
}

// forward normalizes with the moving statistics, as Keras does at
// inference: x·inv + (beta - mean·inv), inv = gamma/√(variance + ε).
// Keras 1 named the variance running_std. renorm and virtual batches
// change only training.
func (l *batchNorm) forward(c *call) error {
	x := c.in[0]
	axes, n, err := normAxes(l.axes, x)
	if err != nil {
		return err
	}
	scale, shift, err := l.scaleShift(c.w, n)
	if err != nil {
		return err
	}
	c.out = []*Tensor{featureApply(c.ar, x, axes, func(dst, src []float32, outer, _, inner int) {
		kernel.ScaleShift(dst, src, scale, shift, outer, inner)
	})}
	return nil
}

// scaleShift folds the layer's weights over n features into the scale and
// shift of x·scale + shift; load-time folding (fuse.go) uses the same.
func (l *batchNorm) scaleShift(w []*Tensor, n int) (scale, shift []float32, err error) {
	var gamma, beta *Tensor
	if l.scale {
		if len(w) < 1 {
			return nil, nil, fmt.Errorf("missing gamma")
		}
		gamma, w = w[0], w[1:]
	}
	if l.center {
		if len(w) < 1 {
			return nil, nil, fmt.Errorf("missing beta")
		}
		beta, w = w[0], w[1:]
	}
	if len(w) < 2 {
		return nil, nil, fmt.Errorf("missing moving statistics")
	}
	mean, variance := w[0], w[1]
	for _, p := range []struct {
		name string
		t    *Tensor
	}{{"gamma", gamma}, {"beta", beta}, {"moving_mean", mean}, {"moving_variance", variance}} {
		if p.t != nil || p.name == "moving_mean" || p.name == "moving_variance" {
			if err := wantLen(p.name, p.t, n); err != nil {
				return nil, nil, err
			}
		}
	}
	scale = make([]float32, n)
	shift = make([]float32, n)
	for i := range scale {
		inv := 1 / math.Sqrt(float64(variance.Data[i])+float64(float32(l.epsilon)))
		if gamma != nil {
			inv *= float64(gamma.Data[i])
		}
		s := -float64(mean.Data[i]) * inv
		if beta != nil {
			s += float64(beta.Data[i])
		}
		scale[i], shift[i] = float32(inv), float32(s)
	}
	return scale, shift, nil
}

func (*batchNorm) passesMask() bool { return true }

// forward is LayerNormalization (moments over the axes; Keras 3's
// rms_scaling divides by the standard deviation without centring) and
// RMSNormalization (x/√(mean(x²) + ε)·scale).
func (l *layerNorm) forward(c *call) error {
	x := c.in[0]
	axes, n, err := normAxes(l.axes, x)
	if err != nil {
		return err
	}
	weights := map[string]*Tensor{}
	for i, name := range l.weights {
		if i >= len(c.w) {
			return fmt.Errorf("missing weight %s", name)
		}
		if err := wantLen(name, c.w[i], n); err != nil {
			return err
		}
		weights[name] = c.w[i]
	}
	data := func(name string) []float32 {
		if t := weights[name]; t != nil {
			return t.Data
		}
		return nil
	}
	// Move the normalized axes to the end; the rows are then the groups
	// normalized together.
	var out *Tensor
	f := func(dst, src []float32) {
		switch {
		case n == 0:
		case l.rmsNorm:
			kernel.RMSNormRows(dst, src, data("scale"), n, l.epsilon)
		case !l.rms && data("gamma") != nil && data("beta") != nil:
			// The common case in float32, as Keras computes it.
			kernel.FastLayerNorm(dst, src, data("gamma"), data("beta"), n, float32(l.epsilon))
		default:
			kernel.LayerNormRows(dst, src, data("gamma"), data("beta"), n, l.epsilon, l.rms)
		}
	}
	if _, _, inner, ok := featureView(x.Shape, axes); ok && inner == 1 {
		out = c.ar.tensor(x.Shape...)
		f(out.Data, x.Data)
	} else {
		perm, inv := axesLast(len(x.Shape), axes)
		shape := permuted(x.Shape, perm)
		src := make([]float32, len(x.Data))
		kernel.Transpose(src, x.Data, x.Shape, perm)
		tmp := make([]float32, len(x.Data))
		f(tmp, src)
		out = c.ar.tensor(x.Shape...)
		kernel.Transpose(out.Data, tmp, shape, inv)
	}
	c.out = []*Tensor{out}
	if l.rmsNorm {
		c.outMasks = []mask{nil} // Keras 3's RMSNormalization does not support masking
	}
	return nil
}

func (*layerNorm) passesMask() bool { return true }

// forward: mean and variance per sample and group of channels, over every
// other axis; then each channel's gamma and beta.
func (l *groupNorm) forward(c *call) error {
	x := c.in[0]
	a, err := resolveAxes([]int{l.axis}, len(x.Shape), "axis")
	if err != nil {
		return err
	}
	ax := a[0]
	if ax == 0 {
		return fmt.Errorf("axis: the batch axis cannot hold the channels")
	}
	ch := x.Shape[ax]
	g := l.groups
	if g == -1 {
		g = ch
	}
	if g <= 0 || ch%g != 0 {
		return fmt.Errorf("%d groups do not divide %d channels", g, ch)
	}
	w := c.w
	var gamma, beta []float32
	if l.scale {
		if err := wantLen("gamma", w[0], ch); err != nil {
			return err
		}
		gamma, w = w[0].Data, w[1:]
	}
	if l.center {
		if err := wantLen("beta", w[0], ch); err != nil {
			return err
		}
		beta = w[0].Data
	}
	out := NewTensor(x.Shape...)
	kernel.GroupNorm(out.Data, x.Data, gamma, beta, x.Shape[0], shapeLen(x.Shape[1:ax]), ch, shapeLen(x.Shape[ax+1:]), g, l.epsilon)
	c.out = []*Tensor{out}
	return nil
}

func (*groupNorm) passesMask() bool { return true }

// forward: x/‖x‖ over the axes; Keras 3 bounds the norm below by 1e-12,
// tf.keras (l2_normalize) the squared norm.
func (l unitNorm) forward(c *call) error {
	x := c.in[0]
	axes, err := sortedAxes(droppedAxes(c, l.axes), len(x.Shape))
	if err != nil {
		return err
	}
	eps := 1e-24
	if c.net.legacy {
		eps = 1e-12
	}
	var out *Tensor
	if _, n, inner, ok := featureView(x.Shape, axes); ok && inner == 1 {
		out = NewTensor(x.Shape...)
		if n > 0 {
			kernel.L2NormalizeRows(out.Data, x.Data, n, eps)
		}
	} else {
		perm, inv := axesLast(len(x.Shape), axes)
		shape := permuted(x.Shape, perm)
		src := make([]float32, len(x.Data))
		kernel.Transpose(src, x.Data, x.Shape, perm)
		n := shape[len(shape)-1]
		for _, a := range axes[1:] {
			n *= x.Shape[a]
		}
		if n > 0 {
			kernel.L2NormalizeRows(src, src, n, eps)
		}
		out = NewTensor(x.Shape...)
		kernel.Transpose(out.Data, src, shape, inv)
	}
	c.out = []*Tensor{out}
	return nil
}

func (unitNorm) passesMask() bool { return true }

// forward: (x - mean)/max(√variance, 1e-7), or with invert
// mean + x·max(√variance, 1e-7), per kept feature. Keras 3 passes masks on;
// tf.keras's preprocessing layer drops them.
func (l *normalization) forward(c *call) error {
	x := c.in[0]
	axes, err := sortedAxes(l.axes, len(x.Shape))
	if err != nil {
		return err
	}
	dims := make([]int, len(axes))
	n := 1
	for i, a := range axes {
		dims[i] = x.Shape[a]
		n *= dims[i]
	}
	var mean, variance []float32
	if l.fixed {
		if mean, err = broadcastStat("mean", l.mean, l.meanShape, dims); err != nil {
			return err
		}
		if variance, err = broadcastStat("variance", l.variance, l.varianceShape, dims); err != nil {
			return err
		}
	} else {
		if len(c.w) < 2 {
			return fmt.Errorf("missing mean and variance weights")
		}
		if err := wantLen("mean", c.w[0], n); err != nil {
			return err
		}
		if err := wantLen("variance", c.w[1], n); err != nil {
			return err
		}
		mean, variance = c.w[0].Data, c.w[1].Data
	}
	denom := make([]float32, n)
	for i, v := range variance {
		denom[i] = max(float32(math.Sqrt(float64(v))), 1e-7)
	}
	var out *Tensor
	if len(axes) == 0 {
		out = c.ar.tensor(x.Shape...)
		if l.invert {
			kernel.ScaleShift(out.Data, x.Data, denom, mean, len(x.Data), 1)
		} else {
			kernel.Standardize(out.Data, x.Data, mean, denom, len(x.Data), 1)
		}
	} else {
		out = featureApply(c.ar, x, axes, func(dst, src []float32, outer, _, inner int) {
			if l.invert {
				kernel.ScaleShift(dst, src, denom, mean, outer, inner)
			} else {
				kernel.Standardize(dst, src, mean, denom, outer, inner)
			}
		})
	}
	c.out = []*Tensor{out}
	if c.net.legacy {
		c.outMasks = []mask{nil}
	} else if len(c.masks) > 0 {
		c.outMasks = []mask{c.masks[0]}
	}
	return nil
}

// broadcastStat brings a mean or variance from the config, of shape from,
// to the kept axes' sizes dims: a scalar applies to every feature, an
// array's dimensions align with the kept axes from the right.
func broadcastStat(name string, v []float32, from, dims []int) ([]float32, error) {
	n := shapeLen(dims)
	if len(from) > len(dims) {
		return nil, fmt.Errorf("config.%s: shape %s does not fit the kept axes' sizes %s", name, shapeString(from), shapeString(dims))
	}
	padded := append(ones(len(dims)-len(from)), from...)
	for i, d := range padded {
		if d != 1 && d != dims[i] {
			return nil, fmt.Errorf("config.%s: shape %s does not fit the kept axes' sizes %s", name, shapeString(from), shapeString(dims))
		}
	}
	out := make([]float32, n)
	if len(dims) == 0 {
		copy(out, v)
		return out, nil
	}
	kernel.Broadcast(out, v, padded, dims)
	return out, nil
}

// configArray reads a number or a nested list of numbers from the config,
// possibly serialized by Keras 3 as a NumPy array or tensor object, with
// its shape.
func configArray(d *decoder, key string) ([]float32, []int) {
	r := d.cfg.Get(key)
	if r.IsObject() {
		r = r.Get("config.value")
	}
	var data []float32
	var shape []int
	var walk func(r gjson.Result, depth int) bool
	walk = func(r gjson.Result, depth int) bool {
		if depth > maxRank {
			return false
		}
		if r.Type == gjson.Number {
			if depth != len(shape) {
				return false
			}
			data = append(data, float32(r.Float()))
			return true
		}
		if !r.IsArray() {
			return false
		}
		arr := r.Array()
		if depth == len(shape) {
			shape = append(shape, len(arr))
		} else if depth > len(shape) || shape[depth] != len(arr) {
			return false
		}
		for _, e := range arr {
			if !walk(e, depth+1) {
				return false
			}
		}
		return true
	}
	if !walk(r, 0) {
		d.fail(key, "got %s, want a number or a list of numbers", short(r.Raw))
		return nil, nil
	}
	return data, shape
}

// normAxes resolves a normalization's axes against x's rank, sorted, and
// returns how many values one slice along them holds.
func normAxes(axes []int, x *Tensor) ([]int, int, error) {
	sorted, err := sortedAxes(axes, len(x.Shape))
	if err != nil {
		return nil, 0, err
	}
	n := 1
	for _, a := range sorted {
		n *= x.Shape[a]
	}
	return sorted, n, nil
}
