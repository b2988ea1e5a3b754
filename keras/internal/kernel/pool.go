package kernel

import (
	"math"
	"sync"
)

// Pooling over channels-last tensors (batch, d, h, w, channels); 1-D and
// 2-D pooling use the same kernels with the missing spatial lengths 1.

// A PoolWindow is the geometry of a pooling: per spatial axis the input and
// output lengths, the window size, the stride, and the padding before
// the first cell (TensorFlow's SAME padding puts the smaller half there).
type PoolWindow struct {
	In, Out, Size, Stride, Pad [3]int
	// ZeroPad makes the padded cells zeros that take part in the
	// maximum (a ZeroPadding layer folded into a max pooling): a window
	// over them is the one over the padded input. MaxPool only.
	ZeroPad bool
}

// span returns the window of output position o along axis a, clipped to
// the input: padded cells take no part, as in TensorFlow's max and
// average pooling.
func (w *PoolWindow) span(a, o int) (lo, hi int) {
	lo = o*w.Stride[a] - w.Pad[a]
	hi = lo + w.Size[a]
	return max(lo, 0), min(hi, w.In[a])
}

// whole returns how many windows along the last axis, from window ow on,
// lie wholly inside the input.
func (w *PoolWindow) whole(ow int) int {
	k := 0
	for o := ow; o < w.Out[2]; o++ {
		lo, hi := w.span(2, o)
		if hi-lo != w.Size[2] {
			break
		}
		k++
	}
	return k
}

// MaxPool sets dst (batch, Out..., ch) to the maximum of each window of
// src (batch, In..., ch). A window with no input cell gives -Inf.
func MaxPool(dst, src []float32, batch, ch int, w *PoolWindow) {
	pool(dst, src, batch, ch, w, true)
}

// AvgPool sets dst to the mean of each window, over the input cells it
// covers (padding is not counted, as in TensorFlow's avg_pool).
func AvgPool(dst, src []float32, batch, ch int, w *PoolWindow) {
	pool(dst, src, batch, ch, w, false)
}

func pool(dst, src []float32, batch, ch int, w *PoolWindow, isMax bool) {
	inH, inW := w.In[1], w.In[2]
	inPlane := w.In[0] * inH * inW * ch
	outPlane := w.Out[0] * w.Out[1] * w.Out[2] * ch
	var cells [16]int // a window's cell offsets, for windows up to 4×4
	// A window wholly inside the input (every window of a "valid" pooling)
	// has its cells at fixed distances from its first: rel, made once.
	var rel [16]int
	nrel := w.Size[0] * w.Size[1] * w.Size[2]
	if nrel <= len(rel) {
		k := 0
		for d := 0; d < w.Size[0]; d++ {
			for h := 0; h < w.Size[1]; h++ {
				for x := 0; x < w.Size[2]; x++ {
					rel[k] = ((d*inH+h)*inW + x) * ch
					k++
				}
			}
		}
	}
	for b := 0; b < batch; b++ {
		in := src[b*inPlane : (b+1)*inPlane]
		o := b * outPlane
		for od := 0; od < w.Out[0]; od++ {
			d0, d1 := w.span(0, od)
			for oh := 0; oh < w.Out[1]; oh++ {
				h0, h1 := w.span(1, oh)
				for ow := 0; ow < w.Out[2]; ow++ {
					w0, w1 := w.span(2, ow)
					out := dst[o : o+ch]
					o += ch
					if isMax && (d1-d0)*(h1-h0)*(w1-w0) == nrel && nrel <= len(rel) {
						// The windows from here to the row's end that are
						// wholly inside the input, in one call where the
						// vector loop takes them (MNIST's 2×2 pools spent
						// a tenth of a batch in a call per window).
						first := ((d0*inH+h0)*inW + w0) * ch
						if k := maxWindowsVec(dst[o-ch:], in[first:], rel[:nrel], w.whole(ow), w.Stride[2]*ch, ch); k > 0 {
							o += (k - 1) * ch
							ow += k - 1
							continue
						}
						maxCells(out, in[first:], rel[:nrel])
						continue
					}
					if isMax && w.ZeroPad {
						zeroPadMax(out, in, w, od, oh, ow, inH, inW, ch)
						continue
					}
					if isMax && (d1-d0)*(h1-h0)*(w1-w0) > 0 && (d1-d0)*(h1-h0)*(w1-w0) <= len(cells) {
						// The whole window at once: one store per
						// vector of channels, not one per cell.
						k := 0
						for d := d0; d < d1; d++ {
							for h := h0; h < h1; h++ {
								for x := w0; x < w1; x++ {
									cells[k] = ((d*inH+h)*inW + x) * ch
									k++
								}
							}
						}
						maxCells(out, in, cells[:k])
						continue
					}
					first := true
					for d := d0; d < d1; d++ {
						for h := h0; h < h1; h++ {
							s := ((d*inH+h)*inW + w0) * ch
							for x := w0; x < w1; x, s = x+1, s+ch {
								cell := in[s : s+ch]
								switch {
								case first:
									copy(out, cell)
									first = false
								case isMax:
									maxInto(out, cell)
								default:
									AddInto(out, cell)
								}
							}
						}
					}
					n := (d1 - d0) * (h1 - h0) * (w1 - w0)
					switch {
					case first && isMax:
						fill(out, float32(math.Inf(-1)))
					case first:
						fill(out, float32(math.NaN()))
					case !isMax && n > 1:
						inv := float32(n)
						for c := range out {
							out[c] /= inv
						}
					}
				}
			}
		}
	}
}

