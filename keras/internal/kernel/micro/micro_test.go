package micro

import (
	"math"
	"math/rand"
	"testing"
)

// TestKernel checks Kernel (the assembly where the CPU has it) against a
// float64 sum, over depths around the 4-step unrolling, one tile and
// several down the panel, with strides wider than the tile and both store
// and add.
func TestKernel(t *testing.T) {
	t.Logf("micro-kernel: %s", Name)
	rng := rand.New(rand.NewSource(1))
	for _, groups := range []int{1, 3} {
		for _, k := range []int{0, 1, 2, 3, 4, 5, 7, 8, 31, 256, 1001} {
			for _, add := range []bool{false, true} {
				rows := MR * groups
				lda, ldc := k+3, NR+5
				a := make([]float32, (rows-1)*lda+k)
				b := make([]float32, k*NR)
				c := make([]float32, (rows-1)*ldc+NR)
				fill(rng, a)
				fill(rng, b)
				fill(rng, c)
				before := append([]float32(nil), c...)
				Kernel(groups, k, a, lda, b, c, ldc, add, nil)
				for i := range rows {
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
							t.Fatalf("%d groups, k %d add %v: c[%d][%d] = %v, want %v", groups, k, add, i, j, got, want)
						}
					}
				}
				// Between the rows of c, nothing is touched.
				for i := range rows - 1 {
					for j := NR; j < ldc; j++ {
						if c[i*ldc+j] != before[i*ldc+j] {
							t.Fatalf("k %d: c[%d][%d], outside the tiles, changed", k, i, j)
						}
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
		groups  int
		a, b, c []float32
		lda     int
	}{
		{"a", 1, a[:len(a)-1], b, c, lda},
		{"b", 1, a, b[:len(b)-1], c, lda},
		{"c", 1, a, b, c[:len(c)-1], lda},
		{"lda", 1, a, b, c, k - 1},
		{"groups", 2, a, b, c, lda}, // a and c hold one tile
		{"no groups", 0, a, b, c, lda},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			Kernel(tc.groups, k, tc.a, tc.lda, tc.b, tc.c, NR, false, nil)
		})
	}
	// KernelWide: two panels (bstride k·NR) and 2·NR columns of c.
	wb := make([]float32, 2*k*NR)
	wc := make([]float32, (MR-1)*2*NR+2*NR)
	for _, tc := range []struct {
		name       string
		b, c, bias []float32
		cols       int
	}{
		{"second panel", wb[:len(wb)-1], wc, nil, 2 * NR},
		{"c", wb, wc[:len(wc)-1], nil, 2 * NR},
		{"bias", wb, wc, make([]float32, 2*NR-1), 2 * NR},
		{"no columns", wb, wc, nil, 0},
		{"three panels' columns", wb, wc, nil, 2*NR + 1},
	} {
		t.Run("wide "+tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			var e *Epilogue
			if tc.bias != nil {
				e = &Epilogue{Bias: tc.bias}
			}
			KernelWide(1, k, a, lda, tc.b, k*NR, tc.cols, tc.c, 2*NR, false, e)
		})
	}
}

// TestEpilogue checks the assembly's epilogue against Go's (Epilogue.Apply)
// bit for bit (any NaN for a NaN: Go's max and the assembly may differ in
// its sign), on values that tell the relus apart: NaN of either sign,
// signed zeros, infinities, values at the cap. The depth is 0, so the
// tile is c's values (added) plus the bias: no rounding of a product
// comes in.
func TestEpilogue(t *testing.T) {
	special := []float32{0, float32(math.Copysign(0, -1)), float32(math.NaN()), -float32(math.NaN()),
		float32(math.Inf(1)), float32(math.Inf(-1)), 6, 6.5, -1, 1e-30, -1e-30, 3}
	rng := rand.New(rand.NewSource(2))
	c0 := make([]float32, MR*NR)
	bias := make([]float32, NR)
	for i := range c0 {
		c0[i] = special[i%len(special)]
		if i%5 == 4 {
			c0[i] = float32(rng.NormFloat64())
		}
	}
	for j := range bias {
		bias[j] = special[(j*7)%len(special)]
		if j%3 == 0 {
			bias[j] = 0
		}
	}
	for _, e := range []*Epilogue{
		nil, {Bias: bias}, {Bias: bias, Relu: ReluBits}, {Bias: bias, Relu: ReluMax},
		{Bias: bias, Relu: ReluMax, Cap: 6, HasCap: true}, {Relu: ReluBits}, {Relu: ReluMax, Cap: 0, HasCap: true},
	} {
		got := append([]float32(nil), c0...)
		want := append([]float32(nil), c0...)
		Kernel(1, 0, nil, 0, nil, got, NR, true, e)
		Go(1, 0, nil, 0, nil, want, NR, true, e)
		for i := range got {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) && !(got[i] != got[i] && want[i] != want[i]) {
				t.Fatalf("epilogue %+v: element %d (c %v): got %v (%#x), want %v (%#x)", e, i, c0[i],
					got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
			}
		}
	}
	// A product that underflows gives -0 in a fused multiply-add (the sign
	// of the exact result), which ReluMax must turn into +0, as Go's max
	// does.
	a := make([]float32, MR)
	b := make([]float32, NR)
	for i := range a {
		a[i] = -1e-30
	}
	for j := range b {
		b[j] = 1e-30
	}
	for _, e := range []*Epilogue{{Relu: ReluMax}, {Relu: ReluMax, Cap: 6, HasCap: true}, {Relu: ReluBits}} {
		c := make([]float32, MR*NR)
		Kernel(1, 1, a, 1, b, c, NR, false, e)
		for i, v := range c {
			if math.Float32bits(v) != 0 {
				t.Fatalf("epilogue %+v of an underflowing product: element %d is %v (%#x), want +0", e, i, v, math.Float32bits(v))
			}
		}
	}
}

