package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// randFloats returns n values in [-1, 1) from a fixed seed.
func randFloats(r *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.Float64()*2 - 1)
	}
	return x
}

// refGemm is the textbook triple loop in float64 over strided,
// possibly transposed operands.
func refGemm(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, dst []float32, ldc int, add bool) []float32 {
	out := append([]float32(nil), dst...)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for p := 0; p < k; p++ {
				var av, bv float32
				if transA {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				if transB {
					bv = b[j*ldb+p]
				} else {
					bv = b[p*ldb+j]
				}
				s += float64(av) * float64(bv)
			}
			if add {
				s += float64(dst[i*ldc+j])
			}
			out[i*ldc+j] = float32(s)
		}
	}
	return out
}

func near(got, want, tol float64) bool {
	if math.IsNaN(want) {
		return math.IsNaN(got)
	}
	if math.IsInf(want, 0) {
		return got == want
	}
	return math.Abs(got-want) <= tol*(1+math.Abs(want))
}

func TestGemm(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	cases := []struct {
		m, n, k        int
		transA, transB bool
		pad            int // extra columns in every leading dimension
		add            bool
	}{
		{1, 1, 1, false, false, 0, false},
		{3, 4, 5, false, false, 0, false},
		{3, 4, 5, true, false, 0, false},
		{3, 4, 5, false, true, 0, false},
		{3, 4, 5, true, true, 0, false},
		{3, 4, 5, false, false, 2, true},
		{7, 3, 2, true, true, 3, true},
		{4, 5, 0, false, false, 0, false}, // k = 0 clears dst
		{4, 5, 0, false, false, 1, true},  // and leaves it when adding
		// Past smallProduct: the BLAS path, or from packRows rows the
		// packed one (b packed per call, transposed or not).
		{33, 40, 17, false, false, 0, false},
		{260, 37, 300, false, true, 2, true},
		{256, 16, 20, false, true, 0, false},
		{33, 40, 17, true, false, 5, false},
		{33, 40, 17, false, true, 0, true},
		{64, 65, 66, true, true, 7, true},
		{64, 128, 784, false, false, 0, false},
		// One row: the matrix-vector path.
		{1, 300, 40, false, false, 0, false},
		{1, 300, 40, false, true, 3, true},
		{1, 300, 40, true, false, 2, false},
		// Past parallelWork: split by rows, and by columns when there
		// are too few rows.
		{200, 130, 90, false, false, 0, false},
		{200, 130, 90, true, true, 3, true},
		{3, 1000, 800, false, false, 0, false},
		{1, 3000, 800, false, true, 1, true},
	}
	defer func(p bool) { PackedProducts = p }(PackedProducts)
	for _, c := range cases {
		for _, packed := range []bool{false, PackedProducts} {
			name := fmt.Sprintf("m%d_n%d_k%d_ta%v_tb%v_pad%d_add%v_packed%v", c.m, c.n, c.k, c.transA, c.transB, c.pad, c.add, packed)
			t.Run(name, func(t *testing.T) {
				PackedProducts = packed
				ar, ac := c.m, c.k
				if c.transA {
					ar, ac = c.k, c.m
				}
				br, bc := c.k, c.n
				if c.transB {
					br, bc = c.n, c.k
				}
				lda, ldb, ldc := ac+c.pad, bc+c.pad, c.n+c.pad
				a := randFloats(r, max(ar*lda, 1))
				b := randFloats(r, max(br*ldb, 1))
				dst := randFloats(r, c.m*ldc)
				want := refGemm(c.transA, c.transB, c.m, c.n, c.k, a, lda, b, ldb, dst, ldc, c.add)
				Gemm(c.transA, c.transB, c.m, c.n, c.k, a, lda, b, ldb, dst, ldc, c.add)
				for i := range want {
					if !near(float64(dst[i]), float64(want[i]), 1e-5*math.Sqrt(float64(c.k+1))) {
						t.Fatalf("element %d (row %d, col %d): got %g, want %g", i, i/ldc, i%ldc, dst[i], want[i])
					}
				}
			})
		}
	}
}

func TestMatMulAndTransB(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, s := range [][3]int{{1, 1, 1}, {2, 3, 4}, {5, 1, 7}, {40, 50, 30}} {
		m, k, n := s[0], s[1], s[2]
		a, b := randFloats(r, m*k), randFloats(r, k*n)
		bt := make([]float32, n*k) // b transposed
		for i := 0; i < k; i++ {
			for j := 0; j < n; j++ {
				bt[j*k+i] = b[i*n+j]
			}
		}
		want := refGemm(false, false, m, n, k, a, k, b, n, make([]float32, m*n), n, false)
		got := make([]float32, m*n)
		MatMul(got, a, b, m, k, n, false)
		gotT := make([]float32, m*n)
		MatMulTransB(gotT, a, bt, m, k, n, false)
		for i := range want {
			if !near(float64(got[i]), float64(want[i]), 1e-5) || !near(float64(gotT[i]), float64(want[i]), 1e-5) {
				t.Fatalf("%v: element %d: MatMul %g, MatMulTransB %g, want %g", s, i, got[i], gotT[i], want[i])
			}
		}
		// add accumulates onto what dst holds.
		MatMul(got, a, b, m, k, n, true)
		for i := range want {
			if !near(float64(got[i]), 2*float64(want[i]), 1e-5) {
				t.Fatalf("%v add: element %d: got %g, want %g", s, i, got[i], 2*want[i])
			}
		}
	}
}

func TestGemmNaNPropagates(t *testing.T) {
	// 0·Inf is NaN in BLAS, and so in the small loop.
	a := []float32{0, 1}
	b := []float32{float32(math.Inf(1)), 2}
	dst := make([]float32, 1)
	Gemm(false, false, 1, 1, 2, a, 2, b, 1, dst, 1, false)
	if !math.IsNaN(float64(dst[0])) {
		t.Fatalf("got %g, want NaN", dst[0])
	}
}

func TestAddBias(t *testing.T) {
	x := []float32{1, 2, 3, 4, 5, 6}
	AddBias(x, []float32{10, 20, 30})
	want := []float32{11, 22, 33, 14, 25, 36}
	for i := range want {
		if x[i] != want[i] {
			t.Fatalf("got %v, want %v", x, want)
		}
	}
}
