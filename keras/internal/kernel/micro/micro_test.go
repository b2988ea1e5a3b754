package micro

import (
	"math"
	"math/rand"
	"testing"
)

// TestKernel checks Kernel (the assembly where the CPU has it) against a
// float64 sum, over depths around the 4-step unrolling, with strides wider
// than the tile and both store and add.
func TestKernel(t *testing.T) {
	t.Logf("micro-kernel: %s", Name)
	rng := rand.New(rand.NewSource(1))
	for _, k := range []int{0, 1, 2, 3, 4, 5, 7, 8, 31, 256, 1001} {
		for _, add := range []bool{false, true} {
			lda, ldc := k+3, NR+5
			a := make([]float32, (MR-1)*lda+k)
			b := make([]float32, k*NR)
			c := make([]float32, (MR-1)*ldc+NR)
			for i := range a {
				a[i] = float32(rng.NormFloat64())
			}
			for i := range b {
				b[i] = float32(rng.NormFloat64())
			}
			for i := range c {
				c[i] = float32(rng.NormFloat64())
			}
			before := append([]float32(nil), c...)
			Kernel(k, a, lda, b, c, ldc, add)
			for i := range MR {
				for j := range NR {
					want, mag := 0.0, 0.0
					if add {
						want = float64(before[i*ldc+j])
					}
					for p := range k {
						v := float64(a[i*lda+p]) * float64(b[p*NR+j])
						want += v
						mag += math.Abs(v)
					}
					if got := float64(c[i*ldc+j]); math.Abs(got-want) > 1e-6*(1+mag) {
						t.Fatalf("k %d add %v: c[%d][%d] = %v, want %v", k, add, i, j, got, want)
					}
				}
			}
			// Between the rows of c, nothing is touched.
			for i := range MR - 1 {
				for j := NR; j < ldc; j++ {
					if c[i*ldc+j] != before[i*ldc+j] {
						t.Fatalf("k %d: c[%d][%d], outside the tile, changed", k, i, j)
					}
				}
			}
		}
	}
}

// TestKernelBounds checks that a slice too short for the shape panics
// before any memory is read.
func TestKernelBounds(t *testing.T) {
	k, lda := 8, 8
	a := make([]float32, (MR-1)*lda+k)
	b := make([]float32, k*NR)
	c := make([]float32, (MR-1)*NR+NR)
	for _, tc := range []struct {
		name    string
		a, b, c []float32
		lda     int
	}{
		{"a", a[:len(a)-1], b, c, lda},
		{"b", a, b[:len(b)-1], c, lda},
		{"c", a, b, c[:len(c)-1], lda},
		{"lda", a, b, c, k - 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			Kernel(k, tc.a, tc.lda, tc.b, tc.c, NR, false)
		})
	}
}

func BenchmarkKernel(b *testing.B) {
	k := kBench
	a := make([]float32, MR*k)
	p := make([]float32, k*NR)
	c := make([]float32, MR*NR)
	for b.Loop() {
		Kernel(k, a, k, p, c, NR, true)
	}
	b.ReportMetric(2*float64(MR*NR*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

var kBench = 256
