package kernel

import (
	"fmt"
	"math"
	"math/rand"
	"slices"
	"testing"
)

// Slow references for the recurrent step kernels: one row and one unit at
// a time, in float64, straight from the cell equations.

func refSigmoid(v float64) float64 { return 1 / (1 + math.Exp(-v)) }

func randSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(rng.NormFloat64())
	}
	return s
}

// The exact activations, in float64, for the generic step.
func tanhAct(x []float32, _ int)    { Map(x, math.Tanh) }
func sigmoidAct(x []float32, _ int) { Map(x, FnSigmoid) }

func close32(t *testing.T, what string, got []float32, want []float64) {
	t.Helper()
	for i := range want {
		if math.Abs(float64(got[i])-want[i]) > 1e-5 {
			t.Fatalf("%s[%d] = %g, want %g", what, i, got[i], want[i])
		}
	}
}

func TestRecurrentSteps(t *testing.T) {
	for _, tc := range []struct {
		name    string
		rows, u int
		ldx     int // row stride of x, >= gates*u
		keep    []bool
		gates   int
	}{
		{"simple", 3, 4, 4, nil, 1},
		{"simple strided masked", 3, 2, 7, []bool{true, false, true}, 1},
		{"lstm", 2, 3, 12, nil, 4},
		{"lstm strided masked", 3, 2, 20, []bool{false, true, true}, 4},
		{"gru", 2, 3, 9, nil, 3},
		{"gru strided masked", 3, 2, 11, []bool{true, true, false}, 3},
		{"gru before", 2, 3, 9, nil, -3},
		{"gru before masked", 3, 2, 13, []bool{false, true, false}, -3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewSource(1))
			rows, u := tc.rows, tc.u
			g := tc.gates
			if g < 0 {
				g = -g
			}
			x := randSlice(rng, (rows-1)*tc.ldx+g*u)
			h := randSlice(rng, rows*u)
			c := randSlice(rng, rows*u)
			uh := randSlice(rng, u*u) // U_h for the reset-before GRU
			rec := randSlice(rng, rows*g*u)
			h0 := append([]float32(nil), h...)
			c0 := append([]float32(nil), c...)
			rec0 := append([]float32(nil), rec...)
			wantH := make([]float64, rows*u)
			wantC := make([]float64, rows*u)
			for r := 0; r < rows; r++ {
				xr := func(j int) float64 { return float64(x[r*tc.ldx+j]) }
				zr := func(j int) float64 { return float64(rec0[r*g*u+j]) }
				for j := 0; j < u; j++ {
					hp, cp := float64(h0[r*u+j]), float64(c0[r*u+j])
					wantH[r*u+j], wantC[r*u+j] = hp, cp
					if tc.keep != nil && !tc.keep[r] {
						continue
					}
					switch tc.gates {
					case 1:
						wantH[r*u+j] = math.Tanh(xr(j) + zr(j))
					case 4:
						i := refSigmoid(xr(j) + zr(j))
						f := refSigmoid(xr(u+j) + zr(u+j))
						cc := math.Tanh(xr(2*u+j) + zr(2*u+j))
						o := refSigmoid(xr(3*u+j) + zr(3*u+j))
						wantC[r*u+j] = f*cp + i*cc
						wantH[r*u+j] = o * math.Tanh(wantC[r*u+j])
					case 3:
						z := refSigmoid(xr(j) + zr(j))
						rg := refSigmoid(xr(u+j) + zr(u+j))
						hh := math.Tanh(xr(2*u+j) + rg*zr(2*u+j))
						wantH[r*u+j] = z*hp + (1-z)*hh
					case -3:
						z := refSigmoid(xr(j) + zr(j))
						var s float64 // (r·h)·U_h, unit j
						for k := 0; k < u; k++ {
							rk := refSigmoid(xr(u+k) + zr(u+k))
							s += rk * float64(h0[r*u+k]) * float64(uh[k*u+j])
						}
						hh := math.Tanh(xr(2*u+j) + s)
						wantH[r*u+j] = z*hp + (1-z)*hh
					}
				}
			}
			switch tc.gates {
			case 1:
				SimpleRNNStep(h, x, tc.ldx, rec, rows, u, tc.keep, tanhAct)
			case 4:
				LSTMStep(h, c, x, tc.ldx, rec, rows, u, tc.keep, tanhAct, sigmoidAct)
				close32(t, "c", c, wantC)
			case 3:
				GRUStep(h, x, tc.ldx, rec, rows, u, tc.keep, tanhAct, sigmoidAct)
			case -3:
				// The reset-before step reads only the z and r columns of
				// a rows×2u rec.
				zr := make([]float32, rows*2*u)
				for r := 0; r < rows; r++ {
					copy(zr[r*2*u:(r+1)*2*u], rec0[r*3*u:r*3*u+2*u])
				}
				rh := make([]float32, rows*u)
				GRUResetBefore(rh, h, x, tc.ldx, zr, rows, u, sigmoidAct)
				hrec := make([]float32, rows*u)
				MatMul(hrec, rh, uh, rows, u, u, false)
				GRUCandidate(h, x[2*u:], tc.ldx, zr, hrec, rows, u, tc.keep, tanhAct)
			}
			close32(t, "h", h, wantH)
		})
	}
}

