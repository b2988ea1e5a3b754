package kernel

// Data movement for the reshaping layers: copying a box between tensors
// of different shapes (padding, cropping) and nearest repetition
// (upsampling); Transpose is in layers.go. Shapes are row-major; every function works for
// any rank up to MaxRank, which the caller checks.

// MaxRank is the largest rank the layout kernels accept.
const MaxRank = 16

// CopyBox copies the box of extent size starting at srcOff in src (of
// shape srcShape) to the box starting at dstOff in dst (of shape
// dstShape). Every slice has the tensors' rank; the boxes must fit.
func CopyBox(dst []float32, dstShape, dstOff []int, src []float32, srcShape, srcOff, size []int) {
	r := len(size)
	if r == 0 {
		if len(src) > 0 && len(dst) > 0 {
			dst[0] = src[0]
		}
		return
	}
	for _, n := range size {
		if n == 0 {
			return
		}
	}
	var ds, ss [MaxRank]int
	a, b := 1, 1
	for i := r - 1; i >= 0; i-- {
		ds[i], ss[i] = a, b
		a *= dstShape[i]
		b *= srcShape[i]
	}
	d0, s0 := 0, 0
	for i := 0; i < r; i++ {
		d0 += dstOff[i] * ds[i]
		s0 += srcOff[i] * ss[i]
	}
	copyBox(dst, src, d0, s0, &ds, &ss, size, 0)
}

func copyBox(dst, src []float32, d, s int, ds, ss *[MaxRank]int, size []int, axis int) {
	n := size[axis]
	if axis == len(size)-1 {
		copy(dst[d:d+n], src[s:s+n])
		return
	}
	for i := 0; i < n; i++ {
		copyBox(dst, src, d+i*ds[axis], s+i*ss[axis], ds, ss, size, axis+1)
	}
}

// Repeat sets dst to src (of shape shape) with each element repeated
// reps[i] times along axis i, as numpy.repeat applied axis by axis: dst
// has shape shape[i]·reps[i].
func Repeat(dst, src []float32, shape, reps []int) {
	r := len(shape)
	if r == 0 {
		copy(dst, src)
		return
	}
	var ss, ds [MaxRank]int
	a, b := 1, 1
	for i := r - 1; i >= 0; i-- {
		ss[i], ds[i] = a, b
		a *= shape[i]
		b *= shape[i] * reps[i]
	}
	if a == 0 {
		return
	}
	repeat(dst, src, 0, 0, shape, reps, &ss, &ds, 0)
}

func repeat(dst, src []float32, d, s int, shape, reps []int, ss, ds *[MaxRank]int, axis int) {
	n, k := shape[axis], reps[axis]
	if axis == len(shape)-1 {
		if k == 1 {
			copy(dst[d:d+n], src[s:s+n])
			return
		}
		out := dst[d : d+n*k]
		for i, v := range src[s : s+n] {
			row := out[i*k : i*k+k]
			for j := range row {
				row[j] = v
			}
		}
		return
	}
	for i := 0; i < n; i++ {
		first := d + i*k*ds[axis]
		repeat(dst, src, first, s+i*ss[axis], shape, reps, ss, ds, axis+1)
		// The other k-1 copies along this axis repeat the block just
		// written.
		block := ds[axis]
		for j := 1; j < k; j++ {
			copy(dst[first+j*block:first+(j+1)*block], dst[first:first+block])
		}
	}
}
