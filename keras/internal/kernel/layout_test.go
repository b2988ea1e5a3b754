package kernel

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// coords turns a flat row-major index into coordinates.
func coords(i int, shape []int) []int {
	c := make([]int, len(shape))
	for a := len(shape) - 1; a >= 0; a-- {
		c[a] = i % shape[a]
		i /= shape[a]
	}
	return c
}

func flatIndex(c, shape []int) int {
	i := 0
	for a := range shape {
		i = i*shape[a] + c[a]
	}
	return i
}

func size(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

func TestCopyBox(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	cases := []struct{ dstShape, dstOff, srcShape, srcOff, size []int }{
		{[]int{5}, []int{1}, []int{3}, []int{0}, []int{3}},
		{[]int{2, 6, 3}, []int{0, 2, 0}, []int{2, 3, 3}, []int{0, 0, 0}, []int{2, 3, 3}},                // padding
		{[]int{2, 2, 3}, []int{0, 0, 0}, []int{2, 5, 3}, []int{0, 1, 0}, []int{2, 2, 3}},                // cropping
		{[]int{1, 4, 5, 2}, []int{0, 1, 2, 0}, []int{1, 3, 4, 2}, []int{0, 1, 1, 0}, []int{1, 2, 3, 2}}, // both
		{[]int{2, 3, 4, 5, 2}, []int{0, 0, 1, 1, 0}, []int{2, 3, 2, 3, 2}, []int{0, 0, 0, 0, 0}, []int{2, 3, 2, 3, 2}},
		{[]int{2, 3}, []int{0, 0}, []int{2, 3}, []int{0, 0}, []int{2, 0}}, // empty box
	}
	for _, c := range cases {
		t.Run(fmt.Sprint(c.dstShape, c.srcShape, c.size), func(t *testing.T) {
			src := randFloats(r, size(c.srcShape))
			dst := randFloats(r, size(c.dstShape))
			want := append([]float32(nil), dst...)
			for i := 0; i < size(c.size); i++ {
				b := coords(i, c.size)
				sc, dc := make([]int, len(b)), make([]int, len(b))
				for a := range b {
					sc[a], dc[a] = b[a]+c.srcOff[a], b[a]+c.dstOff[a]
				}
				want[flatIndex(dc, c.dstShape)] = src[flatIndex(sc, c.srcShape)]
			}
			CopyBox(dst, c.dstShape, c.dstOff, src, c.srcShape, c.srcOff, c.size)
			for i := range want {
				if dst[i] != want[i] {
					t.Fatalf("element %v: got %g, want %g", coords(i, c.dstShape), dst[i], want[i])
				}
			}
		})
	}
}

func TestRepeat(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	cases := []struct{ shape, reps []int }{
		{[]int{3}, []int{2}},
		{[]int{2, 3, 4}, []int{1, 2, 1}},       // UpSampling1D
		{[]int{2, 3, 4, 2}, []int{1, 2, 3, 1}}, // UpSampling2D, channels last
		{[]int{2, 2, 3, 4}, []int{1, 1, 2, 2}}, // channels first
		{[]int{1, 2, 2, 2, 3}, []int{1, 2, 3, 2, 1}},
		{[]int{2, 3}, []int{1, 1}},
		{[]int{0, 3}, []int{1, 2}},
	}
	for _, c := range cases {
		t.Run(fmt.Sprint(c.shape, c.reps), func(t *testing.T) {
			out := make([]int, len(c.shape))
			for a := range out {
				out[a] = c.shape[a] * c.reps[a]
			}
			src := randFloats(r, size(c.shape))
			dst := make([]float32, size(out))
			Repeat(dst, src, c.shape, c.reps)
			for i := range dst {
				o := coords(i, out)
				for a := range o {
					o[a] /= c.reps[a]
				}
				if w := src[flatIndex(o, c.shape)]; dst[i] != w {
					t.Fatalf("element %v: got %g, want %g", coords(i, out), dst[i], w)
				}
			}
		})
	}
}
