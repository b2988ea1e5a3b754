package kernel

import "github.com/kerascope/kerascope/keras/internal/kernel/micro"

// Convolutions without a patch matrix. A convolution's product with its
// kernel packed multiplies each output position's window by the kernel;
// where the window lies inside the input, its rows are runs of
// K[2]·channels contiguous input values, one input row apart, and six
// consecutive positions' windows are the same runs S[2]·channels values
// apart. micro.KernelConv reads them there, a window row a segment, with
// no im2col copy: im2col was a quarter of the MNIST CNN's batch, and the
// 3-channel first layers of MobileNetV2 and EfficientNetB0 run 1.9 and
// 1.4 times as fast without it. The positions whose windows cross the
// input's edge still go through Im2ColRows and MulPacked's loop.
//
// Both read the same values in the same order into the same sums, so the
// results are the same bits as the patch matrix's (tested).

// DirectConv reports whether ConvDirectRows computes the convolution of
// window w over channels input channels with the packed kernel p: on CPUs
// with the 512-bit micro-kernel, for one or two spatial axes, no dilation
// along the last, and kernels that MulPacked reads in one block of k
// (the condition for the same bits).
func DirectConv(w *ConvWindow, channels int, p *Packed) bool {
	return micro.Wide && w.In[0] == 1 && w.K[0] == 1 && w.Out[0] == 1 && w.Dil[2] == 1 &&
		p.K == w.KLen()*channels && p.K <= maxInPlaceKC && w.Out[2] >= packMR && w.Stride[1] > 0 && w.Stride[2] > 0
}

// ConvDirectRows sets the output rows [r0, r1) (along the first of two
// spatial axes, w.Out[2] positions × p.N filters each, row stride p.N) of
// one sample's convolution of x (InLen × channels) with p, then applies
// epi; DirectConv must hold. scratch holds the patches of the positions
// at the edges: at least w.Out[2]·p.K floats.
func ConvDirectRows(dst, x []float32, w *ConvWindow, channels int, p *Packed, epi Epilogue, r0, r1 int, scratch []float32) {
	k, n := p.K, p.N
	outW := w.Out[2]
	lo, hi := interior(outW, w.In[2], w.K[2], w.Stride[2], 1, w.Pad[2])
	seg := w.K[2] * channels                 // a window row's values
	sstride := w.Dil[1] * w.In[2] * channels // from one window row to the next
	lda := w.Stride[2] * channels            // from one position's window to the next's
	// The edges first, row by row; then the interiors, panel by panel
	// outermost, so that a panel's kernel block stays in L1 over all the
	// rows (row by row, a narrow map's rows re-read the whole kernel from
	// L2: the MNIST CNN's second layer ran 1.5 times slower).
	direct := func(o int) bool {
		top := o*w.Stride[1] - w.Pad[1]
		return top >= 0 && top+(w.K[1]-1)*w.Dil[1] < w.In[1] && hi-lo >= packMR
	}
	for o := r0; o < r1; o++ {
		row := dst[o*outW*n : (o+1)*outW*n]
		if !direct(o) {
			edgeRows(row, x, w, channels, p, epi, o, 0, outW, scratch)
			continue
		}
		edgeRows(row, x, w, channels, p, epi, o, 0, lo, scratch)
		edgeRows(row, x, w, channels, p, epi, o, hi, outW, scratch)
	}
	full, rest := (hi-lo)/packMR, (hi-lo)%packMR
	for jc := 0; jc < n; jc += 2 * packNR {
		span := min(2*packNR, n-jc)
		var me *micro.Epilogue
		if epi.Kind != NoEpilogue {
			t := epi.tile(jc, span)
			me = &t
		}
		panel := p.data[jc*k:]
		for o := r0; o < r1; o++ {
			if !direct(o) {
				continue
			}
			top := o*w.Stride[1] - w.Pad[1]
			row := dst[o*outW*n : (o+1)*outW*n]
			// Whole groups of six from lo, then the last six positions
			// again when they do not end on a group: those rewrite the
			// same bits.
			a := x[(top*w.In[2]+lo*w.Stride[2]-w.Pad[2])*channels:]
			micro.KernelConv(full, seg, w.K[1], sstride, a, lda, panel, packNR*k, span, row[lo*n+jc:], n, me)
			if rest > 0 {
				q := hi - packMR
				micro.KernelConv(1, seg, w.K[1], sstride, a[(q-lo)*lda:], lda, panel, packNR*k, span, row[q*n+jc:], n, me)
			}
		}
	}
}

// edgeRows sets positions [q0, q1) of output row o (row, Out[2]·p.N
// floats) through the patch matrix.
func edgeRows(row, x []float32, w *ConvWindow, channels int, p *Packed, epi Epilogue, o, q0, q1 int, scratch []float32) {
	if q1 <= q0 {
		return
	}
	k := p.K
	p0 := o*w.Out[2] + q0
	Im2ColRows(scratch, x, w, channels, 0, channels, p0, p0+q1-q0)
	mulPacked(row[q0*p.N:], p.N, scratch[:(q1-q0)*k], k, 0, q1-q0, 0, p.N, p, false, epi)
}
