package kernel

// Convolution windows over channels-last data. A convolution of any rank
// up to 3 is described by a ConvWindow with the unused leading spatial axes of
// size 1, so one set of loops serves Conv1D, Conv2D and Conv3D. A sample is
// stored as (In[0], In[1], In[2], channels), row-major.
//
// Im2Col copies each output position's receptive field into one row of a
// patch matrix, channels innermost, so a convolution is that matrix times
// the kernel viewed as (window·channels, filters): Keras's kernel layout
// (*k, in, filters) is already that matrix, row-major. Col2Im is its
// adjoint, which makes a transposed convolution a product followed by a
// scatter-add.

// A ConvWindow is the geometry of a convolution over one sample.
type ConvWindow struct {
	In     [3]int // input spatial lengths
	Out    [3]int // output spatial lengths
	K      [3]int // kernel lengths
	Stride [3]int
	Dil    [3]int
	Pad    [3]int // zero padding before each axis (after is implied by Out)
}

// InLen returns the number of input positions.
func (w *ConvWindow) InLen() int { return w.In[0] * w.In[1] * w.In[2] }

// OutLen returns the number of output positions.
func (w *ConvWindow) OutLen() int { return w.Out[0] * w.Out[1] * w.Out[2] }

// KLen returns the number of kernel offsets.
func (w *ConvWindow) KLen() int { return w.K[0] * w.K[1] * w.K[2] }

// source returns the input position that kernel offset (k0, k1, k2) of
// output position (o0, o1, o2) reads, or -1 when it falls in the padding.
func (w *ConvWindow) source(o0, o1, o2, k0, k1, k2 int) int {
	i0 := o0*w.Stride[0] - w.Pad[0] + k0*w.Dil[0]
	i1 := o1*w.Stride[1] - w.Pad[1] + k1*w.Dil[1]
	i2 := o2*w.Stride[2] - w.Pad[2] + k2*w.Dil[2]
	if uint(i0) >= uint(w.In[0]) || uint(i1) >= uint(w.In[1]) || uint(i2) >= uint(w.In[2]) {
		return -1
	}
	return (i0*w.In[1]+i1)*w.In[2] + i2
}

// Im2Col fills dst (OutLen × KLen·cn) with the patches of one sample x
// (InLen × channels), taking channels [c0, c0+cn) of each position; taps
// in the padding are zero.
func Im2Col(dst, x []float32, w *ConvWindow, channels, c0, cn int) {
	Im2ColRows(dst, x, w, channels, c0, cn, 0, w.OutLen())
}

// Im2ColRows fills dst ((r1-r0) × KLen·cn) with rows [r0, r1) of the patch
// matrix of a batch x (n × InLen × channels), row b·OutLen + p being
// output position p of sample b: a block of rows for one product, which
// may span samples.
//
// A position whose whole window lies inside the input, all channels
// taken and no dilation (every position of a "valid" convolution, the
// interior of a "same" one), is K[0]·K[1] runs of K[2]·channels
// contiguous values at fixed distances from its first: those are copied
// in one loop, with no per-tap bounds checks (the MNIST CNN's first
// layer, 9 values a row, spent most of its im2col time getting to them).
func Im2ColRows(dst, x []float32, w *ConvWindow, channels, c0, cn, r0, r1 int) {
	row := w.KLen() * cn
	pOut, inLen := w.OutLen(), w.InLen()*channels
	var rel [maxRuns]int // offsets of the runs from the window's first value
	runs, k2 := w.K[0]*w.K[1], w.K[2]*channels
	fast := cn == channels && w.Dil == [3]int{1, 1, 1} && runs <= maxRuns
	if fast {
		for k0 := 0; k0 < w.K[0]; k0++ {
			for k1 := 0; k1 < w.K[1]; k1++ {
				rel[k0*w.K[1]+k1] = (k0*w.In[1] + k1) * w.In[2] * channels
			}
		}
	}
	b, p := r0/pOut, r0%pOut
	o0, o1, o2 := p/(w.Out[1]*w.Out[2]), p/w.Out[2]%w.Out[1], p%w.Out[2]
	for r := r0; r < r1; r++ {
		d := dst[(r-r0)*row : (r-r0+1)*row]
		xb := x[b*inLen : (b+1)*inLen]
		i0, i1, i2 := o0*w.Stride[0]-w.Pad[0], o1*w.Stride[1]-w.Pad[1], o2*w.Stride[2]-w.Pad[2]
		if fast && i0 >= 0 && i0+w.K[0] <= w.In[0] && i1 >= 0 && i1+w.K[1] <= w.In[1] && i2 >= 0 && i2+w.K[2] <= w.In[2] {
			first := ((i0*w.In[1]+i1)*w.In[2] + i2) * channels
			for j, off := range rel[:runs] {
				src, dj := xb[first+off:first+off+k2], d[j*k2:(j+1)*k2]
				if k2 <= 16 {
					// A few values: a loop, where copy's call to
					// memmove costs more than the copy.
					for t, v := range src {
						dj[t] = v
					}
				} else {
					copy(dj, src)
				}
			}
		} else {
			im2colPos(d, xb, w, channels, c0, cn, o0, o1, o2)
		}
		// The next position, in order.
		if o2++; o2 == w.Out[2] {
			o2 = 0
			if o1++; o1 == w.Out[1] {
				o1 = 0
				if o0++; o0 == w.Out[0] {
					o0 = 0
					b++
				}
			}
		}
	}
}

