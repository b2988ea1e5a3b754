//go:build !amd64 || purego

package micro

func kernel(groups, k int, a []float32, lda int, b []float32, c []float32, ldc int, add bool, e *Epilogue) {
	Go(groups, k, a, lda, b, c, ldc, add, e)
}

func kernelWide(groups, k int, a []float32, lda int, b []float32, bstride, cols int, c []float32, ldc int, add bool, e *Epilogue) {
	goWide(groups, k, a, lda, b, bstride, cols, c, ldc, add, e)
}

// Wide reports whether KernelWide is assembly: here it is not.
const Wide = false

// Fast reports whether Kernel is assembly: here it is not.
const Fast = false

// Name names the micro-kernel in use.
const Name = "Go"
