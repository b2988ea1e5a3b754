package kernel

import "math"

// Elementwise activation functions, applied in place. They compute in
// float64 and round once, which keeps them within float32 rounding of
// TensorFlow's own float32 kernels.

// Map applies f to every element of x.
func Map(x []float32, f func(float64) float64) {
	for i, v := range x {
		x[i] = float32(f(float64(v)))
	}
}

// Relu is max(x, 0), Keras's default relu. It clears every value whose
// sign bit is set, without a branch: signs are random in a layer's output,
// and mispredicted branches cost more than the arithmetic.
func Relu(x []float32) {
	x = x[reluVec(x):]
	for i, v := range x {
		b := math.Float32bits(v)
		b &^= uint32(int32(b) >> 31)
		x[i] = math.Float32frombits(b)
	}
}

// ReluFull is Keras's relu with all its arguments (the ReLU layer):
// x for x >= threshold (capped at maxValue when maxValue >= 0), and
// negativeSlope·(x - threshold) below the threshold.
func ReluFull(x []float32, negativeSlope, maxValue, threshold float64) {
	for i, v := range x {
		f := float64(v)
		switch {
		case f < threshold:
			f = negativeSlope * (f - threshold)
		case maxValue >= 0 && f > maxValue:
			f = maxValue
		}
		x[i] = float32(f)
	}
}

// HardSigmoidLegacy is Keras 1 and 2's hard_sigmoid: clip(0.2x + 0.5, 0, 1).
func HardSigmoidLegacy(x []float32) {
	for i, v := range x {
		f := 0.2*float64(v) + 0.5
		x[i] = float32(math.Min(1, math.Max(0, f)))
	}
}

// HardSigmoid is Keras 3's hard_sigmoid: relu6(x + 3) / 6.
func HardSigmoid(x []float32) { Map(x, hardSigmoid) }

func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

func hardSigmoid(x float64) float64 { return math.Min(6, math.Max(0, x+3)) / 6 }

func softplus(x float64) float64 {
	// log(1 + e^x) without overflow for large x.
	if x > 0 {
		return x + math.Log1p(math.Exp(-x))
	}
	return math.Log1p(math.Exp(x))
}

// The remaining elementwise functions, by Keras name, for Map.
var (
	FnSoftplus    = softplus
	FnSigmoid     = sigmoid
	FnHardSigmoid = hardSigmoid
)

// Softmax applies softmax along an axis of length n, for a tensor viewed
// as (outer, n, inner).
func Softmax(x []float32, outer, n, inner int) {
	for o := 0; o < outer; o++ {
		base := o * n * inner
		for in := 0; in < inner; in++ {
			m, s := maxExpSum(x, base+in, n, inner)
			for j := 0; j < n; j++ {
				p := base + j*inner + in
				x[p] = float32(math.Exp(float64(x[p])-m) / s)
			}
		}
	}
}

// LogSoftmax applies log(softmax) along an axis, viewed as in [Softmax].
func LogSoftmax(x []float32, outer, n, inner int) {
	for o := 0; o < outer; o++ {
		base := o * n * inner
		for in := 0; in < inner; in++ {
			m, s := maxExpSum(x, base+in, n, inner)
			ls := math.Log(s)
			for j := 0; j < n; j++ {
				p := base + j*inner + in
				x[p] = float32(float64(x[p]) - m - ls)
			}
		}
	}
}

// maxExpSum returns, for the n values x[first], x[first+stride], ..., their
// maximum m and the sum of exp(v - m): softmax's stable normalizer.
func maxExpSum(x []float32, first, n, stride int) (m, s float64) {
	m = math.Inf(-1)
	for j := 0; j < n; j++ {
		m = math.Max(m, float64(x[first+j*stride]))
	}
	for j := 0; j < n; j++ {
		s += math.Exp(float64(x[first+j*stride]) - m)
	}
	return m, s
}

