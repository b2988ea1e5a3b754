package keras

import (
	"fmt"
	"github.com/kerascope/kerascope/keras/bind"
	"strings"
	"sync"

	"github.com/kerascope/kerascope/keras/internal/kernel"
)

// The forward pass of the convolution layers (conv.go). Data is computed
// channels-last; channels_first layers transpose their input and output at
// the edges, since Keras keeps one kernel layout for both formats.
//
//   - plain convolutions: im2col (each output position's window, channels
//     innermost) times the kernel, which Keras already stores as the
//     (window·channels, filters) matrix; one product per channel group
//     over a chunk of samples; 1×1 convolutions multiply the input as is;
//   - transposed convolutions: the input times the transposed kernel gives
//     every tap's contribution, which col2im adds onto the output (the
//     adjoint of the convolution from the output's size to the input's,
//     which is what TensorFlow's conv_transpose computes);
//   - depthwise convolutions: a direct loop (no product to batch);
//     separable ones add a pointwise product.
//
// Padding follows TensorFlow: "same" pads max((out-1)·s + e - n, 0) in
// total, the smaller half before; "causal" pads e-1 before only.

// keras1Layout tells how Keras 1 stored the kernel of a layer with this
// config, where that differs from Keras 2 (package bind converts it as
// Keras 2's loader did), or, for the layouts kerascope does not convert,
// why the layer cannot run. Keras 1 stored Theano-ordered ("th") kernels as
// (filters, channels, *k), Deconvolution2D kernels with their last two
// axes in the other order, and Convolution1D kernels as
// (length, 1, channels, filters).
func keras1Layout(d *decoder, kind convKind, rank int) (bind.Keras1, string) {
	if rank == 1 && d.has("filter_length") && !d.has("kernel_size") {
		if kind != plainConv {
			return bind.Keras1{}, "it is a Keras 1 one-dimensional convolution whose kernel layout kerascope does not convert"
		}
		return bind.Keras1{Drop: true, DropAxis: 1}, ""
	}
	r, key := d.lookup("data_format", "dim_ordering")
	if key != "dim_ordering" {
		return bind.Keras1{}, ""
	}
	th := strings.EqualFold(r.Str, "th")
	switch {
	case kind == plainConv && th:
		// (filters, channels, *k) -> (*k, channels, filters)
		perm := make([]int, 0, rank+2)
		for i := range rank {
			perm = append(perm, 2+i)
		}
		return bind.Keras1{Perm: append(perm, 1, 0)}, ""
	case kind == transposeConv && rank == 2 && th:
		return bind.Keras1{Perm: []int{2, 3, 0, 1}}, ""
	case kind == transposeConv && rank == 2:
		return bind.Keras1{Perm: []int{0, 1, 3, 2}}, ""
	case th:
		return bind.Keras1{}, "it is a Keras 1 layer with Theano dimension ordering (dim_ordering \"th\") whose kernel layout kerascope does not convert"
	}
	return bind.Keras1{}, ""
}

func (l *conv) cannotRun() string {
	if l.legacy != "" {
		return l.legacy
	}
	return activationReason(l.activation)
}

// maxScratch bounds, in floats, the patch matrix built at once: samples are
// processed in chunks of at most this many patch values (at least one
// sample), so a large batch cannot ask for gigabytes and a chunk's patches
// (1 MB) stay in cache between im2col and the product.
const maxScratch = 1 << 18

// scratchPool recycles the patch matrices between calls; the nets are used
// from many goroutines, which a sync.Pool serves without contention.
var scratchPool sync.Pool

// getScratch returns a slice of n floats with unspecified contents.
func getScratch(n int) *[]float32 {
	if p, ok := scratchPool.Get().(*[]float32); ok && cap(*p) >= n {
		*p = (*p)[:n]
		return p
	}
	s := make([]float32, n)
	return &s
}

func putScratch(p *[]float32) { scratchPool.Put(p) }

// inChunks calls f for consecutive chunks of the n samples, each chunk of m
// samples with a scratch of m·per floats (at most maxScratch, at least one
// sample's per), so that a stage can go through the scratch chunk by chunk.
func inChunks(n, per int, f func(s []float32, b0, m int)) {
	chunk := max(1, min(n, maxScratch/max(per, 1)))
	sp := getScratch(chunk * per)
	defer putScratch(sp)
	for b0 := 0; b0 < n; b0 += chunk {
		m := min(chunk, n-b0)
		f((*sp)[:m*per], b0, m)
	}
}

