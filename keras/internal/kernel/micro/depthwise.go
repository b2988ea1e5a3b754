package micro

// Depthwise3x3 sets, for each of count output positions q, the first n
// channels of d[q·channels:] to the depthwise 3×3 convolution at q:
//
//	Σ_{r<3, j<3} rows[r][(q·stride + j)·channels + c] · k[(3r+j)·channels + c]
//
// the nine products added in that order by fused multiply-adds from +0,
// then e applied (nil: nothing; its Bias indexed by channel). rows are
// the three rows of the window, from the first position's first column;
// stride counts the positions from one window to the next. n is a
// multiple of 8, at most channels.
//
// It reports false, doing nothing, where it has no assembly (CPUs without
// AVX-512): the caller's own loop then gives the same bits. It panics if
// a slice is too short for its shape: the assembly reads and writes
// through raw pointers.
func Depthwise3x3(d []float32, rows [3][]float32, k []float32, count, stride, channels, n int, e *Epilogue) bool {
	if n <= 0 || count <= 0 {
		return true
	}
	if n%8 != 0 || n > channels || stride <= 0 {
		panic("micro: depthwise 3×3 shape")
	}
	span := (count-1)*stride*channels + 2*channels + n
	if len(d) < (count-1)*channels+n || len(k) < 8*channels+n || e != nil && e.Bias != nil && len(e.Bias) < n {
		panic("micro: depthwise 3×3 out of range")
	}
	for _, r := range rows {
		if len(r) < span {
			panic("micro: depthwise 3×3 tap out of range")
		}
	}
	return depthwise3x3(d, rows, k, count, stride, channels, n, e)
}

// Depthwise5x5 is Depthwise3x3 with a 5×5 window: rows are its five
// rows, k holds 25 taps, and each sum adds its products in the order of
// the rows, then the columns (package kernel's tapsVec's order).
func Depthwise5x5(d []float32, rows [5][]float32, k []float32, count, stride, channels, n int, e *Epilogue) bool {
	if n <= 0 || count <= 0 {
		return true
	}
	if n%8 != 0 || n > channels || stride <= 0 {
		panic("micro: depthwise 5×5 shape")
	}
	span := (count-1)*stride*channels + 4*channels + n
	if len(d) < (count-1)*channels+n || len(k) < 24*channels+n || e != nil && e.Bias != nil && len(e.Bias) < n {
		panic("micro: depthwise 5×5 out of range")
	}
	for _, r := range rows {
		if len(r) < span {
			panic("micro: depthwise 5×5 tap out of range")
		}
	}
	return depthwise5x5(d, rows, k, count, stride, channels, n, e)
}
