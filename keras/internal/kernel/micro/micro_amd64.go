//go:build amd64 && !purego

package micro

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// haveFMA: the assembly needs AVX2 and FMA (Haswell and Zen onwards).
var haveFMA = cpu.X86.HasAVX2 && cpu.X86.HasFMA

//go:noescape
func kernel6x16(k int, a *float32, lda int, b *float32, c *float32, ldc int, add bool)

func kernel(k int, a []float32, lda int, b []float32, c []float32, ldc int, add bool) {
	if !haveFMA || k == 0 {
		Go(k, a, lda, b, c, ldc, add)
		return
	}
	kernel6x16(k, unsafe.SliceData(a), lda, unsafe.SliceData(b), unsafe.SliceData(c), ldc, add)
}

// Fast reports whether Kernel is the assembly, which outruns BLAS; the Go
// stand-in does not.
var Fast = haveFMA

// Name names the micro-kernel in use.
var Name = func() string {
	if haveFMA {
		return "AVX2+FMA assembly"
	}
	return "Go"
}()
