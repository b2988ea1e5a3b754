package kernel

// DepthwiseConv sets dst (OutLen × channels·mult) to the depthwise
// convolution of one sample x (InLen × channels) with kernel k
// (KLen × channels × mult): output channel c·mult+m sees only input
// channel c.
func DepthwiseConv(dst, x, k []float32, w *ConvWindow, channels, mult int) {
	DepthwiseConvRows(dst, x, k, w, channels, mult, 0, w.Out[0]*w.Out[1], Epilogue{})
}

// DepthwiseConvRows computes the output rows [r0, r1) of DepthwiseConv, a
// row being one (o0, o1) pair of output positions along the first two
// spatial axes (Out[2] positions), so that parts of one sample can run on
// different CPUs.
//
// The loop runs directly on the input, without a patch matrix. For each
// output position it lists the kernel taps that fall inside the input
// once (their offsets in x and k; the valid range of each axis is found
// once per row), then adds them up. With a depth multiplier of 1 the sum
// runs channel vector by channel vector in registers and each output
// vector is stored once (tapsVec), where adding tap by tap reads and
// writes the output row once per tap; the taps are added in the same
// order either way, so the results are the same. The positions of a row
// whose taps all fall inside the input share one list. The 3×3 and 5×5
// kernels of MobileNet and EfficientNet have a loop of their own
// (depthwiseRows). Then epi is applied to the rows (its Bias indexed
// by output channel).
func DepthwiseConvRows(dst, x, k []float32, w *ConvWindow, channels, mult, r0, r1 int, epi Epilogue) {
	if windowRows(w, mult) != 0 {
		depthwiseRows(dst, x, k, w, channels, r0, r1, epi)
		return
	}
	defer epi.Apply(dst[r0*w.Out[2]*channels*mult : r1*w.Out[2]*channels*mult])
	cm := channels * mult
	var xoBuf, koBuf [maxTaps]int
	xo, ko := xoBuf[:], koBuf[:]
	if kl := w.KLen(); kl > maxTaps {
		// Kernels larger than any Keras application's: the lists
		// leave the stack.
		xo, ko = make([]int, kl), make([]int, kl)
	}
	// Along the last axis, the positions [in0, in1) have all their taps
	// inside the input: with a depth multiplier of 1 they run as one
	// call of tapsVec, their tap lists those of the first shifted.
	in0, in1 := interior(w.Out[2], w.In[2], w.K[2], w.Stride[2], w.Dil[2], w.Pad[2])
	for r := r0; r < r1; r++ {
		o0, o1 := r/w.Out[1], r%w.Out[1]
		k0lo, k0hi := tapRange(o0, w.In[0], w.K[0], w.Stride[0], w.Dil[0], w.Pad[0])
		k1lo, k1hi := tapRange(o1, w.In[1], w.K[1], w.Stride[1], w.Dil[1], w.Pad[1])
		for o2 := 0; o2 < w.Out[2]; o2++ {
			p := r*w.Out[2] + o2
			k2lo, k2hi := tapRange(o2, w.In[2], w.K[2], w.Stride[2], w.Dil[2], w.Pad[2])
			n := 0
			for k0 := k0lo; k0 < k0hi; k0++ {
				i0 := o0*w.Stride[0] - w.Pad[0] + k0*w.Dil[0]
				for k1 := k1lo; k1 < k1hi; k1++ {
					i1 := o1*w.Stride[1] - w.Pad[1] + k1*w.Dil[1]
					base := (i0*w.In[1] + i1) * w.In[2]
					t0 := (k0*w.K[1] + k1) * w.K[2]
					for k2 := k2lo; k2 < k2hi; k2++ {
						xo[n] = (base + o2*w.Stride[2] - w.Pad[2] + k2*w.Dil[2]) * channels
						ko[n] = (t0 + k2) * cm
						n++
					}
				}
			}
			if mult == 1 {
				count := 1
				if o2 == in0 && in1-in0 > 1 {
					count = in1 - in0
				}
				d := dst[p*cm : (p+count)*cm]
				i := tapsVec(d, x, k, xo[:n], ko[:n], count, w.Stride[2]*channels, cm)
				for q := 0; q < count && i < channels; q++ {
					dq := d[q*cm : (q+1)*cm]
					clear(dq[i:])
					for t := range n {
						xt := xo[t] + q*w.Stride[2]*channels
						mulAdd(dq[i:], x[xt+i:xt+channels], k[ko[t]+i:ko[t]+channels])
					}
				}
				o2 += count - 1
				continue
			}
			d := dst[p*cm : (p+1)*cm]
			clear(d)
			for t := range n {
				ks := k[ko[t] : ko[t]+cm]
				for c, v := range x[xo[t] : xo[t]+channels] {
					dc := d[c*mult : (c+1)*mult]
					for m, kv := range ks[c*mult : (c+1)*mult] {
						dc[m] += v * kv
					}
				}
			}
		}
	}
}

// interior returns the output positions [lo, hi) along an axis whose
// taps all read inside the input (of length n), as tapRange would find
// them.
func interior(out, n, k, stride, dil, pad int) (lo, hi int) {
	lo = (pad + stride - 1) / stride // first·stride - pad >= 0
	last := n - 1 - (k-1)*dil + pad  // o·stride <= last
	if last < 0 {
		return 0, 0
	}
	hi = min(out, last/stride+1)
	if hi <= lo {
		return 0, 0
	}
	return lo, hi
}

// maxTaps is the most taps whose lists DepthwiseConvRows keeps on the
// stack: 7×7, the largest depthwise kernel of the Keras applications.
const maxTaps = 49

// tapRange returns the kernel taps [lo, hi) of output position o that read
// inside an input axis of length n.
func tapRange(o, n, k, stride, dil, pad int) (lo, hi int) {
	first := o*stride - pad // input index of tap 0
	lo, hi = 0, k
	for lo < k && first+lo*dil < 0 {
		lo++
	}
	for hi > lo && first+(hi-1)*dil >= n {
		hi--
	}
	return lo, hi
}

// mulAdd sets d[i] += a[i]·b[i] over len(d) values.
func mulAdd(d, a, b []float32) {
	n := len(d)
	a, b = a[:n], b[:n]
	i := mulAddVec(d, a, b)
	for ; i+8 <= n; i += 8 {
		dd, aa, bb := d[i:i+8:i+8], a[i:i+8:i+8], b[i:i+8:i+8]
		dd[0] += aa[0] * bb[0]
		dd[1] += aa[1] * bb[1]
		dd[2] += aa[2] * bb[2]
		dd[3] += aa[3] * bb[3]
		dd[4] += aa[4] * bb[4]
		dd[5] += aa[5] * bb[5]
		dd[6] += aa[6] * bb[6]
		dd[7] += aa[7] * bb[7]
	}
	for ; i < n; i++ {
		d[i] += a[i] * b[i]
	}
}