// TestKernelWide checks KernelWide against Kernel through a tile
// (goWide), bit for bit (the sums run in the same order), over depths
// around the unrolling, groups, widths of one or two panels whole or in
// part, a gap between the panels, add or store, and each epilogue, on
// values that tell the relus apart; and that no column of c past its
// width is touched.
func TestKernelWide(t *testing.T) {
	t.Logf("wide micro-kernel: assembly %v", Wide)
	rng := rand.New(rand.NewSource(3))
	special := []float32{0, float32(math.Copysign(0, -1)), float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 6, 6.5, -1}
	for _, groups := range []int{1, 4} {
		for _, k := range []int{0, 1, 3, 4, 5, 9, 64, 257} {
			for _, cols := range []int{1, 7, 16, 17, 24, 31, 32} {
				bias := make([]float32, cols)
				for j := range bias {
					bias[j] = float32(rng.NormFloat64())
				}
				for ei, e := range []*Epilogue{nil, {Bias: bias}, {Bias: bias, Relu: ReluBits}, {Bias: bias, Relu: ReluMax},
					{Bias: bias, Relu: ReluMax, Cap: 0.5, HasCap: true}, {Relu: ReluMax, Cap: 6, HasCap: true},
					{Bias: bias, Residual: true}, {Bias: bias, Relu: ReluBits, Residual: true}, {Relu: ReluMax, Residual: true}} {
					for _, add := range []bool{false, true} {
						if add && e != nil && e.Residual {
							continue
						}
						rows := MR * groups
						lda, ldc, bstride := k+2, cols+3, k*NR+NR*(k%3)
						a := make([]float32, (rows-1)*lda+k)
						b := make([]float32, bstride+k*NR)
						c := make([]float32, (rows-1)*ldc+cols+3)
						fill(rng, a)
						fill(rng, b)
						for i := range c {
							c[i] = float32(rng.NormFloat64())
							if i%7 == 0 {
								c[i] = special[i%len(special)]
							}
						}
						want := append([]float32(nil), c...)
						got := append([]float32(nil), c...)
						KernelWide(groups, k, a, lda, b, bstride, cols, got[:len(c)-3], ldc, add, e)
						goWide(groups, k, a, lda, b, bstride, cols, want, ldc, add, e)
						for i := range got {
							if math.Float32bits(got[i]) != math.Float32bits(want[i]) && !(got[i] != got[i] && want[i] != want[i]) {
								t.Fatalf("%d groups, k %d, %d columns, epilogue %d, add %v: c[%d] = %v, want %v",
									groups, k, cols, ei, add, i, got[i], want[i])
							}
							if i%ldc >= cols && math.Float32bits(got[i]) != math.Float32bits(c[i]) {
								t.Fatalf("%d columns: c[%d], outside the tiles, changed", cols, i)
							}
						}
					}
				}
			}
		}
	}
}

// TestRow checks Row against Kernel on six copies of the row, bit for bit
// (the sums run in the same order), over panel counts that take every
// pass of the assembly (8, 4 and 1 panels), depths around zero and
// beyond a block, store and add; and that c past the panels is not
// touched.
func TestRow(t *testing.T) { testRow(t) }

