package kernel

import (
	"fmt"
	"math"
	"math/rand"
	"slices"
	"testing"
)

// TestMulPacked checks MulPacked against a float64 product over shapes
// with every kind of edge (rows not a multiple of 6, columns not of 16,
// depths across blocks of packKC, and up to maxInPlaceKC in one block),
// rows contiguous (read in place) and
// with strides wider than the matrices, store and add, and products large
// enough to split over CPUs.
func TestMulPacked(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	for _, s := range []struct{ m, k, n int }{
		{1, 1, 1}, {1, 7, 3}, {5, 3, 17}, {6, 16, 16}, {7, 300, 33}, {13, 256, 16},
		{73, 513, 40}, {150, 64, 64}, {2, 4608, 512}, {600, 600, 70}, {37, 20, 0}, {3, 0, 5},
		// Deeper than packKC, read in place as one block: an im2col
		// matrix of 3×3×32 taps, and the deepest such, over row blocks.
		{20, 288, 64}, {80, 512, 48},
	} {
		for _, v := range []struct {
			add bool
			gap int // of a's and dst's rows past k and n values
		}{{false, 0}, {true, 0}, {false, 2}, {true, 3}} {
			add, gap := v.add, v.gap
			t.Run(fmt.Sprintf("%dx%dx%d/add=%v/gap=%d", s.m, s.k, s.n, add, gap), func(t *testing.T) {
				lda, ldb, ldc := s.k+gap, s.n+1, s.n+gap+1
				a := randSlice(rng, max(0, (s.m-1)*lda+s.k))
				b := randSlice(rng, max(0, (s.k-1)*ldb+s.n))
				dst := randSlice(rng, max(0, (s.m-1)*ldc+s.n)+ldc)
				before := append([]float32(nil), dst...)
				p := Pack(make([]float32, PackedLen(s.k, s.n)), b, s.k, s.n, ldb)
				MulPacked(dst, ldc, a, lda, s.m, p, add, Epilogue{})
				for i := range s.m {
					for j := range ldc {
						got := dst[i*ldc+j]
						if j >= s.n {
							if got != before[i*ldc+j] {
								t.Fatalf("dst[%d][%d], past the %d columns, changed", i, j, s.n)
							}
							continue
						}
						want, mag := 0.0, 0.0
						if add {
							want = float64(before[i*ldc+j])
						}
						for q := range s.k {
							v := float64(a[i*lda+q]) * float64(b[q*ldb+j])
							want += v
							mag += math.Abs(v)
						}
						if math.Abs(float64(got)-want) > 1e-6*(1+mag) {
							t.Fatalf("dst[%d][%d] = %v, want %v", i, j, got, want)
						}
					}
				}
			})
		}
	}
}

// TestMulPackedBounds: operands too short for the shape panic (the forward
// pass turns panics into errors) before the micro-kernel reads them.
func TestMulPackedBounds(t *testing.T) {
	p := Pack(make([]float32, PackedLen(8, 20)), make([]float32, 8*20), 8, 20, 20)
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	MulPacked(make([]float32, 10*20), 20, make([]float32, 10*8-1), 8, 10, p, false, Epilogue{})
}

// BenchmarkProducts times the products of ResNet50's convolutions (a
// chunk of 4 samples at 224×224, the im2col or 1×1 shapes m×k×n) and of
// MobileNetV2's, packed and through BLAS, on one goroutine each.
func BenchmarkProducts(b *testing.B) {
	for _, s := range [][3]int{{12544, 147, 64}, {12544, 64, 64}, {12544, 576, 64}, {12544, 64, 256}, {12544, 256, 64},
		{3136, 1152, 128}, {3136, 128, 512}, {784, 2304, 256}, {784, 1024, 256}, {196, 4608, 512}, {196, 512, 2048},
		// and its last stage on one sample (7×7), and parts of it.
		{49, 4608, 512}, {49, 512, 2048}, {49, 1024, 2048}, {392, 4608, 512}, {24, 4608, 512}, {25, 4608, 512},
		// and MobileNetV2's 1×1 convolutions, one sample at 224×224.
		{12544, 16, 96}, {12544, 96, 24}, {12544, 32, 16}, {3136, 144, 24}, {3136, 24, 144}, {784, 192, 32},
		{196, 384, 64}, {196, 64, 384}, {49, 960, 160}, {49, 320, 1280},
		// and the MLP benchmark's Dense layers, half a batch of 64.
		{32, 784, 256}, {32, 256, 256}, {32, 256, 10}, {1, 784, 256}, {4, 784, 256},
		// and bench_lstm's recurrent step (32 samples, 64 units).
		{32, 64, 256}} {
		m, k, n := s[0], s[1], s[2]
		rng := rand.New(rand.NewSource(1))
		a, w, d := randSlice(rng, m*k), randSlice(rng, k*n), make([]float32, m*n)
		p := Pack(make([]float32, PackedLen(k, n)), w, k, n, n)
		flops := func(b *testing.B) {
			b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		}
		b.Run(fmt.Sprintf("%dx%dx%d/packed", m, k, n), func(b *testing.B) {
			for b.Loop() {
				mulPacked(d, n, a, k, 0, m, 0, n, p, false, Epilogue{})
			}
			flops(b)
		})
		b.Run(fmt.Sprintf("%dx%dx%d/%s", m, k, n, BLAS), func(b *testing.B) {
			for b.Loop() {
				blasGemm(false, false, m, n, k, 0, a, k, w, n, d, n)
			}
			flops(b)
		})
	}
}

