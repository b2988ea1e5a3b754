package kernel

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// convWindowCases cover every rank, strides, dilation, padding on either side
// and windows wider than their input (transposed convolutions' geometry).
var convWindowCases = []struct {
	name string
	w    ConvWindow
}{
	{"1d", ConvWindow{In: [3]int{1, 1, 7}, Out: [3]int{1, 1, 5}, K: [3]int{1, 1, 3}, Stride: [3]int{1, 1, 1}, Dil: [3]int{1, 1, 1}}},
	{"1d causal dilated", ConvWindow{In: [3]int{1, 1, 8}, Out: [3]int{1, 1, 8}, K: [3]int{1, 1, 3}, Stride: [3]int{1, 1, 1}, Dil: [3]int{1, 1, 2}, Pad: [3]int{0, 0, 4}}},
	{"1d strided", ConvWindow{In: [3]int{1, 1, 8}, Out: [3]int{1, 1, 3}, K: [3]int{1, 1, 3}, Stride: [3]int{1, 1, 2}, Dil: [3]int{1, 1, 1}}},
	{"2d same strided", ConvWindow{In: [3]int{1, 8, 7}, Out: [3]int{1, 4, 4}, K: [3]int{1, 3, 3}, Stride: [3]int{1, 2, 2}, Dil: [3]int{1, 1, 1}, Pad: [3]int{0, 0, 1}}},
	{"2d same", ConvWindow{In: [3]int{1, 5, 5}, Out: [3]int{1, 5, 5}, K: [3]int{1, 3, 2}, Stride: [3]int{1, 1, 1}, Dil: [3]int{1, 1, 1}, Pad: [3]int{0, 1, 0}}},
	{"2d dilated", ConvWindow{In: [3]int{1, 9, 6}, Out: [3]int{1, 5, 2}, K: [3]int{1, 3, 3}, Stride: [3]int{1, 1, 1}, Dil: [3]int{1, 2, 2}}},
	{"3d", ConvWindow{In: [3]int{4, 4, 4}, Out: [3]int{4, 4, 4}, K: [3]int{2, 2, 2}, Stride: [3]int{1, 1, 1}, Dil: [3]int{1, 1, 1}}},
	{"3d strided", ConvWindow{In: [3]int{5, 4, 6}, Out: [3]int{2, 2, 3}, K: [3]int{2, 3, 2}, Stride: [3]int{2, 1, 2}, Dil: [3]int{1, 1, 1}}},
	{"window past input", ConvWindow{In: [3]int{1, 2, 2}, Out: [3]int{1, 2, 2}, K: [3]int{1, 5, 5}, Stride: [3]int{1, 1, 1}, Dil: [3]int{1, 1, 1}, Pad: [3]int{0, 2, 2}}},
	// MobileNet's depthwise windows, wide enough for runs of interior
	// positions of every length the 3×3 loop takes (four at a time, then
	// one by one).
	{"3x3 same wide", ConvWindow{In: [3]int{1, 4, 11}, Out: [3]int{1, 4, 11}, K: [3]int{1, 3, 3}, Stride: [3]int{1, 1, 1}, Dil: [3]int{1, 1, 1}, Pad: [3]int{0, 1, 1}}},
	{"3x3 valid strided wide", ConvWindow{In: [3]int{1, 5, 21}, Out: [3]int{1, 2, 10}, K: [3]int{1, 3, 3}, Stride: [3]int{1, 2, 2}, Dil: [3]int{1, 1, 1}}},
	// EfficientNet's 5×5 windows, strided too: runs of four positions
	// in the general tap loop.
	{"5x5 same wide", ConvWindow{In: [3]int{1, 6, 13}, Out: [3]int{1, 6, 13}, K: [3]int{1, 5, 5}, Stride: [3]int{1, 1, 1}, Dil: [3]int{1, 1, 1}, Pad: [3]int{0, 2, 2}}},
	{"5x5 strided wide", ConvWindow{In: [3]int{1, 7, 23}, Out: [3]int{1, 4, 12}, K: [3]int{1, 5, 5}, Stride: [3]int{1, 2, 2}, Dil: [3]int{1, 1, 1}, Pad: [3]int{0, 2, 2}}},
	// more taps than the depthwise kernel keeps on the stack (maxTaps)
	{"9x9 same", ConvWindow{In: [3]int{1, 10, 10}, Out: [3]int{1, 10, 10}, K: [3]int{1, 9, 9}, Stride: [3]int{1, 1, 1}, Dil: [3]int{1, 1, 1}, Pad: [3]int{0, 4, 4}}},
}

func convRand(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.NormFloat64())
	}
	return s
}

