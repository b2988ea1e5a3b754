package micro

import (
	"fmt"
	"math"
	"math/big"
	"math/rand"
	"testing"
)

// fma32 is float32's fused multiply-add, a·b + c rounded once, in exact
// arithmetic (float64's math.FMA would round twice).
func fma32(a, b, c float32) float32 {
	if v := float64(a)*float64(b) + float64(c); math.IsNaN(v) || math.IsInf(v, 0) {
		return float32(v) // big.Float holds no NaN
	}
	x := new(big.Float).SetPrec(256).SetFloat64(float64(a))
	x.Mul(x, new(big.Float).SetFloat64(float64(b)))
	x.Add(x, new(big.Float).SetFloat64(float64(c)))
	f, _ := x.Float32()
	if f == 0 {
		// big.Float has no signed zero from a sum: +0, as x86's
		// fused multiply-add gives for an exact zero sum of unlike signs.
		if a*b == 0 && c == 0 && math.Signbit(float64(a*b)) && math.Signbit(float64(c)) {
			return float32(math.Copysign(0, -1))
		}
		return 0
	}
	return f
}

// refDepthwise is Depthwise3x3 and Depthwise5x5 in Go, the window's side
// len(rows): the products in order, rows then columns.
func refDepthwise(d []float32, rows [][]float32, k []float32, count, stride, channels, n int, e *Epilogue) {
	side := len(rows)
	for q := range count {
		out := d[q*channels : q*channels+n]
		for c := range out {
			var acc float32
			for r := range side {
				for j := range side {
					acc = fma32(rows[r][(q*stride+j)*channels+c], k[(side*r+j)*channels+c], acc)
				}
			}
			out[c] = acc
		}
		if e != nil {
			e.Apply(out)
		}
	}
}

// TestDepthwise checks the 3×3 and 5×5 assembly against refDepthwise, bit
// for bit: channel counts of whole and half blocks and channels left
// out, runs of positions that take the four-at-a-time loop and the one
// after it, strides, a NaN in the first window, each epilogue.
func TestDepthwise(t *testing.T) {
	if !haveAVX512 {
		t.Skip("no AVX-512: the depthwise loops have no assembly here and report false")
	}
	rng := rand.New(rand.NewSource(4))
	for _, side := range []int{3, 5} {
		for _, tc := range []struct{ channels, n, count, stride int }{
			// Counts past the groups of four leave one to three.
			{16, 16, 7, 1}, {24, 16, 5, 1}, {24, 24, 9, 2}, {8, 8, 1, 1}, {96, 96, 13, 2}, {40, 32, 4, 1}, {144, 144, 3, 1},
			{32, 32, 2, 1}, {48, 40, 6, 2},
		} {
			for _, e := range []*Epilogue{nil, {Relu: ReluBits}, {Relu: ReluMax, Cap: 0.5, HasCap: true}, {Relu: ReluMax}} {
				t.Run(fmt.Sprintf("%dx%d/%+v/%v", side, side, tc, e), func(t *testing.T) {
					width := (tc.count-1)*tc.stride + side + 2 // two spare positions
					rows := make([][]float32, side)
					for r := range rows {
						rows[r] = make([]float32, width*tc.channels)
						for i := range rows[r] {
							rows[r][i] = float32(rng.NormFloat64())
						}
					}
					rows[0][1] = float32(math.NaN()) // in the first window
					k := make([]float32, side*side*tc.channels)
					for i := range k {
						k[i] = float32(rng.NormFloat64())
					}
					if e != nil {
						e.Bias = make([]float32, tc.channels)
						for i := range e.Bias {
							e.Bias[i] = float32(rng.NormFloat64())
						}
					}
					got := make([]float32, tc.count*tc.channels)
					want := make([]float32, len(got))
					for i := range got {
						got[i], want[i] = -7, -7 // channels past n stay as they were
					}
					var ok bool
					if side == 3 {
						ok = Depthwise3x3(got, [3][]float32(rows), k, tc.count, tc.stride, tc.channels, tc.n, e)
					} else {
						ok = Depthwise5x5(got, [5][]float32(rows), k, tc.count, tc.stride, tc.channels, tc.n, e)
					}
					if !ok {
						t.Fatal("reported no assembly on a CPU with AVX-512")
					}
					refDepthwise(want, rows, k, tc.count, tc.stride, tc.channels, tc.n, e)
					for i := range got {
						if math.Float32bits(got[i]) != math.Float32bits(want[i]) && !(got[i] != got[i] && want[i] != want[i]) {
							t.Fatalf("element %d (position %d, channel %d): got %v (%#x), want %v (%#x)", i, i/tc.channels, i%tc.channels,
								got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
						}
					}
				})
			}
		}
	}
}

func TestDepthwise3x3Bounds(t *testing.T) {
	x, k, d := make([]float32, 3*3*16), make([]float32, 9*16), make([]float32, 16)
	rows := [3][]float32{x[:48], x[48:96], x[96:]}
	for _, tc := range []struct {
		name string
		run  func()
	}{
		{"x short", func() { Depthwise3x3(d, [3][]float32{x[:48], x[48:96], x[96:143]}, k, 1, 1, 16, 16, nil) }},
		{"k short", func() { Depthwise3x3(d, rows, k[:8*16+15], 1, 1, 16, 16, nil) }},
		{"d short", func() { Depthwise3x3(d[:15], rows, k, 1, 1, 16, 16, nil) }},
		{"n odd", func() { Depthwise3x3(d, rows, k, 1, 1, 16, 12, nil) }},
		{"row short", func() { Depthwise3x3(d, [3][]float32{x[1:48], x[48:96], x[96:]}, k, 1, 1, 16, 16, nil) }},
		{"bias short", func() { Depthwise3x3(d, rows, k, 1, 1, 16, 16, &Epilogue{Bias: make([]float32, 8)}) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			tc.run()
		})
	}
}
