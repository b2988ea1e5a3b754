package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// refPool pools one (batch, d, h, w, ch) tensor by the definition: every
// window position is visited, those off the input (padding) skipped.
func refPool(src []float32, batch, ch int, w *PoolWindow, isMax bool) []float64 {
	in, out := w.In, w.Out
	at := func(b, d, h, x, c int) int { return (((b*in[0]+d)*in[1]+h)*in[2]+x)*ch + c }
	var res []float64
	for b := 0; b < batch; b++ {
		for od := 0; od < out[0]; od++ {
			for oh := 0; oh < out[1]; oh++ {
				for ow := 0; ow < out[2]; ow++ {
					for c := 0; c < ch; c++ {
						acc, n := math.Inf(-1), 0
						if !isMax {
							acc = 0
						}
						for kd := 0; kd < w.Size[0]; kd++ {
							for kh := 0; kh < w.Size[1]; kh++ {
								for kw := 0; kw < w.Size[2]; kw++ {
									d := od*w.Stride[0] - w.Pad[0] + kd
									h := oh*w.Stride[1] - w.Pad[1] + kh
									x := ow*w.Stride[2] - w.Pad[2] + kw
									if d < 0 || h < 0 || x < 0 || d >= in[0] || h >= in[1] || x >= in[2] {
										continue
									}
									v := float64(src[at(b, d, h, x, c)])
									if isMax {
										acc = math.Max(acc, v)
									} else {
										acc += v
									}
									n++
								}
							}
						}
						if !isMax {
							acc /= float64(n)
						}
						res = append(res, acc)
					}
				}
			}
		}
	}
	return res
}

// sameWindow is TensorFlow's SAME geometry for one axis.
func sameAxis(n, k, s int) (out, pad int) {
	out = (n + s - 1) / s
	return out, max((out-1)*s+k-n, 0) / 2
}

func TestPool(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	type axis struct{ n, k, s int }
	cases := []struct {
		axes  [3]axis
		same  bool
		batch int
		ch    int
	}{
		{[3]axis{{1, 1, 1}, {1, 1, 1}, {7, 2, 2}}, false, 2, 3}, // 1-D valid
		{[3]axis{{1, 1, 1}, {1, 1, 1}, {7, 2, 2}}, true, 2, 3},  // 1-D same, odd length
		{[3]axis{{1, 1, 1}, {1, 1, 1}, {8, 3, 1}}, true, 1, 2},  // pad both sides
		{[3]axis{{1, 1, 1}, {6, 2, 2}, {5, 3, 2}}, false, 3, 4}, // 2-D
		{[3]axis{{1, 1, 1}, {6, 3, 2}, {5, 3, 2}}, true, 2, 1},
		{[3]axis{{1, 1, 1}, {5, 5, 1}, {5, 5, 1}}, true, 1, 2}, // windows mostly padding
		{[3]axis{{4, 2, 2}, {5, 2, 1}, {3, 2, 2}}, true, 2, 3}, // 3-D
		{[3]axis{{4, 2, 2}, {5, 2, 1}, {3, 2, 1}}, false, 2, 3},
		// channel counts with whole 8-float vectors and a tail, for the
		// vector loops
		{[3]axis{{1, 1, 1}, {6, 2, 2}, {6, 2, 2}}, false, 2, 19},
		{[3]axis{{1, 1, 1}, {7, 3, 2}, {5, 3, 2}}, true, 1, 32},
		// rows of whole windows (MNIST's pools), taken a row at a time
		{[3]axis{{1, 1, 1}, {9, 2, 2}, {9, 2, 2}}, false, 2, 32},
		{[3]axis{{1, 1, 1}, {9, 3, 2}, {10, 3, 2}}, true, 1, 16},
	}
	for _, c := range cases {
		var w PoolWindow
		for a, ax := range c.axes {
			w.In[a], w.Size[a], w.Stride[a] = ax.n, ax.k, ax.s
			if c.same {
				w.Out[a], w.Pad[a] = sameAxis(ax.n, ax.k, ax.s)
			} else {
				w.Out[a] = (ax.n-ax.k)/ax.s + 1
			}
		}
		src := randFloats(r, c.batch*w.In[0]*w.In[1]*w.In[2]*c.ch)
		for _, isMax := range []bool{true, false} {
			t.Run(fmt.Sprintf("%v_same%v_max%v", c.axes, c.same, isMax), func(t *testing.T) {
				dst := make([]float32, c.batch*w.Out[0]*w.Out[1]*w.Out[2]*c.ch)
				if isMax {
					MaxPool(dst, src, c.batch, c.ch, &w)
				} else {
					AvgPool(dst, src, c.batch, c.ch, &w)
				}
				want := refPool(src, c.batch, c.ch, &w, isMax)
				if len(want) != len(dst) {
					t.Fatalf("%d outputs, reference has %d", len(dst), len(want))
				}
				for i := range want {
					if !near(float64(dst[i]), want[i], 1e-6) {
						t.Fatalf("element %d: got %g, want %g", i, dst[i], want[i])
					}
				}
			})
		}
	}
}