// directConv is the convolution written out: every output position, filter,
// tap and channel, in float64, with the window arithmetic spelled out
// afresh rather than through ConvWindow.source.
func convDirect(x, k []float64, w *ConvWindow, channels, c0, cn, filters int) []float64 {
	out := make([]float64, w.OutLen()*filters)
	for o0 := 0; o0 < w.Out[0]; o0++ {
		for o1 := 0; o1 < w.Out[1]; o1++ {
			for o2 := 0; o2 < w.Out[2]; o2++ {
				p := (o0*w.Out[1]+o1)*w.Out[2] + o2
				for f := 0; f < filters; f++ {
					var s float64
					t := 0
					for k0 := 0; k0 < w.K[0]; k0++ {
						for k1 := 0; k1 < w.K[1]; k1++ {
							for k2 := 0; k2 < w.K[2]; k2++ {
								i := [3]int{
									o0*w.Stride[0] + k0*w.Dil[0] - w.Pad[0],
									o1*w.Stride[1] + k1*w.Dil[1] - w.Pad[1],
									o2*w.Stride[2] + k2*w.Dil[2] - w.Pad[2],
								}
								inside := true
								for a := range 3 {
									if i[a] < 0 || i[a] >= w.In[a] {
										inside = false
									}
								}
								if inside {
									q := (i[0]*w.In[1]+i[1])*w.In[2] + i[2]
									for c := 0; c < cn; c++ {
										s += x[q*channels+c0+c] * k[(t*cn+c)*filters+f]
									}
								}
								t++
							}
						}
					}
					out[p*filters+f] = s
				}
			}
		}
	}
	return out
}

func convTo64(s []float32) []float64 {
	d := make([]float64, len(s))
	for i, v := range s {
		d[i] = float64(v)
	}
	return d
}

func convClose(t *testing.T, got []float32, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d values, want %d", len(got), len(want))
	}
	for i := range want {
		if math.Abs(float64(got[i])-want[i]) > 1e-4*(1+math.Abs(want[i])) {
			t.Fatalf("[%d] = %g, want %g", i, got[i], want[i])
		}
	}
}

// TestIm2ColConv checks Im2Col followed by MatMul against the direct
// convolution, over the whole channel range and over a channel group.
func TestIm2ColConv(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, tc := range convWindowCases {
		w := tc.w
		for _, g := range []struct{ channels, c0, cn int }{{3, 0, 3}, {4, 2, 2}, {1, 0, 1}} {
			const filters = 5
			x := convRand(r, w.InLen()*g.channels)
			k := convRand(r, w.KLen()*g.cn*filters)
			patches := make([]float32, w.OutLen()*w.KLen()*g.cn)
			for i := range patches {
				patches[i] = float32(math.NaN()) // every entry must be written
			}
			Im2Col(patches, x, &w, g.channels, g.c0, g.cn)
			got := make([]float32, w.OutLen()*filters)
			MatMul(got, patches, k, w.OutLen(), w.KLen()*g.cn, filters, false)
			t.Run(tc.name, func(t *testing.T) {
				convClose(t, got, convDirect(convTo64(x), convTo64(k), &w, g.channels, g.c0, g.cn, filters))
			})
		}
	}
}

// TestCol2ImAdjoint checks <Im2Col(x), y> = <x, Col2Im(y)>: Col2Im is the
// transpose of Im2Col, which is what a transposed convolution needs.
func TestCol2ImAdjoint(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, tc := range convWindowCases {
		w := tc.w
		const cn = 3
		x := convRand(r, w.InLen()*cn)
		y := convRand(r, w.OutLen()*w.KLen()*cn)
		patches := make([]float32, len(y))
		Im2Col(patches, x, &w, cn, 0, cn)
		back := make([]float32, len(x))
		Col2Im(back, y, &w, cn)
		var lhs, rhs float64
		for i := range y {
			lhs += float64(patches[i]) * float64(y[i])
		}
		for i := range x {
			rhs += float64(x[i]) * float64(back[i])
		}
		if math.Abs(lhs-rhs) > 1e-3*(1+math.Abs(lhs)) {
			t.Errorf("%s: <Im2Col x, y> = %g, <x, Col2Im y> = %g", tc.name, lhs, rhs)
		}
	}
}