// Sparsemax is keras.activations.sparsemax along an axis, viewed as in
// [Softmax]. It follows Keras's own computation (keras/src/backend/*/nn.py
// sparsemax), not the paper's projection onto the simplex (Martins &
// Astudillo 2016): the support is the same, k sorted entries, but Keras's
// threshold is (sum of the cumulative sums over the support - 1) / k where
// the paper has (the k-th cumulative sum - 1) / k. The two agree when k is
// 1. scratch needs n elements.
func Sparsemax(x []float32, outer, n, inner int, scratch []float64) {
	z := scratch[:n]
	for o := 0; o < outer; o++ {
		base := o * n * inner
		for in := 0; in < inner; in++ {
			for j := 0; j < n; j++ {
				z[j] = float64(x[base+j*inner+in])
			}
			// Sort descending (insertion sort: axes are short).
			for i := 1; i < n; i++ {
				for j := i; j > 0 && z[j] > z[j-1]; j-- {
					z[j], z[j-1] = z[j-1], z[j]
				}
			}
			var cum, cumSum float64
			k := 0
			for j := 0; j < n; j++ {
				cum += z[j]
				if z[j]-(cum-1)/float64(j+1) > 0 {
					k++
					cumSum += cum
				}
			}
			tau := (cumSum - 1) / float64(k)
			for j := 0; j < n; j++ {
				p := base + j*inner + in
				x[p] = float32(math.Max(0, float64(x[p])-tau))
			}
		}
	}
}

// AddBias adds bias (n) to every row of x (rows×n).
func AddBias(x, bias []float32) {
	n := len(bias)
	for i := 0; i+n <= len(x); i += n {
		row := x[i : i+n]
		for j := addVec(row, bias); j < n; j++ {
			row[j] += bias[j]
		}
	}
}

// AddInto sets d[i] += s[i] over len(d) values.
func AddInto(d, s []float32) {
	s = s[:len(d)]
	for i := addVec(d, s); i < len(d); i++ {
		d[i] += s[i]
	}
}

// MulInto sets d[i] *= s[i] over len(d) values (a Multiply merge:
// squeeze-and-excitation's gate over every position).
func MulInto(d, s []float32) {
	s = s[:len(d)]
	for i := mulVec(d, s); i < len(d); i++ {
		d[i] *= s[i]
	}
}

// MulRows multiplies every row of x (rows of len(s) values) by s, element
// by element: a squeeze-and-excite scale, the same bits as MulInto on each
// row, in one call.
func MulRows(x, s []float32) {
	n := len(s)
	if n == 0 {
		return
	}
	i := mulRowsVec(x, s)
	for ; i+n <= len(x); i += n {
		MulInto(x[i:i+n], s)
	}
}

// BiasRelu adds bias (n) to every row of x (rows×n) and applies Relu, in
// one pass: the epilogue of a product followed by relu, the same bits as
// AddBias then Relu.
func BiasRelu(x, bias []float32) {
	n := len(bias)
	for i := 0; i+n <= len(x); i += n {
		row := x[i : i+n]
		for j := biasReluVec(row, bias); j < n; j++ {
			v := math.Float32bits(row[j] + bias[j])
			v &^= uint32(int32(v) >> 31)
			row[j] = math.Float32frombits(v)
		}
	}
}

// BiasReluCap adds bias to every row of x and applies KerasRelu without
// slope or threshold (the ReLU layer, ReLU(maxValue) when hasMax), in one
// pass: the same bits as AddBias then KerasRelu.
func BiasReluCap(x, bias []float32, maxValue float32, hasMax bool) {
	if biasReluCapVec(x, bias, maxValue, hasMax) {
		return
	}
	n := len(bias)
	for i := 0; i+n <= len(x); i += n {
		row := x[i : i+n]
		if hasMax {
			for j, b := range bias {
				row[j] = min(max(row[j]+b, 0), maxValue)
			}
			continue
		}
		for j, b := range bias {
			row[j] = max(row[j]+b, 0)
		}
	}
}