// maxInto sets d[i] to s[i] where s[i] > d[i], over len(d) values: a
// NaN in s never replaces d[i] (TensorFlow's max pooling keeps the
// running maximum the same way).
func maxInto(d, s []float32) {
	s = s[:len(d)]
	for i := maxVec(d, s); i < len(d); i++ {
		if s[i] > d[i] {
			d[i] = s[i]
		}
	}
}

// maxCells sets out (len ch) to the maximum, channel by channel, of the
// cells of in starting at the given offsets (at least one), with
// maxInto's rule.
func maxCells(out, in []float32, cells []int) {
	ch := len(out)
	i := maxCellsVec(out, in, cells)
	if i == ch {
		return
	}
	copy(out[i:], in[cells[0]+i:cells[0]+ch])
	for _, s := range cells[1:] {
		maxInto(out[i:], in[s+i:s+ch])
	}
}

// zeroPadMax sets out to the maximum over window (od, oh, ow), its cells
// in order with the padded ones as zeros: the cells of the same window
// over the zero-padded input, compared with maxInto's rule in the order
// maxCells compares them, so the same bits.
func zeroPadMax(out, in []float32, w *PoolWindow, od, oh, ow, inH, inW, ch int) {
	first := true
	for d := od*w.Stride[0] - w.Pad[0]; d < od*w.Stride[0]-w.Pad[0]+w.Size[0]; d++ {
		for h := oh*w.Stride[1] - w.Pad[1]; h < oh*w.Stride[1]-w.Pad[1]+w.Size[1]; h++ {
			for x := ow*w.Stride[2] - w.Pad[2]; x < ow*w.Stride[2]-w.Pad[2]+w.Size[2]; x++ {
				inside := uint(d) < uint(w.In[0]) && uint(h) < uint(inH) && uint(x) < uint(inW)
				switch {
				case first && inside:
					s := ((d*inH+h)*inW + x) * ch
					copy(out, in[s:s+ch])
				case first:
					clear(out)
				case inside:
					s := ((d*inH+h)*inW + x) * ch
					maxInto(out, in[s:s+ch])
				default:
					maxZero(out)
				}
				first = false
			}
		}
	}
}

