package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/kerascope/kerascope/keras/internal/kernel/micro"
)

// TestConvDirect checks ConvDirectRows against the patch matrix times the
// packed kernel (Im2ColRows, then MulPacked), bit for bit: the windows
// that qualify, among them MobileNet's first layer (3 channels, stride
// 2, padded after) and ones as narrow as a tile, in two parts of rows as
// Parallel splits them, with each epilogue.
func TestConvDirect(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	cases := []struct {
		name string
		w    ConvWindow
	}{
		{"mobilenet first", ConvWindow{In: [3]int{1, 15, 15}, Out: [3]int{1, 8, 8}, K: [3]int{1, 3, 3}, Stride: [3]int{1, 2, 2}, Dil: [3]int{1, 1, 1}, Pad: [3]int{0, 0, 0}}},
		{"resnet first", ConvWindow{In: [3]int{1, 20, 20}, Out: [3]int{1, 10, 10}, K: [3]int{1, 7, 7}, Stride: [3]int{1, 2, 2}, Dil: [3]int{1, 1, 1}, Pad: [3]int{0, 3, 3}}},
		{"mnist", ConvWindow{In: [3]int{1, 13, 13}, Out: [3]int{1, 11, 11}, K: [3]int{1, 3, 3}, Stride: [3]int{1, 1, 1}, Dil: [3]int{1, 1, 1}}},
		{"six wide", ConvWindow{In: [3]int{1, 4, 8}, Out: [3]int{1, 2, 6}, K: [3]int{1, 3, 3}, Stride: [3]int{1, 1, 1}, Dil: [3]int{1, 1, 1}}},
		{"dilated rows", ConvWindow{In: [3]int{1, 9, 12}, Out: [3]int{1, 5, 12}, K: [3]int{1, 3, 3}, Stride: [3]int{1, 1, 1}, Dil: [3]int{1, 2, 1}, Pad: [3]int{0, 0, 1}}},
		{"1d", ConvWindow{In: [3]int{1, 1, 20}, Out: [3]int{1, 1, 18}, K: [3]int{1, 1, 3}, Stride: [3]int{1, 1, 1}, Dil: [3]int{1, 1, 1}}},
		{"same 5x5", ConvWindow{In: [3]int{1, 9, 9}, Out: [3]int{1, 9, 9}, K: [3]int{1, 5, 5}, Stride: [3]int{1, 1, 1}, Dil: [3]int{1, 1, 1}, Pad: [3]int{0, 2, 2}}},
	}
	for _, tc := range cases {
		for _, cf := range [][2]int{{1, 32}, {3, 32}, {3, 24}, {8, 64}, {16, 40}} {
			w := tc.w
			channels, filters := cf[0], cf[1]
			k := w.KLen() * channels
			kern := convRand(r, k*filters)
			p := Pack(make([]float32, PackedLen(k, filters)), kern, k, filters, filters)
			if k > maxInPlaceKC {
				// MulPacked reads such rows in blocks of k, whose
				// partial sums the direct loop would not round alike.
				if DirectConv(&w, channels, p) {
					t.Errorf("%s, %d channels: DirectConv true for %d-deep windows", tc.name, channels, k)
				}
				continue
			}
			if !DirectConv(&w, channels, p) {
				if micro.Wide {
					t.Fatalf("%s: DirectConv false", tc.name)
				}
				t.Skip("no 512-bit micro-kernel: ConvDirectRows does not run here")
			}
			x := convRand(r, w.InLen()*channels)
			bias := convRand(r, filters)
			for _, epi := range []Epilogue{{}, {Kind: EpiBias, Bias: bias}, {Kind: EpiBiasReluCap, Bias: bias, Max: 0.5, HasMax: true}} {
				t.Run(fmt.Sprintf("%s/%dx%d/%d", tc.name, channels, filters, epi.Kind), func(t *testing.T) {
					want := make([]float32, w.OutLen()*filters)
					s := make([]float32, w.OutLen()*k)
					Im2ColRows(s, x, &w, channels, 0, channels, 0, w.OutLen())
					MulPacked(want, filters, s, k, w.OutLen(), p, false, epi)
					got := make([]float32, len(want))
					for i := range got {
						got[i] = float32(math.NaN())
					}
					scratch := make([]float32, w.Out[2]*k)
					half := w.Out[1] / 2
					ConvDirectRows(got, x, &w, channels, p, epi, half, w.Out[1], scratch)
					ConvDirectRows(got, x, &w, channels, p, epi, 0, half, scratch)
					for i := range got {
						if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
							t.Fatalf("position %d, filter %d: %v, patch matrix %v", i/filters, i%filters, got[i], want[i])
						}
					}
				})
			}
		}
	}
}
