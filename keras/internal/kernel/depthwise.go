package kernel

// DepthwiseConv sets dst (OutLen × channels·mult) to the depthwise
// convolution of one sample x (InLen × channels) with kernel k
// (KLen × channels × mult): output channel c·mult+m sees only input
// channel c.
func DepthwiseConv(dst, x, k []float32, w *ConvWindow, channels, mult int) {
	DepthwiseConvRows(dst, x, k, w, channels, mult, 0, w.Out[0]*w.Out[1])
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
// order either way, so the results are the same.
func DepthwiseConvRows(dst, x, k []float32, w *ConvWindow, channels, mult, r0, r1 int) {
	cm := channels * mult
	var xoBuf, koBuf [maxTaps]int
	xo, ko := xoBuf[:], koBuf[:]
	if kl := w.KLen(); kl > maxTaps {
		// Kernels larger than any Keras application's: the lists
		// leave the stack.
		xo, ko = make([]int, kl), make([]int, kl)
	}
	for r := r0; r < r1; r++ {
		o0, o1 := r/w.Out[1], r%w.Out[1]
		k0lo, k0hi := tapRange(o0, w.In[0], w.K[0], w.Stride[0], w.Dil[0], w.Pad[0])
		k1lo, k1hi := tapRange(o1, w.In[1], w.K[1], w.Stride[1], w.Dil[1], w.Pad[1])
		for o2 := 0; o2 < w.Out[2]; o2++ {
			p := r*w.Out[2] + o2
			d := dst[p*cm : (p+1)*cm]
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
				i := tapsVec(d, x, k, xo[:n], ko[:n])
				clear(d[i:])
				for t := range n {
					mulAdd(d[i:], x[xo[t]+i:xo[t]+channels], k[ko[t]+i:ko[t]+channels])
				}
				continue
			}
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
