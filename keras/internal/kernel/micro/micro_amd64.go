//go:build amd64 && !purego

package micro

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// haveFMA: the assembly needs AVX2 and FMA (Haswell and Zen onwards).
var haveFMA = cpu.X86.HasAVX2 && cpu.X86.HasFMA

//go:noescape
func kernel6x16(k int, a *float32, lda int, b *float32, c *float32, ldc int, flags int, bias *float32, cap float32, groups int)

func kernel(groups, k int, a []float32, lda int, b []float32, c []float32, ldc int, add bool, e *Epilogue) {
	if !haveFMA {
		Go(groups, k, a, lda, b, c, ldc, add, e)
		return
	}
	var bias *float32
	var cp float32
	if e != nil {
		bias, cp = unsafe.SliceData(e.Bias), e.Cap
	}
	kernel6x16(k, unsafe.SliceData(a), lda, unsafe.SliceData(b), unsafe.SliceData(c), ldc, e.flags(add), bias, cp, groups)
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
