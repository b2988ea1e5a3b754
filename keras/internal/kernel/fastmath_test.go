package kernel

import (
	"math"
	"math/rand"
	"slices"
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

// TestVectorMatchesScalar checks that the vector kernels (simd_amd64.go,
// in builds with GOEXPERIMENT=simd on AVX2 machines) give the scalar
// loops' bits, on values spanning every branch and the specials; on
// AVX-512 machines, whose sigmoid and tanh are formulas of their own,
// that a value gives the same bits alone as in a long slice.
func TestVectorMatchesScalar(t *testing.T) {
	var x []float32
	for v := -20.0; v <= 20; v += 0.0137 { // longer than minExpVec
		x = append(x, float32(v))
	}
	for _, v := range []float64{0, math.Copysign(0, -1), math.NaN(), -math.NaN(), math.Inf(1), math.Inf(-1), 0.125, -0.125, 9, -9, 88, -88, 100, -100, 1e-30, -1e-30, 3e38, -3e38} {
		x = append(x, float32(v))
	}
	x = append(x, 0.5, 0.25, 0.75) // a tail past whole vectors
	for _, k := range []struct {
		name        string
		fast, plain func([]float32)
	}{{"sigmoid", FastSigmoid, sigmoidScalar}, {"tanh", FastTanh, tanhScalar}} {
		got, want := slices.Clone(x), slices.Clone(x)
		k.fast(got)
		k.plain(want)
		for i := range want {
			if haveAVX512 {
				// Their own formulas (gates512_amd64.go), for every value:
				// each alone gives the bits it gets among the others
				// (TestFastSigmoidTanh checks them against float64).
				want[i] = x[i]
				k.fast(want[i : i+1])
			}
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) && !(got[i] != got[i] && want[i] != want[i]) {
				t.Errorf("%s(%v): vector %v, scalar or alone %v", k.name, x[i], got[i], want[i])
			}
		}
	}
	// AddBias against its loop written out, over rows of 19 values.
	const n = 19
	rows := x[:len(x)/n*n]
	bias := slices.Clone(x[:n])
	got := slices.Clone(rows)
	AddBias(got, bias)
	for i, v := range rows {
		want := v + bias[i%n]
		if math.Float32bits(got[i]) != math.Float32bits(want) && !(got[i] != got[i] && want != want) {
			t.Fatalf("AddBias element %d: got %v, want %v", i, got[i], want)
		}
	}
}

// TestFastSwish checks x·sigmoid(x) against float64 math, NaN and the
// infinities included, over more values than one block of the loop; that
// a value's swish does not depend on where it sits in a slice (each value
// alone gives the bits it gets among the others: a fused layer's chunks
// and the unfused tensor agree); and, where the scalar formula is the
// vector loops' (no AVX-512), the scalar definition's bits.
func TestFastSwish(t *testing.T) {
	special := []float32{0, float32(math.NaN()), float32(math.Inf(-1)), 1e30, -1e30, float32(math.Inf(1))}
	x := slices.Clone(special) // at the front too: the vector path sees them
	for v := -100.0; v <= 100; v += 0.0137 {
		x = append(x, float32(v))
	}
	x = append(x, special...)
	got := slices.Clone(x)
	FastSwish(got)
	same := func(a, b float32) bool { return math.Float32bits(a) == math.Float32bits(b) || a != a && b != b }
	for i, v := range x {
		alone := []float32{v}
		FastSwish(alone)
		if !same(alone[0], got[i]) {
			t.Errorf("swish(%v) = %v alone, %v at %d of %d", v, alone[0], got[i], i, len(x))
		}
		if !haveAVX512 {
			ref := float32(math.NaN())
			if !math.IsInf(float64(v), -1) {
				ref = v * sigmoid32(v)
			}
			if !same(got[i], ref) {
				t.Errorf("swish(%v) = %v, scalar path %v", v, got[i], ref)
			}
		}
		want := float64(v) / (1 + math.Exp(-float64(v)))
		if math.IsInf(float64(v), -1) {
			want = math.NaN() // -Inf · 0, as TensorFlow
		}
		g := float64(got[i])
		switch {
		case math.IsNaN(want) || math.IsNaN(g):
			if math.IsNaN(want) != math.IsNaN(g) {
				t.Errorf("swish(%v) = %v, want %v", v, g, want)
			}
		case math.Abs(g-want) > 1e-6*(1+math.Abs(want)):
			t.Errorf("swish(%v) = %v, want %v", v, g, want)
		case math.Abs(want) > 1e-30 && math.Abs(g-want) > 3.5e-7*math.Abs(want):
			t.Errorf("swish(%v) = %v, want %v: relative error %.2g", v, g, want, math.Abs(g-want)/math.Abs(want))
		}
	}
}

// TestFastSoftmax checks FastSoftmax against softmax in float64, on rows
// of whole vectors and not, with masked scores (-1e9) and large spreads.
func TestFastSoftmax(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	for _, n := range []int{1, 5, 8, 64, 67} {
		const rows = 6
		x := make([]float32, rows*n)
		for i := range x {
			x[i] = float32(rng.NormFloat64() * 8)
			if rng.Intn(5) == 0 {
				x[i] = -1e9
			}
		}
		want := make([]float64, len(x))
		for r := 0; r < rows; r++ {
			row := x[r*n : (r+1)*n]
			m := math.Inf(-1)
			for _, v := range row {
				m = math.Max(m, float64(v))
			}
			var s float64
			for _, v := range row {
				s += math.Exp(float64(v) - m)
			}
			for j, v := range row {
				want[r*n+j] = math.Exp(float64(v)-m) / s
			}
		}
		got := slices.Clone(x)
		FastSoftmax(got, n)
		for i, w := range want {
			// float32 exp and sum: a few ulps of the row's largest value.
			if d := math.Abs(float64(got[i]) - w); d > 1e-7+4e-6*w {
				t.Fatalf("n=%d: softmax[%d] = %v, want %v", n, i, got[i], w)
			}
		}
	}
	nan := []float32{1, float32(math.NaN()), 2, 3, 4, 5, 6, 7}
	FastSoftmax(nan, 8)
	for i, v := range nan {
		if v == v {
			t.Errorf("softmax of a row with NaN: element %d is %v, want NaN", i, v)
		}
	}
}

// TestFastLayerNorm checks FastLayerNorm against LayerNormRows (float64),
// on rows of whole vectors and not.
func TestFastLayerNorm(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	for _, n := range []int{1, 5, 8, 128, 131} {
		const rows = 4
		x := make([]float32, rows*n)
		for i := range x {
			x[i] = float32(rng.NormFloat64()*3 + 0.5)
		}
		gamma, beta := make([]float32, n), make([]float32, n)
		for j := range gamma {
			gamma[j] = float32(rng.NormFloat64())
			beta[j] = float32(rng.NormFloat64())
		}
		x0 := slices.Clone(x)
		want := make([]float32, len(x))
		LayerNormRows(want, x, gamma, beta, n, 1e-3, false)
		got := make([]float32, len(x))
		FastLayerNorm(got, x, gamma, beta, n, 1e-3)
		for i := range want {
			if d := math.Abs(float64(got[i] - want[i])); d > 1e-5+1e-5*math.Abs(float64(want[i])) {
				t.Fatalf("n=%d: element %d = %v, want %v", n, i, got[i], want[i])
			}
		}
		if !slices.Equal(x, x0) {
			t.Fatalf("n=%d: input changed", n)
		}
	}
}
