package kernel

import (
	"math"
	"testing"
)

// The fast float32 functions against float64 math, over a sweep of
// inputs and the edges (0, ±Inf, NaN, huge values).
func TestFastSigmoidTanh(t *testing.T) {
	var xs []float32
	for v := -100.0; v <= 100; v += 0.0137 {
		xs = append(xs, float32(v))
	}
	for v := -0.2; v <= 0.2; v += 0.0001 {
		xs = append(xs, float32(v))
	}
	xs = append(xs, 0, float32(math.Inf(1)), float32(math.Inf(-1)), 1e30, -1e30, 1e-30, -1e-30)
	for _, tc := range []struct {
		name   string
		fast   func([]float32)
		ref    func(float64) float64
		abs    float64
		relTol float64
	}{
		{"sigmoid", FastSigmoid, refSigmoid, 1e-37, 5e-7},
		{"tanh", FastTanh, math.Tanh, 2e-7, 5e-7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := append([]float32(nil), xs...)
			tc.fast(got)
			for i, x := range xs {
				want := tc.ref(float64(x))
				d := math.Abs(float64(got[i]) - want)
				if d > tc.abs && d > tc.relTol*math.Abs(want) {
					t.Errorf("%s(%g) = %g, want %g", tc.name, x, got[i], want)
				}
			}
			nan := []float32{float32(math.NaN())}
			tc.fast(nan)
			if !math.IsNaN(float64(nan[0])) {
				t.Errorf("%s(NaN) = %g, want NaN", tc.name, nan[0])
			}
		})
	}
}

func BenchmarkFastTanh(b *testing.B) {
	x := make([]float32, 4096)
	for b.Loop() {
		for i := range x {
			x[i] = float32(i%200-100) * 0.03
		}
		FastTanh(x)
	}
}

func BenchmarkFastSigmoid(b *testing.B) {
	x := make([]float32, 4096)
	for b.Loop() {
		for i := range x {
			x[i] = float32(i%200-100) * 0.03
		}
		FastSigmoid(x)
	}
}