// TestDepthwiseConv checks the depthwise kernel against the direct
// convolution of each channel on its own.
func TestDepthwiseConv(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, tc := range convWindowCases {
		w := tc.w
		for _, cm := range [][2]int{{3, 1}, {3, 2}, {19, 1}, {8, 1}, {5, 3}, {45, 1}, {64, 1}} {
			channels, mult := cm[0], cm[1]
			x := convRand(r, w.InLen()*channels)
			k := convRand(r, w.KLen()*channels*mult)
			got := make([]float32, w.OutLen()*channels*mult)
			for i := range got {
				got[i] = float32(math.NaN())
			}
			// In two parts of rows, as Parallel may split it.
			rows := w.Out[0] * w.Out[1]
			DepthwiseConvRows(got, x, k, &w, channels, mult, rows/2, rows, Epilogue{})
			DepthwiseConvRows(got, x, k, &w, channels, mult, 0, rows/2, Epilogue{})
			whole := make([]float32, len(got))
			DepthwiseConv(whole, x, k, &w, channels, mult)
			if !slices.Equal(whole, got) {
				t.Errorf("%s: DepthwiseConv differs from its rows computed in parts", tc.name)
			}
			// An epilogue applied by the loop (in registers, where the
			// assembly runs) gives the bits of the same applied after.
			bias := convRand(r, channels*mult)
			for _, epi := range []Epilogue{{Kind: EpiBias, Bias: bias}, {Kind: EpiBiasRelu, Bias: bias}, {Kind: EpiBiasReluCap, Bias: bias, Max: 0.25, HasMax: true}} {
				fused := make([]float32, len(got))
				DepthwiseConvRows(fused, x, k, &w, channels, mult, 0, rows, epi)
				after := slices.Clone(whole)
				epi.Apply(after)
				if !slices.Equal(fused, after) {
					t.Errorf("%s, %d×%d, epilogue %d: applied in the loop differs from applied after", tc.name, channels, mult, epi.Kind)
				}
			}
			want := make([]float64, len(got))
			for c := 0; c < channels; c++ {
				// Channel c's kernel (KLen × 1 × mult).
				kc := make([]float64, w.KLen()*mult)
				for t := 0; t < w.KLen(); t++ {
					for m := 0; m < mult; m++ {
						kc[t*mult+m] = float64(k[(t*channels+c)*mult+m])
					}
				}
				o := convDirect(convTo64(x), kc, &w, channels, c, 1, mult)
				for p := 0; p < w.OutLen(); p++ {
					for m := 0; m < mult; m++ {
						want[(p*channels+c)*mult+m] = o[p*mult+m]
					}
				}
			}
			t.Run(tc.name, func(t *testing.T) { convClose(t, got, want) })
		}
	}
}

func TestTransposeInner(t *testing.T) {
	for _, tc := range []struct{ n, a, b int }{{1, 1, 1}, {2, 3, 4}, {3, 1, 5}, {1, 6, 1}} {
		src := make([]float32, tc.n*tc.a*tc.b)
		for i := range src {
			src[i] = float32(i)
		}
		dst := make([]float32, len(src))
		TransposeInner(dst, src, tc.n, tc.a, tc.b)
		for s := 0; s < tc.n; s++ {
			for i := 0; i < tc.a; i++ {
				for j := 0; j < tc.b; j++ {
					if got, want := dst[(s*tc.b+j)*tc.a+i], src[(s*tc.a+i)*tc.b+j]; got != want {
						t.Fatalf("%v: [%d][%d][%d] = %g, want %g", tc, s, j, i, got, want)
					}
				}
			}
		}
	}
}

// im2colSlow is the patch matrix written out tap by tap through
// ConvWindow.source: the reference of Im2ColRows and its fast path.
func im2colSlow(x []float32, w *ConvWindow, n, channels, c0, cn int) []float32 {
	row, inLen := w.KLen()*cn, w.InLen()*channels
	out := make([]float32, n*w.OutLen()*row)
	for b := 0; b < n; b++ {
		for p := 0; p < w.OutLen(); p++ {
			o0, o1, o2 := p/(w.Out[1]*w.Out[2]), p/w.Out[2]%w.Out[1], p%w.Out[2]
			d := out[(b*w.OutLen()+p)*row:]
			t := 0
			for k0 := 0; k0 < w.K[0]; k0++ {
				for k1 := 0; k1 < w.K[1]; k1++ {
					for k2 := 0; k2 < w.K[2]; k2++ {
						if q := w.source(o0, o1, o2, k0, k1, k2); q >= 0 {
							copy(d[t*cn:(t+1)*cn], x[b*inLen+q*channels+c0:])
						}
						t++
					}
				}
			}
		}
	}
	return out
}

// TestIm2ColRows checks blocks of rows spanning samples, of all channels
// (the fast path's) and of a channel group, against the patches written
// out tap by tap.
func TestIm2ColRows(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, tc := range append(convWindowCases,
		// The MNIST CNN's layers: one channel, then 32.
		struct {
			name string
			w    ConvWindow
		}{"3x3 valid", ConvWindow{In: [3]int{1, 28, 28}, Out: [3]int{1, 26, 26}, K: [3]int{1, 3, 3}, Stride: [3]int{1, 1, 1}, Dil: [3]int{1, 1, 1}}}) {
		w := tc.w
		for _, ch := range [][3]int{{4, 1, 2}, {4, 0, 4}, {1, 0, 1}, {32, 0, 32}} {
			n, channels, c0, cn := 3, ch[0], ch[1], ch[2]
			x := convRand(r, n*w.InLen()*channels)
			row, pOut := w.KLen()*cn, w.OutLen()
			want := im2colSlow(x, &w, n, channels, c0, cn)
			got := make([]float32, len(want))
			for i := range got {
				got[i] = float32(math.NaN()) // every value must be written
			}
			for _, cut := range [][2]int{{0, pOut/2 + 1}, {pOut/2 + 1, 2*pOut + 1}, {2*pOut + 1, n * pOut}} {
				Im2ColRows(got[cut[0]*row:cut[1]*row], x, &w, channels, c0, cn, cut[0], cut[1])
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s, channels %d from %d of %d: rows in blocks differ from the patches tap by tap", tc.name, cn, c0, channels)
			}
		}
	}
}
