package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// refWeights is the dense (out × in) matrix of a tf.image.resize method
// along one axis, from the methods' definitions in float64.
func refWeights(method string, in, out int) [][]float64 {
	w := make([][]float64, out)
	scale := float64(in) / float64(out)
	for o := range w {
		w[o] = make([]float64, in)
		row := w[o]
		// Sampling point in input pixel units, pixel i covering [i, i+1).
		centre := (float64(o) + 0.5) * scale
		switch method {
		case "nearest":
			row[min(int(math.Floor(centre)), in-1)] = 1
		case "bilinear":
			p := centre - 0.5
			lo := math.Floor(p)
			l := p - lo
			row[int(math.Max(lo, 0))] += 1 - l
			row[int(math.Min(lo+1, float64(in-1)))] += l
		case "area":
			a, b := float64(o)*scale, float64(o+1)*scale
			for i := range row {
				overlap := math.Min(b, float64(i+1)) - math.Max(a, float64(i))
				row[i] = math.Max(overlap, 0) / scale
			}
		default:
			var kernel func(float64) float64
			switch method {
			case "bicubic":
				kernel = func(x float64) float64 {
					const a = -0.5
					x = math.Abs(x)
					switch {
					case x < 1:
						return (a+2)*x*x*x - (a+3)*x*x + 1
					case x < 2:
						return a*x*x*x - 5*a*x*x + 8*a*x - 4*a
					}
					return 0
				}
			case "lanczos3", "lanczos5":
				r := 3.0
				if method == "lanczos5" {
					r = 5
				}
				kernel = func(x float64) float64 {
					x = math.Abs(x)
					if x >= r {
						return 0
					}
					if x < 1e-3 {
						return 1
					}
					return r * math.Sin(math.Pi*x) * math.Sin(math.Pi*x/r) / (math.Pi * math.Pi * x * x)
				}
			case "gaussian":
				kernel = func(x float64) float64 {
					if math.Abs(x) >= 1.5 {
						return 0
					}
					return math.Exp(-x * x * 9 / 2)
				}
			case "mitchellcubic":
				kernel = func(x float64) float64 {
					x = math.Abs(x)
					switch {
					case x < 1:
						return (7.0/6)*x*x*x - 2*x*x + 8.0/9
					case x < 2:
						return (-7.0/18)*x*x*x + 2*x*x - 10.0/3*x + 16.0/9
					}
					return 0
				}
			}
			// Taps off the image weigh nothing; the rest are normalized.
			var sum float64
			for i := range row {
				row[i] = kernel(float64(i) + 0.5 - centre)
				sum += row[i]
			}
			for i := range row {
				row[i] /= sum
			}
		}
	}
	return w
}

func refResample(src []float32, n, inH, inW, ch int, wy, wx [][]float64) []float64 {
	outH, outW := len(wy), len(wx)
	var res []float64
	for img := 0; img < n; img++ {
		for y := 0; y < outH; y++ {
			for x := 0; x < outW; x++ {
				for c := 0; c < ch; c++ {
					var s float64
					for i := 0; i < inH; i++ {
						for j := 0; j < inW; j++ {
							s += wy[y][i] * wx[x][j] * float64(src[((img*inH+i)*inW+j)*ch+c])
						}
					}
					res = append(res, s)
				}
			}
		}
	}
	return res
}

func resize(t *testing.T, method string, src []float32, n, inH, inW, ch, outH, outW int) []float32 {
	t.Helper()
	ty, ok1 := ResizeTaps(method, inH, outH)
	tx, ok2 := ResizeTaps(method, inW, outW)
	if !ok1 || !ok2 {
		t.Fatalf("%s: no taps", method)
	}
	dst := make([]float32, n*outH*outW*ch)
	Resample(dst, src, make([]float32, outH*inW*ch), n, inH, inW, ch, ty, tx)
	return dst
}

func TestResample(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	sizes := [][4]int{{2, 2, 4, 4}, {3, 5, 6, 10}, {6, 4, 3, 2}, {5, 7, 5, 7}, {4, 9, 7, 3}, {1, 1, 3, 2}, {7, 3, 2, 2}}
	tol := map[string]float64{
		// TensorFlow reads bicubic weights from a 1024-entry table.
		"bicubic": 2e-3,
	}
	for _, method := range ResizeMethods {
		for _, s := range sizes {
			inH, inW, outH, outW := s[0], s[1], s[2], s[3]
			t.Run(fmt.Sprintf("%s_%v", method, s), func(t *testing.T) {
				n, ch := 2, 3
				src := randFloats(r, n*inH*inW*ch)
				got := resize(t, method, src, n, inH, inW, ch, outH, outW)
				want := refResample(src, n, inH, inW, ch, refWeights(method, inH, outH), refWeights(method, inW, outW))
				e := tol[method]
				if e == 0 {
					e = 1e-5
				}
				for i := range want {
					if !near(float64(got[i]), want[i], e) {
						t.Fatalf("element %d: got %g, want %g", i, got[i], want[i])
					}
				}
			})
		}
	}
}

// TestResampleKnown checks values tf.image.resize gives.
func TestResampleKnown(t *testing.T) {
	img := []float32{1, 2, 3, 4} // 2×2, one channel
	cases := []struct {
		method string
		want   []float32
	}{
		{"bilinear", []float32{
			1, 1.25, 1.75, 2,
			1.5, 1.75, 2.25, 2.5,
			2.5, 2.75, 3.25, 3.5,
			3, 3.25, 3.75, 4,
		}},
		{"nearest", []float32{
			1, 1, 2, 2,
			1, 1, 2, 2,
			3, 3, 4, 4,
			3, 3, 4, 4,
		}},
	}
	for _, c := range cases {
		got := resize(t, c.method, img, 1, 2, 2, 1, 4, 4)
		for i := range c.want {
			if math.Abs(float64(got[i]-c.want[i])) > 1e-6 {
				t.Errorf("%s: got %v, want %v", c.method, got, c.want)
				break
			}
		}
	}
	if _, ok := ResizeTaps("cubic", 2, 4); ok {
		t.Error("an unknown method has taps")
	}
}