// TestMulPackedEpilogue checks that each epilogue gives the bits of the
// product followed by its pass over the whole result (AddBias, BiasRelu,
// BiasReluCap), over blocks of rows, splits by rows and by columns, and an
// empty depth.
func TestMulPackedEpilogue(t *testing.T) {
	rng := rand.New(rand.NewSource(4))
	for _, s := range []struct{ m, k, n int }{{1, 5, 20}, {80, 300, 40}, {600, 600, 70}, {2, 4608, 512}, {7, 0, 9}} {
		for _, e := range []Epilogue{
			{Kind: EpiBias}, {Kind: EpiBiasRelu}, {Kind: EpiBiasReluCap}, {Kind: EpiBiasReluCap, Max: 0.5, HasMax: true},
		} {
			a := randSlice(rng, s.m*s.k)
			p := Pack(make([]float32, PackedLen(s.k, s.n)), randSlice(rng, s.k*s.n), s.k, s.n, s.n)
			e.Bias = randSlice(rng, s.n)
			want := make([]float32, s.m*s.n)
			MulPacked(want, s.n, a, s.k, s.m, p, false, Epilogue{})
			e.Apply(want) // the epilogue as a pass of its own
			got := make([]float32, s.m*s.n)
			MulPacked(got, s.n, a, s.k, s.m, p, false, e)
			for i := range got {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("%v, kind %d: element %d is %v, want %v", s, e.Kind, i, got[i], want[i])
				}
			}
		}
	}
}

// TestPackedLenPadsColumnsOnly: a packed k×n matrix pads n to whole panels
// and nothing else, so a kernel whose columns fill whole panels packs into
// its own memory (keras/pack.go packKernel). An operator-precedence slip
// once padded k·15/16 floats more and made every such kernel a copy.
func TestPackedLenPadsColumnsOnly(t *testing.T) {
	for _, c := range []struct{ k, n int }{{1, 1}, {512, 2048}, {147, 64}, {3, 17}, {4608, 512}, {7, 31}} {
		panels := (c.n + packNR - 1) / packNR
		if got := PackedLen(c.k, c.n); got != c.k*panels*packNR {
			t.Errorf("PackedLen(%d, %d) = %d, want %d panels of %d×%d", c.k, c.n, got, panels, c.k, packNR)
		}
	}
}