func testRow(t *testing.T) {
	rng := rand.New(rand.NewSource(4))
	for _, panels := range []int{1, 3, 4, 5, 8, 9, 13, 17} {
		for _, k := range []int{0, 1, 5, 64, 300} {
			for _, add := range []bool{false, true} {
				pstride := k*NR + 3*NR
				a := make([]float32, k)
				b := make([]float32, (panels-1)*pstride+k*NR)
				c := make([]float32, panels*NR+5)
				fill(rng, a)
				fill(rng, b)
				fill(rng, c)
				got := append([]float32(nil), c...)
				Row(k, a, b, pstride, panels, got[:panels*NR], add)
				lda := max(k, 1)
				six := make([]float32, MR*lda)
				for i := range MR {
					copy(six[i*lda:], a)
				}
				for p := range panels {
					tile := make([]float32, MR*NR)
					for i := range MR {
						copy(tile[i*NR:], c[p*NR:(p+1)*NR])
					}
					Kernel(1, k, six, lda, b[p*pstride:], tile, NR, add, nil)
					for j := range NR {
						if g := got[p*NR+j]; math.Float32bits(g) != math.Float32bits(tile[j]) {
							t.Fatalf("%d panels, k %d, add %v: c[%d] = %v, Kernel gives %v", panels, k, add, p*NR+j, g, tile[j])
						}
					}
				}
				for i := panels * NR; i < len(c); i++ {
					if got[i] != c[i] {
						t.Fatalf("%d panels: c[%d], past the panels, changed", panels, i)
					}
				}
			}
		}
	}
}

// fill sets x's values to standard normal ones from rng.
func fill(rng *rand.Rand, x []float32) {
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
}

// TestKernelConv checks KernelConv against KernelWide on the same rows
// copied out contiguously, bit for bit, over segment counts and depths
// that take every pass of the assembly, overlapping rows (lda below the
// row's length, as a convolution's windows overlap), and the epilogues.
func TestKernelConv(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	for _, groups := range []int{1, 3} {
		for _, seg := range [][2]int{{1, 9}, {3, 1}, {3, 3}, {3, 9}, {3, 96}, {7, 21}, {2, 5}} {
			segs, k := seg[0], seg[1]
			kk := segs * k
			for _, cols := range []int{5, 16, 32} {
				bias := make([]float32, cols)
				fill(rng, bias)
				for ei, e := range []*Epilogue{nil, {Bias: bias}, {Bias: bias, Relu: ReluMax, Cap: 0.5, HasCap: true}} {
					rows := MR * groups
					lda, sstride := max(1, k/3), kk+7 // rows overlap; segments apart
					a := make([]float32, (rows-1)*lda+(segs-1)*sstride+k)
					fill(rng, a)
					bstride := kk*NR + NR
					b := make([]float32, bstride+kk*NR)
					fill(rng, b)
					flat := make([]float32, rows*kk)
					for i := range rows {
						for s := range segs {
							copy(flat[i*kk+s*k:], a[i*lda+s*sstride:i*lda+s*sstride+k])
						}
					}
					ldc := cols + 2
					got := make([]float32, rows*ldc)
					want := make([]float32, rows*ldc)
					KernelConv(groups, k, segs, sstride, a, lda, b, bstride, cols, got, ldc, e)
					KernelWide(groups, kk, flat, kk, b, bstride, cols, want, ldc, false, e)
					for i := range got {
						if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
							t.Fatalf("%d groups, %d segments of %d, %d columns, epilogue %d: c[%d] = %v, want %v",
								groups, segs, k, cols, ei, i, got[i], want[i])
						}
					}
				}
			}
		}
	}
}

// TestResidualEpilogue checks KernelWide's residual epilogue against its
// definition: the product, plus the bias, plus c's former values, then
// the relu, each step rounded as the unfused layers round it.
func TestResidualEpilogue(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	const k, cols, groups = 37, 29, 2
	rows := MR * groups
	a, b := make([]float32, rows*k), make([]float32, 2*k*NR)
	fill(rng, a)
	fill(rng, b)
	bias, c := make([]float32, cols), make([]float32, rows*cols)
	fill(rng, bias)
	fill(rng, c)
	for _, relu := range []Relu{NoRelu, ReluBits, ReluMax} {
		prod := make([]float32, rows*cols)
		KernelWide(groups, k, a, k, b, k*NR, cols, prod, cols, false, nil)
		want := make([]float32, len(c))
		for i, v := range prod {
			v = v + bias[i%cols]
			v = v + c[i]
			switch relu {
			case ReluBits:
				if math.Signbit(float64(v)) {
					v = 0
				}
			case ReluMax:
				v = max(v, 0)
			}
			want[i] = v
		}
		got := append([]float32(nil), c...)
		KernelWide(groups, k, a, k, b, k*NR, cols, got, cols, false, &Epilogue{Bias: bias, Relu: relu, Residual: true})
		for i := range got {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("relu %d: element %d is %v, want %v", relu, i, got[i], want[i])
			}
		}
	}
}