func TestGlobalPool(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	// 37, 32: a block of 32 channels (sumPositionsVec) and a tail; 16 on
	// an odd number of positions (two a step, and the last alone); 144,
	// 200 and 48: blocks of 64, 32 and 16, the positions split over the
	// CPUs.
	for _, s := range [][3]int{{1, 1, 1}, {2, 5, 3}, {3, 7, 1}, {2, 1000, 4}, {2, 9, 37}, {1, 49, 32}, {1, 7, 16}, {1, 3136, 144}, {2, 300, 200}, {2, 2049, 48}} {
		batch, n, ch := s[0], s[1], s[2]
		src := randFloats(r, batch*n*ch)
		m := make([]bool, batch*n)
		for i := range m {
			m[i] = r.IntN(3) > 0
		}
		m[0] = false // and for batch 1 with n 1: every step masked, NaN
		for _, masked := range []bool{false, true} {
			t.Run(fmt.Sprintf("%v_masked%v", s, masked), func(t *testing.T) {
				gmax := make([]float32, batch*ch)
				gavg := make([]float32, batch*ch)
				GlobalMax(gmax, src, batch, n, ch)
				var mm []bool
				if masked {
					mm = m
				}
				GlobalAvg(gavg, src, mm, batch, n, ch, make([]float64, ch))
				for b := 0; b < batch; b++ {
					for c := 0; c < ch; c++ {
						mx, sum, cnt := math.Inf(-1), 0.0, 0.0
						for p := 0; p < n; p++ {
							v := float64(src[(b*n+p)*ch+c])
							mx = math.Max(mx, v)
							if mm == nil || mm[b*n+p] {
								sum += v
								cnt++
							}
						}
						if got := float64(gmax[b*ch+c]); got != mx {
							t.Fatalf("max (%d, %d): got %g, want %g", b, c, got, mx)
						}
						if got := float64(gavg[b*ch+c]); !near(got, sum/cnt, 1e-6) {
							t.Fatalf("mean (%d, %d): got %g, want %g", b, c, got, sum/cnt)
						}
					}
				}
			})
		}
	}
}

// TestMaxPoolZeroPad checks max pooling over zero padding folded into
// the window (PoolWindow.ZeroPad) against the same pooling, unpadded,
// over the input padded with zeros, bit for bit: negative values (which
// the zeros beat) and NaNs included.
func TestMaxPoolZeroPad(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for _, tc := range []struct {
		h, w, k, s, ch int
		before, after  [2]int
	}{
		{7, 7, 3, 2, 16, [2]int{1, 1}, [2]int{1, 1}}, // ResNet's
		{6, 5, 2, 2, 3, [2]int{1, 0}, [2]int{0, 1}},
		{5, 5, 3, 1, 32, [2]int{2, 0}, [2]int{1, 2}},
	} {
		const batch = 2
		x := randFloats(r, batch*tc.h*tc.w*tc.ch)
		for i := 0; i < len(x); i += 11 {
			x[i] = float32(math.NaN())
		}
		ph, pw := tc.h+tc.before[0]+tc.after[0], tc.w+tc.before[1]+tc.after[1]
		padded := make([]float32, batch*ph*pw*tc.ch)
		for b := range batch {
			for i := range tc.h {
				for j := range tc.w {
					copy(padded[((b*ph+i+tc.before[0])*pw+j+tc.before[1])*tc.ch:], x[((b*tc.h+i)*tc.w+j)*tc.ch:((b*tc.h+i)*tc.w+j+1)*tc.ch])
				}
			}
		}
		oh, ow := (ph-tc.k)/tc.s+1, (pw-tc.k)/tc.s+1
		plain := PoolWindow{In: [3]int{1, ph, pw}, Out: [3]int{1, oh, ow}, Size: [3]int{1, tc.k, tc.k}, Stride: [3]int{1, tc.s, tc.s}}
		want := make([]float32, batch*oh*ow*tc.ch)
		MaxPool(want, padded, batch, tc.ch, &plain)
		folded := plain
		folded.In = [3]int{1, tc.h, tc.w}
		folded.Pad = [3]int{0, tc.before[0], tc.before[1]}
		folded.ZeroPad = true
		got := make([]float32, len(want))
		MaxPool(got, x, batch, tc.ch, &folded)
		for i := range got {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("%+v: element %d is %v, over the padded input %v", tc, i, got[i], want[i])
			}
		}
	}
}