// maxZero is maxInto with a cell of zeros: a value below zero becomes +0,
// a NaN stays.
func maxZero(d []float32) {
	for i, v := range d {
		if 0 > v {
			d[i] = 0
		}
	}
}

func fill(x []float32, v float32) {
	for i := range x {
		x[i] = v
	}
}

// parallelSumValues is the least number of values one part of
// GlobalAvg's split sums.
const parallelSumValues = 1 << 15

// meanPositions sets out[c] to the mean over the n positions of in (rows
// of stride ch) of channel c, for the len(out) first channels, a multiple
// of 16 (sumPositionsVec's). The positions split over the CPUs in ranges
// (the squeeze of a squeeze-and-excite block, over a large activation),
// each part summing every channel into its own float64 sums, which are
// then added in the parts' order: the ranges are those of the layer
// before, which split by rows too, so each core reads what it wrote, in
// its own cache (split by blocks of 64 channels, EfficientNetB0's first
// squeeze, of 32 channels, ran on one core).
func meanPositions(out, in []float32, n, ch int) {
	c0 := len(out)
	if c0 == 0 {
		return
	}
	parts := max(1, min(maxParts, n, n*c0/parallelSumValues))
	bp := sumsPool.Get().(*[]float64)
	defer sumsPool.Put(bp)
	if cap(*bp) < parts*c0 {
		*bp = make([]float64, parts*c0)
	}
	sums := (*bp)[:parts*c0]
	Parallel(parts, 1, func(lo, hi int) {
		for p := lo; p < hi; p++ {
			t0, t1 := p*n/parts, (p+1)*n/parts
			sumPositionsVec(sums[p*c0:(p+1)*c0], in[t0*ch:], t1-t0, ch)
		}
	})
	for c := range out {
		s := sums[c]
		for p := 1; p < parts; p++ {
			s += sums[p*c0+c]
		}
		out[c] = float32(s / float64(n))
	}
}

// sumsPool holds meanPositions's sums, which the parts share (on the
// caller's stack they would escape: garbage on every pooling).
var sumsPool = sync.Pool{New: func() any { return new([]float64) }}

// GlobalMax sets dst (batch, ch) to the maximum over the n positions of
// src (batch, n, ch).
func GlobalMax(dst, src []float32, batch, n, ch int) {
	for b := 0; b < batch; b++ {
		out := dst[b*ch : (b+1)*ch]
		if n == 0 {
			fill(out, float32(math.Inf(-1)))
			continue
		}
		in := src[b*n*ch : (b+1)*n*ch]
		copy(out, in[:ch])
		for p := ch; p < len(in); p += ch {
			maxInto(out, in[p:p+ch])
		}
	}
}

// GlobalAvg sets dst (batch, ch) to the mean over the n positions of src
// (batch, n, ch), of those whose mask entry (batch, n) is set when mask is
// not nil: Keras's masked mean, sum(x·mask) / sum(mask), NaN when every
// position is masked. acc is scratch of ch elements; sums are kept in
// float64 so that long axes lose nothing to rounding.
func GlobalAvg(dst, src []float32, mask []bool, batch, n, ch int, acc []float64) {
	acc = acc[:ch]
	for b := 0; b < batch; b++ {
		clear(acc)
		in := src[b*n*ch : (b+1)*n*ch]
		out := dst[b*ch : (b+1)*ch]
		count := 0
		c0 := 0
		if mask == nil {
			count = n
			if SIMD != "" {
				c0 = ch &^ 15
				meanPositions(out[:c0], in, n, ch)
			}
		}
		for t := 0; t < n; t++ {
			if mask != nil && !mask[b*n+t] {
				continue
			}
			if mask != nil {
				count++
			}
			for c, v := range in[t*ch+c0 : (t+1)*ch] {
				acc[c0+c] += float64(v)
			}
		}
		for c := c0; c < ch; c++ {
			out[c] = float32(acc[c] / float64(count))
		}
	}
}
