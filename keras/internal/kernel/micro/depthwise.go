package micro

import "fmt"

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
	checkDepthwise(d, rows[:], k, count, stride, channels, n, e)
	return depthwise3x3(d, rows, k, count, stride, channels, n, e)
}

// Depthwise5x5 is Depthwise3x3 with a 5×5 window: rows are its five
// rows, k holds 25 taps, and each sum adds its products in the order of
// the rows, then the columns (package kernel's tapsVec's order).
func Depthwise5x5(d []float32, rows [5][]float32, k []float32, count, stride, channels, n int, e *Epilogue) bool {
	if n <= 0 || count <= 0 {
		return true
	}
	checkDepthwise(d, rows[:], k, count, stride, channels, n, e)
	return depthwise5x5(d, rows, k, count, stride, channels, n, e)
}

// checkDepthwise panics unless the slices hold what a K×K window's sums
// read and write (K the rows' count): the assembly uses raw pointers.
func checkDepthwise(d []float32, rows [][]float32, k []float32, count, stride, channels, n int, e *Epilogue) {
	side := len(rows)
	if n%8 != 0 || n > channels || stride <= 0 {
		panic(fmt.Sprintf("micro: depthwise %d×%d on %d of %d channels, stride %d", side, side, n, channels, stride))
	}
	span := (count-1)*stride*channels + (side-1)*channels + n
	if len(d) < (count-1)*channels+n || len(k) < (side*side-1)*channels+n || e != nil && e.Bias != nil && len(e.Bias) < n {
		panic(fmt.Sprintf("micro: depthwise %d×%d out of range", side, side))
	}
	for _, r := range rows {
		if len(r) < span {
			panic(fmt.Sprintf("micro: depthwise %d×%d tap out of range", side, side))
		}
	}
}
