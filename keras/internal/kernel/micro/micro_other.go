//go:build !amd64 || purego

package micro

func kernel(groups, k int, a []float32, lda int, b []float32, c []float32, ldc int, add bool, e *Epilogue) {
	Go(groups, k, a, lda, b, c, ldc, add, e)
}

// Fast reports whether Kernel is assembly: here it is not.
const Fast = false

// Name names the micro-kernel in use.
const Name = "Go"
