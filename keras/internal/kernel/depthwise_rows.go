package kernel

import (
	"sync"

	"github.com/kerascope/kerascope/keras/internal/kernel/micro"
)

// Depthwise3x3Applies reports whether Depthwise3x3Rows computes the
// depthwise convolution of window w with depth multiplier mult: the 3×3
// kernels of MobileNet and EfficientNet (two spatial axes, no dilation,
// multiplier 1).
func Depthwise3x3Applies(w *ConvWindow, mult int) bool { return windowRows(w, mult) == 3 }

// windowRows returns the side of the square window whose depthwise
// convolution depthwiseRows computes, or 0: 3×3 windows, and 5×5 ones
// (EfficientNet's) where the CPU has AVX-512 (their loop is assembly
// only; elsewhere DepthwiseConvRows's loop over listed taps runs them).
func windowRows(w *ConvWindow, mult int) int {
	if mult != 1 || w.Dil != [3]int{1, 1, 1} || w.In[0] != 1 || w.Out[0] != 1 || w.K[0] != 1 ||
		w.Pad[0] != 0 || w.Stride[0] != 1 || w.Stride[1] <= 0 || w.Stride[2] <= 0 || w.K[1] != w.K[2] {
		return 0
	}
	switch w.K[1] {
	case 3:
		return 3
	case 5:
		if micro.Wide {
			return 5
		}
	}
	return 0
}

// depthwiseRows sets the output rows [r0, r1) of the depthwise K×K
// convolution of x (In[1] rows of In[2] positions × channels) with k
// (K·K × channels), each row Out[2] positions, then applies epi.
//
// Every position runs the same loop over all K·K taps: in assembly
// (micro.Depthwise3x3 and 5x5, with epi applied in registers) or, for
// 3×3 on CPUs without AVX-512, in AVX2 (dw3x3Vec), but the positions at
// the left and right edges, whose taps inside the input are added one by
// one. A window row above or below the input reads a row of zeros:
// DepthwiseConvRows ran a whole such row through its slower loop over
// listed taps (on a 7×7 map, two rows of seven; and every 5×5 position).
// The padded taps add products of zero, which leave a sum as it is
// (TensorFlow's kernels pad with zeros the same way).
func depthwiseRows(dst, x, k []float32, w *ConvWindow, channels, r0, r1 int, epi Epilogue) {
	rl := w.In[2] * channels
	windowsRows(dst, func(i int) []float32 { return x[i*rl : (i+1)*rl] }, k, w, channels, r0, r1, epi)
}

// A RowSource returns input row i of a convolution (In[2] positions ×
// channels). Depthwise3x3Rows asks, for each output row, for the rows of
// its window inside the input, the last first; a source may compute
// them then (an expanding 1×1 convolution's rows, never all in memory at
// once).
type RowSource func(i int) []float32

// Depthwise3x3Rows is depthwiseRows on a 3×3 window with the input rows
// from src. The rows asked for go down from the last of a window, and up
// from one window to the next: a request for row i may move or drop the
// rows before i-2 that src returned, but the slices it returned for rows
// i-2 and i-1 must stay valid.
func Depthwise3x3Rows(dst []float32, src RowSource, k []float32, w *ConvWindow, channels, r0, r1 int, epi Epilogue) {
	if !Depthwise3x3Applies(w, 1) {
		panic("kernel: Depthwise3x3Rows on another window")
	}
	windowsRows(dst, src, k, w, channels, r0, r1, epi)
}

func windowsRows(dst []float32, src RowSource, k []float32, w *ConvWindow, channels, r0, r1 int, epi Epilogue) {
	side := w.K[1]
	inW, outW, s, padL := w.In[2], w.Out[2], w.Stride[2], w.Pad[2]
	rl := inW * channels
	// Positions [lo, hi) have all their columns inside the input.
	lo, hi := interior(outW, inW, side, s, 1, padL)
	// A row of zeros, for window rows outside the input.
	zp := getZeros(rl)
	defer zeroPool.Put(zp)
	zero := *zp
	me := epi.tile(0, channels)
	var mep *micro.Epilogue
	if epi.Kind != NoEpilogue {
		mep = &me
	}
	var rowsBuf, runBuf [5][]float32
	rows, run := rowsBuf[:side], runBuf[:side]
	for o := r0; o < r1; o++ {
		top := o*w.Stride[1] - w.Pad[1]
		// The window's last row first: a source that computes rows
		// computes them when asked for the last, and keeps those above
		// it (RowSource).
		for ky := side - 1; ky >= 0; ky-- {
			if i := top + ky; i >= 0 && i < w.In[1] {
				rows[ky] = src(i)[:rl]
			} else {
				rows[ky] = zero
			}
		}
		d := dst[o*outW*channels : (o+1)*outW*channels]
		if hi > lo {
			first := lo*s - padL
			for ky, r := range rows {
				run[ky] = r[first*channels:]
			}
			windowRun(d[lo*channels:hi*channels], run, k, hi-lo, s, channels, epi, mep)
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
				for kx := range side {
					if col := q*s - padL + kx; col >= 0 && col < inW {
						t := (side*ky + kx) * channels
						mulAdd(dq, r[col*channels:(col+1)*channels], k[t:t+channels])
					}
				}
			}
			epi.Apply(dq)
		}
	}
}

// windowRun sets the count positions of d (channels apart) to the K×K
// windows starting at rows (K of them), stride positions apart, then
// applies epi (me, its micro-kernel form; nil when epi is none).
func windowRun(d []float32, rows [][]float32, k []float32, count, stride, channels int, epi Epilogue, me *micro.Epilogue) {
	side := len(rows)
	n := channels &^ 7
	run := func(e *micro.Epilogue) bool {
		if side == 5 {
			return micro.Depthwise5x5(d, [5][]float32(rows), k, count, stride, channels, n, e)
		}
		return micro.Depthwise3x3(d, [3][]float32(rows), k, count, stride, channels, n, e)
	}
	if n == channels && run(me) {
		return // the epilogue applied in registers
	}
	done := 0
	if run(nil) {
		done = n
	} else if side == 3 {
		done = dw3x3Vec(d, [3][]float32(rows), k, count, stride, channels)
	}
	for q := range count {
		dq := d[q*channels : (q+1)*channels]
		clear(dq[done:])
		for ky, r := range rows {
			for kx := range side {
				xt := (q*stride + kx) * channels
				kt := (side*ky + kx) * channels
				mulAdd(dq[done:], r[xt+done:xt+channels], k[kt+done:kt+channels])
			}
		}
	}
	epi.Apply(d)
}

// zeroPool holds the rows of zeros of windowsRows.
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