// window returns the geometry of the layer over input spatial lengths n,
// as the convolution kernel.ConvWindow: for a transposed convolution, that of
// the convolution it is the transpose of (from its output to its input).
func (l *conv) window(n []int) (kernel.ConvWindow, error) {
	var w kernel.ConvWindow
	for a := range 3 {
		w.In[a], w.Out[a], w.K[a], w.Stride[a], w.Dil[a] = 1, 1, 1, 1, 1
	}
	off := 3 - l.rank
	for i := range l.rank {
		a := off + i
		k, s, d := l.kernel[i], l.strides[i], l.dilation[i]
		e := d*(k-1) + 1
		// A folded ZeroPadding grows the input the layer sees; the
		// window's own padding is then computed on that length, and
		// the zeros before join it.
		ni, zb := n[i], 0
		if l.padBefore != nil {
			zb = l.padBefore[i]
			ni += zb + l.padAfter[i]
		}
		out, err := l.length(ni, i)
		if err != nil {
			return w, err
		}
		if out <= 0 || n[i] <= 0 {
			return w, fmt.Errorf("spatial length %d gives output length %d", n[i], out)
		}
		w.K[a], w.Stride[a], w.Dil[a] = k, s, d
		if l.kind == transposeConv {
			w.In[a], w.Out[a] = out, n[i]
			if l.padding == "same" {
				w.Pad[a] = max((n[i]-1)*s+e-out, 0) / 2
			}
			continue
		}
		w.In[a], w.Out[a] = n[i], out
		switch l.padding {
		case "same":
			w.Pad[a] = max((out-1)*s+e-ni, 0) / 2
		case "causal":
			w.Pad[a] = e - 1
		}
		w.Pad[a] += zb
	}
	return w, nil
}

// spatialOf returns the outer axes of a window's lengths used by rank.
func spatialOf(v [3]int, rank int) []int { return append([]int(nil), v[3-rank:]...) }

// wantWeight checks a weight holds n values.
func wantWeight(w []*Tensor, i int, n int, name string) error {
	if i >= len(w) || w[i] == nil {
		return fmt.Errorf("weight %s is missing", name)
	}
	if len(w[i].Data) != n {
		return fmt.Errorf("weight %s holds %d values, want %d", name, len(w[i].Data), n)
	}
	return nil
}

