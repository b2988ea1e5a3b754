//go:build goexperiment.simd && amd64

package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"simd/archsimd"

	"github.com/kerascope/kerascope/keras/internal/kernel/micro"
)

// TestHorizontal checks the in-register reductions against their lanes
// written out: every lane holds the largest lane, and the sum in the
// order hsum8 documents.
func TestHorizontal(t *testing.T) {
	if !haveAVX2 {
		t.Skip("no AVX2")
	}
	r := rand.New(rand.NewPCG(3, 4))
	for range 1000 {
		var l [8]float32
		for i := range l {
			l[i] = float32(r.NormFloat64() * math.Pow(10, float64(r.IntN(8)-4)))
		}
		v := archsimd.LoadFloat32x8(&l)
		var got [8]float32
		hmax8(v).Store(&got)
		m := l[0]
		for _, x := range l[1:] {
			m = max(m, x)
		}
		want := ((l[0] + l[4]) + (l[2] + l[6])) + ((l[1] + l[5]) + (l[3] + l[7]))
		for i, g := range got {
			if g != m {
				t.Fatalf("hmax8(%v) lane %d = %v, want %v", l, i, g, m)
			}
		}
		hsum8(v).Store(&got)
		for i, g := range got {
			if math.Float32bits(g) != math.Float32bits(want) {
				t.Fatalf("hsum8(%v) lane %d = %v, want %v", l, i, g, want)
			}
		}
	}
}

// BenchmarkScalarAfterVector times Softmax's scalar exps (8×1000 values,
// a classifier's batch) right after a vector kernel (AddBias), with and
// without the vector kernel: the two stay close only while every vector
// kernel clears the upper halves of the registers when it is done (14 ms
// against 0.15 ms on a Xeon when none did).
func BenchmarkScalarAfterVector(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, 8000)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	y := make([]float32, len(x))
	for _, vector := range []bool{false, true} {
		b.Run(fmt.Sprintf("vector=%v", vector), func(b *testing.B) {
			for b.Loop() {
				copy(y, x)
				if vector {
					AddBias(y, x[:1000])
				}
				Softmax(y, 8, 1000, 1)
			}
		})
	}
}

// TestDepthwise3x3Paths checks that the AVX2 loop of the depthwise 3×3
// convolution (dw3x3Vec) gives the assembly's bits (micro.Depthwise3x3,
// on CPUs with AVX-512), so that a model's outputs do not depend on
// which of the two a CPU runs.
func TestDepthwise3x3Paths(t *testing.T) {
	if !haveAVX2 {
		t.Skip("no AVX2: dw3x3Vec is not vector code here")
	}
	r := rand.New(rand.NewPCG(7, 8))
	for _, tc := range []struct{ channels, count, stride int }{{8, 5, 1}, {16, 9, 2}, {24, 4, 1}, {96, 13, 2}, {40, 1, 1}} {
		width := (tc.count-1)*tc.stride + 3
		var rows [3][]float32
		for i := range rows {
			rows[i] = convRand(r, width*tc.channels)
		}
		k := convRand(r, 9*tc.channels)
		want := make([]float32, tc.count*tc.channels)
		if !micro.Depthwise3x3(want, rows, k, tc.count, tc.stride, tc.channels, tc.channels, nil) {
			t.Skip("no AVX-512: nothing to compare dw3x3Vec with")
		}
		got := make([]float32, len(want))
		if n := dw3x3Vec(got, rows, k, tc.count, tc.stride, tc.channels); n != tc.channels {
			t.Fatalf("%+v: dw3x3Vec did %d channels, want %d", tc, n, tc.channels)
		}
		for i := range got {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("%+v: element %d: dw3x3Vec %v, assembly %v", tc, i, got[i], want[i])
			}
		}
	}
}

// TestMaxWindows2x2 checks the unrolled 16-channel loop of 2×2 max
// pooling against the 8-float loop over a list of cells, bit for bit,
// NaNs in every cell included.
func TestMaxWindows2x2(t *testing.T) {
	if !haveAVX512 {
		t.Skip("no AVX-512: maxWindows2x2 does not run here")
	}
	r := rand.New(rand.NewPCG(11, 12))
	const ch, count = 32, 5
	const step = 2 * ch
	in := convRand(r, (count*2+1)*ch*2+4*ch)
	for i := 0; i < len(in); i += 7 {
		in[i] = float32(math.NaN())
	}
	rel := []int{0, ch, 11 * ch, 12 * ch}
	got := make([]float32, count*ch)
	want := make([]float32, count*ch)
	maxWindowsVec(got, in, rel, count, step, ch)
	haveAVX512 = false
	maxWindowsVec(want, in, rel, count, step, ch)
	haveAVX512 = true
	for i := range got {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("element %d: %v, the 8-float loop's %v", i, got[i], want[i])
		}
	}
}
