package kernel

import "math"

// Float32 sigmoid and tanh for the recurrent layers, whose gates spend
// most of a large batch's time in them. TensorFlow computes both in
// float32 with polynomial approximations (Eigen); these are of the same
// kind: exp by range reduction to |r| <= ln2/2 and a degree-6 polynomial
// (relative error about 1e-7), then one float32 division. Sigmoid is
// within a few float32 ulps of the exact value; tanh within about 1e-7
// absolute, and within a few ulps near 0, where it uses its odd series.

const (
	log2e  = 1.44269504088896341
	ln2Hi  = 0.693145751953125 // ln 2 in a few bits, so that n·ln2Hi is exact
	ln2Lo  = 1.428606765330187045e-06
	expMax = 88.0
	expMin = -87.3 // exp stays a normal float32 above this

	roundMagic float32 = 12582912
)

// exp32 is e^x in float32 arithmetic, for x in [expMin, expMax] (the
// callers clamp; small enough to inline).
func exp32(x float32) float32 {
	// Adding and subtracting 1.5·2^23 rounds to the nearest integer.
	n := (x*log2e + roundMagic) - roundMagic
	r := x - n*ln2Hi - n*ln2Lo
	p := 1 + r*(1+r*(1.0/2+r*(1.0/6+r*(1.0/24+r*(1.0/120+r*(1.0/720))))))
	return p * math.Float32frombits(uint32(int32(n)+127)<<23)
}

// FastSigmoid is 1/(1+e^-x) in float32, in place.
func FastSigmoid(x []float32) { sigmoidScalar(x[sigmoidVec(x):]) }

func sigmoidScalar(x []float32) {
	for i, v := range x {
		x[i] = sigmoid32(v)
	}
}

// sigmoid32 is FastSigmoid on one value.
func sigmoid32(v float32) float32 {
	if v != v { // NaN stays NaN
		return v
	}
	v = -v
	if v > expMax {
		v = expMax
	} else if v < expMin {
		v = expMin
	}
	return 1 / (1 + exp32(v))
}

// FastTanh is tanh in float32, in place.
func FastTanh(x []float32) { tanhScalar(x[tanhVec(x):]) }

func tanhScalar(x []float32) {
	for i, v := range x {
		x[i] = tanh32(v)
	}
}

// tanh32 is FastTanh on one value.
func tanh32(v float32) float32 {
	a := v
	if a < 0 {
		a = -a
	}
	switch {
	case v != v:
		return v
	case a < 0.125:
		// tanh x = x - x³/3 + 2x⁵/15 - 17x⁷/315 + ...
		s := v * v
		return v * (1 + s*(-1.0/3+s*(2.0/15+s*(-17.0/315))))
	case a > 9:
		return float32(math.Copysign(1, float64(v)))
	}
	e := exp32(-2 * a)
	t := (1 - e) / (1 + e)
	if v < 0 {
		t = -t
	}
	return t
}

// FastSwish is x·sigmoid(x) in float32, in place: on AVX-512 machines
// by its own 512-bit formula for every value (swish512), elsewhere with
// sigmoid as FastSigmoid computes it (through a stack buffer: no
// allocation).
func FastSwish(x []float32) {
	x = x[swishVec(x):]
	var buf [2048]float32
	for len(x) > 0 {
		n := min(len(x), len(buf))
		s := buf[:n]
		copy(s, x[:n])
		FastSigmoid(s)
		for i, v := range s {
			if x[i] < -math.MaxFloat32 {
				// -Inf·sigmoid(-Inf) is -Inf·0: NaN, where the clamped
				// float32 sigmoid would give -Inf.
				x[i] = float32(math.NaN())
				continue
			}
			x[i] *= v
		}
		x = x[n:]
	}
}

// FastSoftmax is softmax over each row of n values of x, in place, in
// float32 with exp32 (attention scores, where the float64 Softmax took
// half of a transformer's time): a row's maximum, e = exp(v - max) with
// the sum of the row's e in float32, then e · (1/sum). Values more than 87
// below their row's maximum give 0, as float32 exp underflows.
func FastSoftmax(x []float32, n int) {
	if n == 0 || softmaxVec(x, n) {
		return
	}
	for r := 0; r+n <= len(x); r += n {
		row := x[r : r+n]
		m := row[0]
		for _, v := range row[1:] {
			if v > m {
				m = v
			}
		}
		var s float32
		for j, v := range row {
			e := expNeg32(v - m)
			row[j] = e
			s += e
		}
		inv := 1 / s
		for j := range row {
			row[j] *= inv
		}
	}
}

// expNeg32 is exp32 for x <= 0 (NaN passes), 0 below expMin.
func expNeg32(x float32) float32 {
	if x < expMin {
		return 0
	}
	return exp32(x)
}

// FastLayerNorm is LayerNormRows with gamma and beta, not rms, in float32
// as Keras computes it on TensorFlow: per row of n values the mean, the
// variance about it (two passes, not E[x²] - E[x]², which cancels), then
// (x - mean)·(rsqrt(var + eps)·gamma) + beta. Rows of whole vectors run in
// AVX2 with 8 partial sums.
func FastLayerNorm(dst, x, gamma, beta []float32, n int, eps float32) {
	if n == 0 || layerNormVec(dst, x, gamma, beta, n, eps) {
		return
	}
	gamma, beta = gamma[:n], beta[:n]
	for r := 0; r+n <= len(x); r += n {
		xs, ds := x[r:r+n], dst[r:r+n]
		var s float32
		for _, v := range xs {
			s += v
		}
		mean := s / float32(n)
		var q float32
		for _, v := range xs {
			d := v - mean
			q += d * d
		}
		inv := float32(1 / math.Sqrt(float64(q/float32(n)+eps)))
		for j, v := range xs {
			ds[j] = (v-mean)*(inv*gamma[j]) + beta[j]
		}
	}
}