func (l *conv) forward(c *call) error {
	if len(c.in) != 1 {
		return fmt.Errorf("takes 1 input, got %d", len(c.in))
	}
	x := c.in[0]
	if err := x.Check(); err != nil {
		return err
	}
	if len(x.Shape) != l.rank+2 {
		return fmt.Errorf("input shape %s: want rank %d", shapeString(x.Shape), l.rank+2)
	}
	x = toChannelsLast(x, l.channelsFirst)
	n, ch := x.Shape[0], x.Shape[l.rank+1]
	w, err := l.window(x.Shape[1 : l.rank+1])
	if err != nil {
		return fmt.Errorf("input shape %s: %w", shapeString(c.in[0].Shape), err)
	}
	outCh := l.filters
	if l.kind == depthwiseConv {
		outCh = ch * l.depthMultiplier
	}
	var outLen [3]int
	if l.kind == transposeConv {
		outLen = w.In
	} else {
		outLen = w.Out
	}
	outShape := append(append([]int{n}, spatialOf(outLen, l.rank)...), outCh)
	// Every kind but the transposed one writes each output element (the
	// products with beta 0, the depthwise sums); col2im adds into zeros.
	out := c.ar.output(outShape...)
	if l.kind == transposeConv {
		clear(out.Data)
	}
	kl := w.KLen()
	bias := 0
	switch l.kind {
	case plainConv:
		if ch%l.groups != 0 {
			return fmt.Errorf("%d input channels do not divide into %d groups", ch, l.groups)
		}
		if l.packed != nil {
			if l.packed[0].K != kl*ch/l.groups {
				return fmt.Errorf("kernel packed for %d input channels, got %d", l.packed[0].K/kl*l.groups, ch)
			}
			convolve(out.Data, x.Data, nil, l.packed, l.epi, n, &w, ch, l.filters, len(l.packed))
		} else {
			if err := wantWeight(c.w, 0, kl*ch/l.groups*l.filters, "kernel"); err != nil {
				return err
			}
			convolve(out.Data, x.Data, c.w[0].Data, nil, kernel.Epilogue{}, n, &w, ch, l.filters, l.groups)
		}
		bias = 1
	case transposeConv:
		if err := wantWeight(c.w, 0, kl*l.filters*ch, "kernel"); err != nil {
			return err
		}
		convolveTranspose(out.Data, x.Data, c.w[0].Data, n, &w, ch, l.filters)
		bias = 1
	case depthwiseConv:
		if err := wantWeight(c.w, 0, kl*outCh, "kernel"); err != nil {
			return err
		}
		depthwise(out.Data, x.Data, c.w[0].Data, n, &w, ch, l.depthMultiplier, l.epi)
		bias = 1
	case separableConv:
		mid := ch * l.depthMultiplier
		if err := wantWeight(c.w, 0, kl*mid, "depthwise_kernel"); err != nil {
			return err
		}
		if l.packed != nil {
			if l.packed[0].K != mid {
				return fmt.Errorf("pointwise kernel packed for %d channels, got %d", l.packed[0].K, mid)
			}
		} else if err := wantWeight(c.w, 1, mid*l.filters, "pointwise_kernel"); err != nil {
			return err
		}
		inLen, mLen := w.InLen()*ch, w.OutLen()*mid
		// The depthwise stage goes through the scratch one chunk of
		// samples at a time, each chunk then multiplied pointwise.
		inChunks(n, mLen, func(s []float32, b0, m int) {
			for b := 0; b < m; b++ {
				kernel.DepthwiseConv(s[b*mLen:(b+1)*mLen], x.Data[(b0+b)*inLen:(b0+b+1)*inLen], c.w[0].Data, &w, ch, l.depthMultiplier)
			}
			rows := m * w.OutLen()
			dst := out.Data[b0*w.OutLen()*l.filters:]
			if l.packed != nil {
				kernel.MulPacked(dst, l.filters, s[:rows*mid], mid, rows, l.packed[0], false, l.epi)
				return
			}
			kernel.MatMul(dst, s[:rows*mid], c.w[1].Data, rows, mid, l.filters, false)
		})
		bias = 2
	}
	if l.useBias {
		if err := wantWeight(c.w, bias, outCh, "bias"); err != nil {
			return err
		}
	}
	if l.channelsFirst && !c.net.legacy && out.Shape[len(out.Shape)-2] == outCh {
		// Keras 3's TensorFlow backend adds a bias reshaped to
		// (1, channels, 1, ...) with tf.nn.bias_add, and picks NHWC
		// whenever the last axis has the channels' length
		// (keras/src/backend/tensorflow/numpy.py add): a channels_first
		// output whose last spatial length equals its channel count gets
		// the bias along that spatial axis. Files are TensorFlow-made
		// unless they say otherwise, so match it.
		out = toChannelsFirst(out, true)
		if l.useBias {
			kernel.AddBias(out.Data, c.w[bias].Data)
		}
	} else {
		if l.useBias {
			kernel.AddBias(out.Data, c.w[bias].Data)
		}
		out = toChannelsFirst(out, l.channelsFirst)
	}
	if err := c.activate(l.activation, out); err != nil {
		return err
	}
	c.out = []*Tensor{out}
	return nil
}