func fastTanhAct(x []float32, _ int)    { FastTanh(x) }
func fastSigmoidAct(x []float32, _ int) { FastSigmoid(x) }

// TestFusedSteps checks the fused LSTM and GRU steps against the generic
// steps given FastSigmoid and FastTanh (the same bits, vector part and
// scalar tail, masked rows included) and against the float64 cell
// equations; rec must come back unchanged.
func TestFusedSteps(t *testing.T) {
	for _, tc := range []struct {
		name    string
		rows, u int
		keep    []bool
	}{
		{"one unit", 2, 1, nil},
		{"tail only", 3, 5, []bool{true, false, true}},
		{"vectors", 2, 16, nil},
		{"vectors and tail", 4, 21, []bool{false, true, true, true}},
		{"bench size", 3, 64, nil},
	} {
		for _, gates := range []int{4, 3} {
			t.Run(fmt.Sprintf("%s/gates=%d", tc.name, gates), func(t *testing.T) {
				rng := rand.New(rand.NewSource(2))
				rows, u, g := tc.rows, tc.u, gates*tc.u
				ldx := g + 3
				x := randSlice(rng, (rows-1)*ldx+g)
				for i := range x {
					x[i] *= 3 // reach the saturated ranges of both functions
				}
				h := randSlice(rng, rows*u)
				c := randSlice(rng, rows*u)
				rec := randSlice(rng, rows*g)
				rec0 := slices.Clone(rec)
				wantH, wantC := slices.Clone(h), slices.Clone(c)
				slowH := make([]float64, rows*u)
				slowC := make([]float64, rows*u)
				for r := 0; r < rows; r++ {
					for j := 0; j < u; j++ {
						xr := func(k int) float64 { return float64(x[r*ldx+k*u+j]) }
						zr := func(k int) float64 { return float64(rec0[r*g+k*u+j]) }
						hp, cp := float64(h[r*u+j]), float64(c[r*u+j])
						slowH[r*u+j], slowC[r*u+j] = hp, cp
						if tc.keep != nil && !tc.keep[r] {
							continue
						}
						if gates == 4 {
							cc := refSigmoid(xr(1)+zr(1))*cp + refSigmoid(xr(0)+zr(0))*math.Tanh(xr(2)+zr(2))
							slowC[r*u+j] = cc
							slowH[r*u+j] = refSigmoid(xr(3)+zr(3)) * math.Tanh(cc)
						} else {
							z := refSigmoid(xr(0) + zr(0))
							hh := math.Tanh(xr(2) + refSigmoid(xr(1)+zr(1))*zr(2))
							slowH[r*u+j] = z*hp + (1-z)*hh
						}
					}
				}
				scratch := slices.Clone(rec)
				if gates == 4 {
					LSTMStep(wantH, wantC, x, ldx, scratch, rows, u, tc.keep, fastTanhAct, fastSigmoidAct)
					LSTMSigmoidTanh(h, c, x, ldx, rec, rows, u, tc.keep)
					sameBits(t, "c", c, wantC)
					close32(t, "c", c, slowC)
				} else {
					GRUStep(wantH, x, ldx, scratch, rows, u, tc.keep, fastTanhAct, fastSigmoidAct)
					GRUSigmoidTanh(h, x, ldx, rec, rows, u, tc.keep)
				}
				sameBits(t, "h", h, wantH)
				close32(t, "h", h, slowH)
				sameBits(t, "rec", rec, rec0)
			})
		}
	}
}

func sameBits(t *testing.T, what string, got, want []float32) {
	t.Helper()
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s[%d] = %v, want %v (the generic step's bits)", what, i, got[i], want[i])
		}
	}
}

func BenchmarkLSTMStep(b *testing.B) {
	for _, rows := range []int{1, 32} {
		const u = 64
		rng := rand.New(rand.NewSource(1))
		x := randSlice(rng, rows*4*u)
		rec := randSlice(rng, rows*4*u)
		h := randSlice(rng, rows*u)
		c := randSlice(rng, rows*u)
		scratch := make([]float32, len(rec))
		b.Run(fmt.Sprintf("generic/rows=%d", rows), func(b *testing.B) {
			for b.Loop() {
				copy(scratch, rec)
				LSTMStep(h, c, x, 4*u, scratch, rows, u, nil, fastTanhAct, fastSigmoidAct)
			}
		})
		b.Run(fmt.Sprintf("fused/rows=%d", rows), func(b *testing.B) {
			for b.Loop() {
				LSTMSigmoidTanh(h, c, x, 4*u, rec, rows, u, nil)
			}
		})
	}
}
