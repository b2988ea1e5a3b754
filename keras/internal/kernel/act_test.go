package kernel

import (
	"fmt"
	"math"
	"testing"
)

// actInputs spans the interesting regions of every activation: both
// signs, the kinks at 0, ±0.5, ±1, ±2.5, ±3 and ±6, and values large
// enough to saturate or overflow a naive exp.
var actInputs = []float32{-100, -30, -6.5, -6, -3, -2.5, -1, -0.5, -0.25, 0, 0.25, 0.5, 1, 2.5, 3, 6, 6.5, 30, 100}

func TestElementwiseKernels(t *testing.T) {
	cases := []struct {
		name string
		run  func([]float32)
		ref  func(float64) float64
	}{
		{"Relu", Relu, func(x float64) float64 { return math.Max(x, 0) }},
		{"Sigmoid", Sigmoid, func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }},
		{"Tanh", Tanh, math.Tanh},
		{"HardSigmoidLegacy", HardSigmoidLegacy, func(x float64) float64 { return math.Min(1, math.Max(0, 0.2*x+0.5)) }},
		{"HardSigmoid", HardSigmoid, func(x float64) float64 { return math.Min(6, math.Max(0, x+3)) / 6 }},
		{"Map(FnSoftplus)", func(x []float32) { Map(x, FnSoftplus) }, func(x float64) float64 { return math.Log(1 + math.Exp(x)) }},
		{"Map(FnSigmoid)", func(x []float32) { Map(x, FnSigmoid) }, func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }},
		{"Map(FnHardSigmoid)", func(x []float32) { Map(x, FnHardSigmoid) }, func(x float64) float64 { return math.Min(6, math.Max(0, x+3)) / 6 }},
		{"ReluFull(0.1, 6, 0)", func(x []float32) { ReluFull(x, 0.1, 6, 0) }, func(x float64) float64 {
			if x < 0 {
				return 0.1 * x
			}
			return math.Min(x, 6)
		}},
		{"ReluFull(0, -1, 0.5)", func(x []float32) { ReluFull(x, 0, -1, 0.5) }, func(x float64) float64 {
			if x < 0.5 {
				return 0
			}
			return x
		}},
		{"ReluFull(0.2, 2, -1)", func(x []float32) { ReluFull(x, 0.2, 2, -1) }, func(x float64) float64 {
			if x < -1 {
				return 0.2 * (x + 1)
			}
			return math.Min(x, 2)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			x := append([]float32(nil), actInputs...)
			c.run(x)
			for i, v := range actInputs {
				want := c.ref(float64(v))
				if !near(float64(x[i]), want, 1e-6) {
					t.Errorf("f(%g) = %g, want %g", v, x[i], want)
				}
			}
		})
	}
}

// refSoftmax computes softmax along the middle axis of (outer, n, inner)
// the textbook way, with the maximum subtracted for range.
func refSoftmax(x []float32, outer, n, inner int, log bool) []float64 {
	out := make([]float64, len(x))
	for o := 0; o < outer; o++ {
		for in := 0; in < inner; in++ {
			at := func(j int) int { return (o*n+j)*inner + in }
			m := math.Inf(-1)
			for j := 0; j < n; j++ {
				m = math.Max(m, float64(x[at(j)]))
			}
			var s float64
			for j := 0; j < n; j++ {
				s += math.Exp(float64(x[at(j)]) - m)
			}
			for j := 0; j < n; j++ {
				if log {
					out[at(j)] = float64(x[at(j)]) - m - math.Log(s)
				} else {
					out[at(j)] = math.Exp(float64(x[at(j)])-m) / s
				}
			}
		}
	}
	return out
}

// refSparsemax finds the threshold tau with sum(max(z - tau, 0)) = 1 by
// bisection, a different route from the kernel's sort.
func refSparsemax(z []float64) []float64 {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range z {
		lo, hi = math.Min(lo, v-1), math.Max(hi, v)
	}
	for range 200 {
		mid := (lo + hi) / 2
		var s float64
		for _, v := range z {
			s += math.Max(v-mid, 0)
		}
		if s > 1 {
			lo = mid
		} else {
			hi = mid
		}
	}
	out := make([]float64, len(z))
	for i, v := range z {
		out[i] = math.Max(v-(lo+hi)/2, 0)
	}
	return out
}

func TestAxisKernels(t *testing.T) {
	shapes := [][3]int{{1, 1, 1}, {1, 5, 1}, {3, 4, 1}, {2, 3, 4}, {1, 19, 1}}
	for _, s := range shapes {
		outer, n, inner := s[0], s[1], s[2]
		x := make([]float32, outer*n*inner)
		for i := range x {
			x[i] = actInputs[(i*7)%len(actInputs)] / 10
		}
		name := fmt.Sprint(s)
		t.Run("Softmax"+name, func(t *testing.T) {
			got := append([]float32(nil), x...)
			Softmax(got, outer, n, inner)
			for i, w := range refSoftmax(x, outer, n, inner, false) {
				if !near(float64(got[i]), w, 1e-6) {
					t.Fatalf("element %d: got %g, want %g", i, got[i], w)
				}
			}
		})
		t.Run("LogSoftmax"+name, func(t *testing.T) {
			got := append([]float32(nil), x...)
			LogSoftmax(got, outer, n, inner)
			for i, w := range refSoftmax(x, outer, n, inner, true) {
				if !near(float64(got[i]), w, 1e-6) {
					t.Fatalf("element %d: got %g, want %g", i, got[i], w)
				}
			}
		})
		t.Run("Sparsemax"+name, func(t *testing.T) {
			got := append([]float32(nil), x...)
			Sparsemax(got, outer, n, inner, make([]float64, n))
			for o := 0; o < outer; o++ {
				for in := 0; in < inner; in++ {
					z := make([]float64, n)
					for j := range z {
						z[j] = float64(x[(o*n+j)*inner+in])
					}
					for j, w := range refSparsemax(z) {
						if g := got[(o*n+j)*inner+in]; !near(float64(g), w, 1e-6) {
							t.Fatalf("slice (%d, %d) element %d: got %g, want %g", o, in, j, g, w)
						}
					}
				}
			}
		})
	}
}