// convolve sets out (n × OutLen × filters) to the convolution of x
// (n × InLen × channels) with k (KLen × channels/groups × filters), or
// with the same kernel packed, one matrix per group, when packed is set
// (pack.go), and then with epi applied.
func convolve(out, x, k []float32, packed []*kernel.Packed, epi kernel.Epilogue, n int, w *kernel.ConvWindow, channels, filters, groups int) {
	pIn, pOut, kl := w.InLen(), w.OutLen(), w.KLen()
	if groups == 1 && kl == 1 && pIn == pOut && w.Stride == [3]int{1, 1, 1} && w.Pad == [3]int{} {
		// A 1×1 convolution is a product with the input as it is.
		if packed != nil {
			kernel.MulPacked(out, filters, x, channels, n*pOut, packed[0], false, epi)
			return
		}
		kernel.MatMul(out, x, k, n*pOut, channels, filters, false)
		return
	}
	if packed != nil && groups == 1 && kernel.DirectConv(w, channels, packed[0]) {
		// Windows read in the input, no patch matrix: by rows of
		// output positions, split over spare CPUs.
		rows, per := w.Out[1], w.Out[2]*kl*channels*filters
		kernel.Parallel(n*rows, max(1, packedConvMACs/max(1, per)), func(lo, hi int) {
			sp := getScratch(w.Out[2] * kl * channels)
			defer putScratch(sp)
			for r := lo; r < hi; {
				b := r / rows
				end := min(hi, (b+1)*rows)
				kernel.ConvDirectRows(out[b*pOut*filters:(b+1)*pOut*filters], x[b*pIn*channels:(b+1)*pIn*channels], w, channels,
					packed[0], epi, r-b*rows, end-b*rows, *sp)
				r = end
			}
		})
		return
	}
	cg, fg := channels/groups, filters/groups
	row := kl * cg
	if rows := n * pOut; packed != nil && groups == 1 && rows <= smallConvRows && rows*row <= maxScratch {
		// Few rows (one sample's 7×7 map): the patch matrix whole, then
		// one product, which splits by panels of filters. Split by
		// rows, ResNet50's last 3×3 layers ran as parts of 25 and 24
		// rows, the first a whole tile slower.
		sp := getScratch(rows * row)
		defer putScratch(sp)
		s := *sp
		kernel.Parallel(rows, max(1, maxScratch/8/row), func(lo, hi int) {
			kernel.Im2ColRows(s[lo*row:hi*row], x, w, channels, 0, channels, lo, hi)
		})
		kernel.MulPacked(out, filters, s, row, rows, packed[0], false, epi)
		return
	}
	// The patch matrix of the whole batch (n·OutLen rows) is built and
	// multiplied one block of rows at a time, each block at most
	// maxScratch values so that it stays in cache between im2col and the
	// product. The blocks split over spare CPUs, im2col included, when
	// each part has enough work.
	rows := n * pOut
	block := max(1, maxScratch/row)
	grain := max(1, parallelConvMACs/max(1, row*filters))
	if packed != nil {
		grain = max(1, packedConvMACs/max(1, row*filters))
	}
	kernel.Parallel(rows, grain, func(lo, hi int) {
		sp := getScratch(min(block, hi-lo) * row)
		defer putScratch(sp)
		for r0 := lo; r0 < hi; r0 += block {
			r1 := min(hi, r0+block)
			s := (*sp)[:(r1-r0)*row]
			for g := 0; g < groups; g++ {
				kernel.Im2ColRows(s, x, w, channels, g*cg, cg, r0, r1)
				if packed != nil {
					kernel.MulPacked(out[r0*filters+g*fg:], filters, s, row, r1-r0, packed[g], false, epi.Cols(g*fg, fg))
					continue
				}
				kernel.Gemm(false, false, r1-r0, fg, row, s, row, k[g*fg:], filters, out[r0*filters+g*fg:], filters, false)
			}
		}
	})
}

// smallConvRows is the most output positions of a convolution whose
// patch matrix is built whole before its product: fewer than the rows
// from which MulPacked splits by rows (kernel.RowSplitGroups groups of
// six).
const smallConvRows = 6*kernel.RowSplitGroups - 1

// parallelConvMACs is the least work (multiply-adds) of one part of a
// convolution split over CPUs: the part's product must stay large enough
// for BLAS to run near its peak.
const parallelConvMACs = 1 << 22

// packedConvMACs is parallelConvMACs for a kernel packed at load, whose
// parts pack nothing again: a quarter of it.
const packedConvMACs = 1 << 20

// depthwise sets out (n × OutLen × channels·mult) to the depthwise
// convolution of x (n × InLen × channels) with k, then applies epi,
// split by rows of output positions over spare CPUs when there is enough
// work.
func depthwise(out, x, k []float32, n int, w *kernel.ConvWindow, channels, mult int, epi kernel.Epilogue) {
	rows := w.Out[0] * w.Out[1]
	inLen, oLen := w.InLen()*channels, w.OutLen()*channels*mult
	perRow := max(1, w.Out[2]*w.KLen()*channels*mult)
	kernel.Parallel(n*rows, max(1, minParallelMACs/perRow), func(lo, hi int) {
		for r := lo; r < hi; {
			b := r / rows
			end := min(hi, (b+1)*rows)
			kernel.DepthwiseConvRows(out[b*oLen:(b+1)*oLen], x[b*inLen:(b+1)*inLen], k, w, channels, mult, r-b*rows, end-b*rows, epi)
			r = end
		}
	})
}

// minParallelMACs is the least work (multiply-adds) of one part of a loop
// split over CPUs outside BLAS: a few microseconds of a depthwise layer,
// against well under one to hand a part to a spinning helper
// (kernel.Parallel).
const minParallelMACs = 1 << 15

// convolveTranspose sets out (n × w.InLen × filters) to the transposed
// convolution of x (n × w.OutLen × channels) with k (KLen × filters ×
// channels).
func convolveTranspose(out, x, k []float32, n int, w *kernel.ConvWindow, channels, filters int) {
	pIn, pOut, kl := w.OutLen(), w.InLen(), w.KLen()
	per := pIn * kl * filters
	inChunks(n, per, func(s []float32, b0, m int) {
		kernel.MatMulTransB(s, x[b0*pIn*channels:(b0+m)*pIn*channels], k, m*pIn, channels, kl*filters, false)
		for b := 0; b < m; b++ {
			kernel.Col2Im(out[(b0+b)*pOut*filters:(b0+b+1)*pOut*filters], s[b*per:(b+1)*per], w, filters)
		}
	})
}
