//go:build !amd64 || purego

package micro

func kernel(groups, k int, a []float32, lda int, b []float32, c []float32, ldc int, add bool, e *Epilogue) {
	Go(groups, k, a, lda, b, c, ldc, add, e)
}

func kernelWide(groups, k int, a []float32, lda int, b []float32, bstride, cols int, c []float32, ldc int, add bool, e *Epilogue) {
	goWide(groups, k, a, lda, b, bstride, cols, c, ldc, add, e)
}

func kernelSegs(groups, k, segs, sstride int, a []float32, lda int, b []float32, bstride, cols int, c []float32, ldc int, add bool, e *Epilogue) {
	goSegs(groups, k, segs, sstride, a, lda, b, bstride, cols, c, ldc, add, e)
}

func row(k int, a, b []float32, pstride, panels int, c []float32, add bool) {
	goRow(k, a, b, pstride, panels, c, add)
}

// Wide reports whether KernelWide is assembly: here it is not.
const Wide = false

// ClearUpper clears the upper halves of the vector registers where it
// matters (micro_amd64.go): here there are none to clear.
func ClearUpper() {}

// Fast reports whether Kernel is assembly: here it is not.
const Fast = false

// Name names the micro-kernel in use.
const Name = "Go"

func depthwise3x3(d []float32, rows [3][]float32, k []float32, count, stride, channels, n int, e *Epilogue) bool {
	return false
}

func depthwise5x5(d []float32, rows [5][]float32, k []float32, count, stride, channels, n int, e *Epilogue) bool {
	return false
}
