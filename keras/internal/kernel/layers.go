package kernel

import (
	"math"
	"slices"
)

// Kernels of the activation and normalization layers. Where TensorFlow
// computes a formula step by step in float32 (ReLU's thresholds and
// slopes), these do the same steps in float32, so that results agree to
// the last bit rather than merely within rounding.

// KerasRelu is Keras's relu(x, negative_slope, max_value, threshold), the
// ReLU layer, in place, following the steps of keras.activations.relu
// (and tf_keras backend.relu): x where x > threshold (relu(x) when the
// threshold is 0), clipped to [0, maxValue] when hasMax, minus
// slope·relu(threshold - x). With a slope and neither threshold nor cap it
// is TensorFlow's leaky_relu.
func KerasRelu(x []float32, slope, maxValue float32, hasMax bool, threshold float32) {
	if slope != 0 && !hasMax && threshold == 0 {
		LeakyRelu(x, slope)
		return
	}
	// The common layers (ReLU(), ReLU(6.0)) without the per-element
	// branches on their settings: the same steps, so the same bits.
	if slope == 0 && threshold == 0 {
		if hasMax {
			for i, v := range x {
				x[i] = min(max(v, 0), maxValue)
			}
			return
		}
		for i, v := range x {
			x[i] = max(v, 0)
		}
		return
	}
	for i, v := range x {
		var neg float32
		if slope != 0 {
			neg = max(threshold-v, 0)
		}
		y := v
		switch {
		case threshold != 0:
			if !(v > threshold) {
				y = 0
			}
		default:
			y = max(v, 0)
		}
		if hasMax {
			y = min(max(y, 0), maxValue)
		}
		if slope != 0 {
			y -= slope * neg
		}
		x[i] = y
	}
}

// LeakyRelu is TensorFlow's leaky_relu in place: x for x > 0, slope·x
// otherwise.
func LeakyRelu(x []float32, slope float32) {
	for i, v := range x {
		if !(v > 0) {
			x[i] = v * slope
		}
	}
}

// Elu is Keras's elu with a factor alpha in place: x for x > 0, else
// alpha·(e^x - 1).
func Elu(x []float32, alpha float32) {
	for i, v := range x {
		if !(v > 0) {
			x[i] = alpha * float32(math.Expm1(float64(v)))
		}
	}
}

// ThresholdedRelu keeps x where x > theta and sets the rest to 0, in
// place.
func ThresholdedRelu(x []float32, theta float32) {
	for i, v := range x {
		if !(v > theta) {
			x[i] = 0
		}
	}
}

// PRelu sets dst to relu(x) - alpha·relu(-x) for a batch of samples, each
// len(idx) values: position j of a sample uses alpha[idx[j]] (the shared
// axes map many positions to one alpha).
func PRelu(dst, x, alpha []float32, idx []int32) {
	n := len(idx)
	for s := 0; s+n <= len(x); s += n {
		xs, ds := x[s:s+n], dst[s:s+n]
		for j, v := range xs {
			ds[j] = max(v, 0) - alpha[idx[j]]*max(-v, 0)
		}
	}
}

// ScaleShift sets dst to x·scale[c] + shift[c] for a tensor viewed as
// (outer, C, inner), c the middle index: batch normalization at inference
// once the statistics are folded into a scale and a shift.
func ScaleShift(dst, x, scale, shift []float32, outer, inner int) {
	c := len(scale)
	if inner == 1 {
		for o := 0; o < outer; o++ {
			xs, ds := x[o*c:(o+1)*c], dst[o*c:(o+1)*c]
			for j, v := range xs {
				ds[j] = v*scale[j] + shift[j]
			}
		}
		return
	}
	for o := 0; o < outer; o++ {
		for j := 0; j < c; j++ {
			base := (o*c + j) * inner
			a, b := scale[j], shift[j]
			xs, ds := x[base:base+inner], dst[base:base+inner]
			for k, v := range xs {
				ds[k] = v*a + b
			}
		}
	}
}

// Moments returns the mean and the (biased) variance of x, accumulated in
// float64.
func Moments(x []float32) (mean, variance float64) {
	if len(x) == 0 {
		return 0, 0
	}
	var s float64
	for _, v := range x {
		s += float64(v)
	}
	mean = s / float64(len(x))
	var q float64
	for _, v := range x {
		d := float64(v) - mean
		q += d * d
	}
	return mean, q / float64(len(x))
}

