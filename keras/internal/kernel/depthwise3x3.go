package kernel

import (
	"sync"

	"github.com/kerascope/kerascope/keras/internal/kernel/micro"
)

// Depthwise3x3Applies reports whether depthwise3x3Rows computes the
// depthwise convolution of window w with depth multiplier mult: the 3×3
// kernels of MobileNet and EfficientNet (two spatial axes, no dilation,
// multiplier 1).
func Depthwise3x3Applies(w *ConvWindow, mult int) bool {
	return mult == 1 && w.K == [3]int{1, 3, 3} && w.Dil == [3]int{1, 1, 1} && w.In[0] == 1 && w.Out[0] == 1 &&
		w.Pad[0] == 0 && w.Stride[0] == 1 && w.Stride[1] > 0 && w.Stride[2] > 0
}

// depthwise3x3Rows sets the output rows [r0, r1) of the depthwise 3×3
// convolution of x (In[1] rows of In[2] positions × channels) with k
// (9 × channels), each row Out[2] positions, then applies epi.
//
// Every position runs the same loop over all nine taps: in assembly
// (micro.Depthwise3x3, with epi applied in registers) or in AVX2
// (dw3x3Vec), but the positions at the left and right edges, whose taps
// inside the input DepthwiseConvRows's loop adds. A window row above or
// below the input reads a row of zeros: DepthwiseConvRows ran a whole
// such row through its slower loop over listed taps (on a 7×7 map, two
// rows of seven). The padded taps add products of zero, which leave a
// sum as it is (TensorFlow's kernels pad with zeros the same way).
func depthwise3x3Rows(dst, x, k []float32, w *ConvWindow, channels, r0, r1 int, epi Epilogue) {
	rl := w.In[2] * channels
	Depthwise3x3Rows(dst, func(i int) []float32 { return x[i*rl : (i+1)*rl] }, k, w, channels, r0, r1, epi)
}

// A RowSource returns input row i of a convolution (In[2] positions ×
// channels). Depthwise3x3Rows asks, for each output row, for the rows of
// its window inside the input, the last first; a source may compute
// them then (an expanding 1×1 convolution's rows, never all in memory at
// once).
type RowSource func(i int) []float32

// Depthwise3x3Rows is depthwise3x3Rows with the input rows from src. The
// rows asked for go down from the last of a window, and up from one
// window to the next: a request for row i may move or drop the rows
// before i-2 that src returned, but the slices it returned for rows i-2
// and i-1 must stay valid.
func Depthwise3x3Rows(dst []float32, src RowSource, k []float32, w *ConvWindow, channels, r0, r1 int, epi Epilogue) {
	if !Depthwise3x3Applies(w, 1) {
		panic("kernel: Depthwise3x3Rows on another window")
	}
	inW, outW, s, padL := w.In[2], w.Out[2], w.Stride[2], w.Pad[2]
	rl := inW * channels
	// Positions [lo, hi) have all three columns inside the input.
	lo, hi := interior(outW, inW, 3, s, 1, padL)
	// A row of zeros, for window rows outside the input.
	zp := getZeros(rl)
	defer zeroPool.Put(zp)
	zero := *zp
	me := epi.tile(0, channels)
	var mep *micro.Epilogue
	if epi.Kind != NoEpilogue {
		mep = &me
	}
	for o := r0; o < r1; o++ {
		var rows [3][]float32
		top := o*w.Stride[1] - w.Pad[1]
		// The window's last row first: a source that computes rows
		// computes them when asked for the last, and keeps the two
		// above it (RowSource).
		for ky := 2; ky >= 0; ky-- {
			if i := top + ky; i >= 0 && i < w.In[1] {
				rows[ky] = src(i)[:rl]
			} else {
				rows[ky] = zero
			}
		}
		d := dst[o*outW*channels : (o+1)*outW*channels]
		if hi > lo {
			first := lo*s - padL
			run := [3][]float32{rows[0][first*channels:], rows[1][first*channels:], rows[2][first*channels:]}
			dw3x3Run(d[lo*channels:hi*channels], run, k, hi-lo, s, channels, epi, mep)
		}
		// The edges: the taps inside the input only.
		for q := range outW {
			if q >= lo && q < hi {
				continue
			}
			// Tap by tap into d: the same fused multiply-adds from +0
			// in the same order as tapsVec's sums in registers.
			dq := d[q*channels : (q+1)*channels]
			clear(dq)
			for ky, r := range rows {
				if i := top + ky; i < 0 || i >= w.In[1] {
					continue
				}
				for kx := range 3 {
					if col := q*s - padL + kx; col >= 0 && col < inW {
						t := (3*ky + kx) * channels
						mulAdd(dq, r[col*channels:(col+1)*channels], k[t:t+channels])
					}
				}
			}
			epi.Apply(dq)
		}
	}
}

// dw3x3Run sets the count positions of d (channels apart) to the 3×3
// windows starting at rows, stride positions apart, then applies epi
// (me, its micro-kernel form; nil when epi is none).
func dw3x3Run(d []float32, rows [3][]float32, k []float32, count, stride, channels int, epi Epilogue, me *micro.Epilogue) {
	n := channels &^ 7
	if n == channels && micro.Depthwise3x3(d, rows, k, count, stride, channels, n, me) {
		return // the epilogue applied in registers
	}
	done := 0
	if micro.Depthwise3x3(d, rows, k, count, stride, channels, n, nil) {
		done = n
	} else {
		done = dw3x3Vec(d, rows, k, count, stride, channels)
	}
	for q := range count {
		dq := d[q*channels : (q+1)*channels]
		clear(dq[done:])
		for ky, r := range rows {
			for kx := range 3 {
				xt := (q*stride + kx) * channels
				kt := (3*ky + kx) * channels
				mulAdd(dq[done:], r[xt+done:xt+channels], k[kt+done:kt+channels])
			}
		}
	}
	epi.Apply(d)
}

// zeroPool holds the rows of zeros of depthwise3x3Rows.
var zeroPool sync.Pool

// getZeros returns n zeros.
func getZeros(n int) *[]float32 {
	if p, ok := zeroPool.Get().(*[]float32); ok && cap(*p) >= n {
		*p = (*p)[:n]
		clear(*p)
		return p
	}
	s := make([]float32, n)
	return &s
}