// maxRuns is the most runs of a window Im2ColRows's fast path keeps (on
// the stack): up to 8×8 windows.
const maxRuns = 64

// im2colPos fills d (KLen·cn) with the patch of output position
// (o0, o1, o2).
func im2colPos(d, x []float32, w *ConvWindow, channels, c0, cn, o0, o1, o2 int) {
	k12 := w.K[1] * w.K[2] * cn // one k0 slab of a row
	k2 := w.K[2] * cn           // one k1 slab
	// The bounds of each axis are checked once per slab, so the innermost
	// loop only copies.
	for k0 := 0; k0 < w.K[0]; k0++ {
		d0 := d[k0*k12 : (k0+1)*k12]
		i0 := o0*w.Stride[0] - w.Pad[0] + k0*w.Dil[0]
		if uint(i0) >= uint(w.In[0]) {
			clear(d0)
			continue
		}
		for k1 := 0; k1 < w.K[1]; k1++ {
			d1 := d0[k1*k2 : (k1+1)*k2]
			i1 := o1*w.Stride[1] - w.Pad[1] + k1*w.Dil[1]
			if uint(i1) >= uint(w.In[1]) {
				clear(d1)
				continue
			}
			base := (i0*w.In[1] + i1) * w.In[2]
			i2 := o2*w.Stride[2] - w.Pad[2]
			// All channels of consecutive in-bounds taps are one
			// contiguous run of x: one copy.
			if cn == channels && w.Dil[2] == 1 && i2 >= 0 && i2+w.K[2] <= w.In[2] {
				s := (base + i2) * channels
				if k2 <= 16 {
					// A few values (one input channel): a loop, where
					// copy's call to memmove costs more than the copy.
					for j, v := range x[s : s+k2] {
						d1[j] = v
					}
					continue
				}
				copy(d1, x[s:s+k2])
				continue
			}
			if cn == 1 {
				for k := range d1 {
					if uint(i2) < uint(w.In[2]) {
						d1[k] = x[(base+i2)*channels+c0]
					} else {
						d1[k] = 0
					}
					i2 += w.Dil[2]
				}
				continue
			}
			for j := 0; j < k2; j += cn {
				dj := d1[j : j+cn]
				if uint(i2) < uint(w.In[2]) {
					s := (base+i2)*channels + c0
					copy(dj, x[s:s+cn])
				} else {
					clear(dj)
				}
				i2 += w.Dil[2]
			}
		}
	}
}

// Col2Im adds the columns col (OutLen × KLen·cn) back onto the input
// positions they were taken from, into dst (InLen × cn): the adjoint of
// Im2Col with c0 = 0 and cn = channels. Taps in the padding are dropped.
func Col2Im(dst, col []float32, w *ConvWindow, cn int) {
	row := w.KLen() * cn
	p := 0
	for o0 := 0; o0 < w.Out[0]; o0++ {
		for o1 := 0; o1 < w.Out[1]; o1++ {
			for o2 := 0; o2 < w.Out[2]; o2++ {
				c := col[p*row : (p+1)*row]
				j := 0
				for k0 := 0; k0 < w.K[0]; k0++ {
					for k1 := 0; k1 < w.K[1]; k1++ {
						for k2 := 0; k2 < w.K[2]; k2++ {
							if s := w.source(o0, o1, o2, k0, k1, k2); s >= 0 {
								d := dst[s*cn : (s+1)*cn]
								for i, v := range c[j : j+cn] {
									d[i] += v
								}
							}
							j += cn
						}
					}
				}
				p++
			}
		}
	}
}

// TransposeInner sets dst (n × b × a) to the batched transpose of src
// (n × a × b): how channels_first data becomes channels-last and back.
func TransposeInner(dst, src []float32, n, a, b int) {
	for s := 0; s < n; s++ {
		in := src[s*a*b : (s+1)*a*b]
		out := dst[s*a*b : (s+1)*a*b]
		for i := 0; i < a; i++ {
			row := in[i*b : (i+1)*b]
			for j, v := range row {
				out[j*a+i] = v
			}
		}
	}
}