// LayerNormRows normalizes each row of x (rows of n values) to zero mean
// and unit variance, as Keras's layer_normalization: (x - mean)·
// rsqrt(var + eps)·gamma + beta, gamma and beta (n values each) optional
// (nil). With rms set it is Keras 3's rms_scaling: x·rsqrt(var + eps)·
// gamma, the mean not subtracted (though the variance is about it).
func LayerNormRows(dst, x, gamma, beta []float32, n int, eps float64, rms bool) {
	for r := 0; r+n <= len(x); r += n {
		xs, ds := x[r:r+n], dst[r:r+n]
		mean, variance := Moments(xs)
		inv := 1 / math.Sqrt(variance+eps)
		shift := -mean
		if rms {
			shift = 0
		}
		for j, v := range xs {
			y := (float64(v) + shift) * inv
			if gamma != nil {
				y *= float64(gamma[j])
			}
			if beta != nil {
				y += float64(beta[j])
			}
			ds[j] = float32(y)
		}
	}
}

// RMSNormRows sets each row of dst (n values) to x·rsqrt(mean(x²) + eps)·
// scale, Keras 3's rms_normalization.
func RMSNormRows(dst, x, scale []float32, n int, eps float64) {
	for r := 0; r+n <= len(x); r += n {
		xs, ds := x[r:r+n], dst[r:r+n]
		var q float64
		for _, v := range xs {
			q += float64(v) * float64(v)
		}
		inv := 1 / math.Sqrt(q/float64(n)+eps)
		for j, v := range xs {
			ds[j] = float32(float64(v) * inv * float64(scale[j]))
		}
	}
}

// L2NormalizeRows sets each row of dst (n values) to x / max(‖x‖, √eps)
// = x·rsqrt(max(Σx², eps)), TensorFlow's l2_normalize.
func L2NormalizeRows(dst, x []float32, n int, eps float64) {
	for r := 0; r+n <= len(x); r += n {
		xs, ds := x[r:r+n], dst[r:r+n]
		var q float64
		for _, v := range xs {
			q += float64(v) * float64(v)
		}
		inv := 1 / math.Sqrt(math.Max(q, eps))
		for j, v := range xs {
			ds[j] = float32(float64(v) * inv)
		}
	}
}

// Transpose sets dst to src (of the given shape, row-major) with its axes
// permuted: dst's axis i is src's axis perm[i]. Ranks above 16 are not
// supported (Keras's own limit is lower).
func Transpose(dst, src []float32, shape, perm []int) {
	r := len(shape)
	var stride, dims, count [16]int
	s := 1
	for i := r - 1; i >= 0; i-- {
		stride[i] = s
		s *= shape[i]
	}
	if s == 0 {
		return
	}
	// Walk dst in order; src offset follows the permuted strides.
	var ps [16]int
	for i := 0; i < r; i++ {
		dims[i] = shape[perm[i]]
		ps[i] = stride[perm[i]]
	}
	if r == 0 {
		dst[0] = src[0]
		return
	}
	last, lastStride := dims[r-1], ps[r-1]
	off := 0
	for d := 0; d < s; d += last {
		if lastStride == 1 {
			copy(dst[d:d+last], src[off:off+last])
		} else {
			o := off
			for k := 0; k < last; k++ {
				dst[d+k] = src[o]
				o += lastStride
			}
		}
		// Advance the odometer over the outer axes.
		for i := r - 2; i >= 0; i-- {
			count[i]++
			off += ps[i]
			if count[i] < dims[i] {
				break
			}
			off -= ps[i] * dims[i]
			count[i] = 0
		}
	}
}