// TestRowVec checks MulPacked's product of one row (micro.Row where the
// CPU has AVX-512) against the same row in a product of six rows, which
// runs through the micro-kernel, and against the last of seven rows (six
// in the micro-kernel, one through a tile): the sums run in the same
// order, so the bits are the same, with each epilogue, stored or added,
// over widths that end inside a panel.
func TestRowVec(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	for _, k := range []int{1, 7, 64, 300} {
		for _, n := range []int{1, 15, 16, 17, 64, 130} {
			for _, e := range []Epilogue{{}, {Kind: EpiBias}, {Kind: EpiBiasRelu}, {Kind: EpiBiasReluCap, Max: 0.5, HasMax: true}} {
				for _, add := range []bool{false, true} {
					p := Pack(make([]float32, PackedLen(k, n)), randSlice(rng, k*n), k, n, n)
					row := randSlice(rng, k)
					if e.Kind != NoEpilogue {
						e.Bias = randSlice(rng, n)
					}
					start := randSlice(rng, n)
					got := slices.Clone(start)
					MulPacked(got, n, row, k, 1, p, add, e)
					for _, m := range []int{6, 7} {
						var rows, many []float32
						for range m {
							rows = append(rows, row...)
							many = append(many, start...)
						}
						MulPacked(many, n, rows, k, m, p, add, e)
						for _, r := range []int{0, m - 1} {
							for j := range got {
								if w := many[r*n+j]; math.Float32bits(got[j]) != math.Float32bits(w) {
									t.Fatalf("k %d, n %d, epilogue %d, add %v: column %d is %v, %v in row %d of a product of %d rows",
										k, n, e.Kind, add, j, got[j], w, r, m)
								}
							}
						}
					}
				}
			}
		}
	}
}

// TestMulPackedOrders checks that a product of few rows read in place,
// which runs panel by panel outermost, gives the bits of the same rows at
// a stride (copied block by block, blocks of k outermost), with and
// without an epilogue, split over CPUs or not. (Depths from 257 to 512
// are read in one block in place but not at a stride: other sums.)
func TestMulPackedOrders(t *testing.T) {
	rng := rand.New(rand.NewSource(6))
	for _, s := range []struct{ m, k, n int }{{49, 4608, 70}, {7, 600, 33}, {72, 200, 64}, {13, 16, 100}} {
		a := randSlice(rng, s.m*s.k)
		strided := make([]float32, s.m*(s.k+3))
		for i := range s.m {
			copy(strided[i*(s.k+3):], a[i*s.k:(i+1)*s.k])
		}
		p := Pack(make([]float32, PackedLen(s.k, s.n)), randSlice(rng, s.k*s.n), s.k, s.n, s.n)
		for _, e := range []Epilogue{{}, {Kind: EpiBiasRelu, Bias: randSlice(rng, s.n)}} {
			want := make([]float32, s.m*s.n)
			mulPacked(want, s.n, strided, s.k+3, 0, s.m, 0, s.n, p, false, e)
			for _, parallel := range []bool{false, true} {
				got := make([]float32, s.m*s.n)
				if parallel {
					MulPacked(got, s.n, a, s.k, s.m, p, false, e)
				} else {
					mulPacked(got, s.n, a, s.k, 0, s.m, 0, s.n, p, false, e)
				}
				for i := range got {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("%v, epilogue %d, parallel %v: element %d is %v, want %v", s, e.Kind, parallel, i, got[i], want[i])
					}
				}
			}
		}
	}
}

// TestMulPackedResidual checks the residual epilogue over every path of
// MulPacked (whole groups, the rows after them, one row, single panels,
// splits over CPUs) against its definition: the product with its bias
// and relu, plus dst's former values added after the bias.
func TestMulPackedResidual(t *testing.T) {
	rng := rand.New(rand.NewSource(8))
	for _, s := range []struct{ m, k, n int }{{1, 40, 48}, {7, 64, 64}, {50, 256, 80}, {200, 500, 256}, {13, 0, 32}} {
		a := randSlice(rng, s.m*s.k)
		p := Pack(make([]float32, PackedLen(s.k, s.n)), randSlice(rng, s.k*s.n), s.k, s.n, s.n)
		bias, old := randSlice(rng, s.n), randSlice(rng, s.m*s.n)
		for _, kind := range []EpilogueKind{EpiBias, EpiBiasRelu, EpiBiasReluCap} {
			e := Epilogue{Kind: kind, Bias: bias, Max: 0.5, HasMax: true}
			want := make([]float32, s.m*s.n)
			MulPacked(want, s.n, a, s.k, s.m, p, false, Epilogue{Kind: EpiBias, Bias: bias})
			for i := range want {
				v := want[i] + old[i]
				switch kind {
				case EpiBiasRelu:
					if math.Signbit(float64(v)) {
						v = 0
					}
				case EpiBiasReluCap:
					v = min(max(v, 0), 0.5)
				}
				want[i] = v
			}
			e.Residual = true
			got := slices.Clone(old)
			MulPacked(got, s.n, a, s.k, s.m, p, false, e)
			for i := range got {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("%v, kind %d: element %d is %v, want %v", s, kind, i, got[i], want[i])
				}
			}
		}
	}
}