// Broadcast sets dst (shape to) to src (shape from, of the same rank, each
// dimension equal to to's or 1) repeated along its size-1 dimensions, as
// NumPy broadcasting does.
func Broadcast(dst, src []float32, from, to []int) {
	r := len(to)
	if r == 0 {
		dst[0] = src[0]
		return
	}
	var stride, count [16]int
	s := 1
	for i := r - 1; i >= 0; i-- {
		if from[i] == 1 {
			stride[i] = 0
		} else {
			stride[i] = s
		}
		s *= from[i]
	}
	last, ls := to[r-1], stride[r-1]
	off := 0
	for d := 0; d < len(dst); d += last {
		if ls == 0 {
			v := src[off]
			for k := 0; k < last; k++ {
				dst[d+k] = v
			}
		} else {
			copy(dst[d:d+last], src[off:off+last])
		}
		for i := r - 2; i >= 0; i-- {
			count[i]++
			off += stride[i]
			if count[i] < to[i] {
				break
			}
			off -= stride[i] * to[i]
			count[i] = 0
		}
	}
}

// Standardize sets dst to (x - mean[c]) / denom[c] for a tensor viewed as
// (outer, C, inner), the Normalization layer's formula.
func Standardize(dst, x, mean, denom []float32, outer, inner int) {
	c := len(mean)
	if inner == 1 && c > 0 {
		// Channels last (an image's 3): one pass, the channel cycling,
		// instead of a slice and a loop of one value per element.
		x, dst = x[:outer*c], dst[:outer*c]
		i := channelsVec(dst, x, mean, denom, true)
		k := 0 // whole periods done: the next value is channel 0's
		for ; i < len(x); i++ {
			dst[i] = (x[i] - mean[k]) / denom[k]
			if k++; k == c {
				k = 0
			}
		}
		return
	}
	for o := 0; o < outer; o++ {
		for j := 0; j < c; j++ {
			base := (o*c + j) * inner
			m, d := mean[j], denom[j]
			xs, ds := x[base:base+inner], dst[base:base+inner]
			for k, v := range xs {
				ds[k] = (v - m) / d
			}
		}
	}
}

// Rescale sets dst to float32(x·scale) + offset value by value, scale
// and offset holding one value, or one per position along the last axis
// (n = len(scale) or len(offset) when it is not 1): Rescaling. Two float32
// roundings, as TensorFlow's multiply then add.
func Rescale(dst, x, scale, offset []float32) {
	n := max(len(scale), len(offset))
	dst = dst[:len(x)]
	sc, of := scale, offset
	if len(sc) == 1 && n > 1 {
		sc = slices.Repeat(sc, n)
	}
	if len(of) == 1 && n > 1 {
		of = slices.Repeat(of, n)
	}
	i := channelsVec(dst, x, sc, of, false)
	j := 0 // whole periods done: the next value is position 0's
	for ; i < len(x); i++ {
		// The conversion keeps Go from fusing the two.
		dst[i] = float32(x[i]*sc[j]) + of[j]
		if j++; j == n {
			j = 0
		}
	}
}

// GroupNorm is group normalization for a tensor viewed as (batch, pre, C,
// post), C channels in groups of C/groups consecutive ones: each sample's
// group is normalized with its own mean and variance over pre, its
// channels and post, then channel c is scaled by gamma[c] and shifted by
// beta[c] (either may be nil).
func GroupNorm(dst, x, gamma, beta []float32, batch, pre, c, post, groups int, eps float64) {
	cg := c / groups
	for b := 0; b < batch; b++ {
		base := b * pre * c * post
		for g := 0; g < groups; g++ {
			var s float64
			for p := 0; p < pre; p++ {
				row := x[base+(p*c+g*cg)*post : base+(p*c+(g+1)*cg)*post]
				for _, v := range row {
					s += float64(v)
				}
			}
			count := float64(pre * cg * post)
			mean := s / count
			var q float64
			for p := 0; p < pre; p++ {
				row := x[base+(p*c+g*cg)*post : base+(p*c+(g+1)*cg)*post]
				for _, v := range row {
					d := float64(v) - mean
					q += d * d
				}
			}
			inv := 1 / math.Sqrt(q/count+eps)
			for p := 0; p < pre; p++ {
				for j := g * cg; j < (g+1)*cg; j++ {
					a := inv
					if gamma != nil {
						a *= float64(gamma[j])
					}
					sh := -mean * a
					if beta != nil {
						sh += float64(beta[j])
					}
					off := base + (p*c+j)*post
					xs, ds := x[off:off+post], dst[off:off+post]
					for k, v := range xs {
						ds[k] = float32(float64(v)*a + sh)
					}
				}
			}
		}
	}
}
