// Package micro holds the 6×16 matrix micro-kernel of kernel.MulPacked:
// c (6×16) = (or +=) a (6×k) times a packed panel b (k×16). On amd64 with
// AVX2 and FMA it is assembly (micro_amd64.s); elsewhere, and on older
// CPUs, Go.
//
// It is a package of its own because the kernel package uses cgo in the
// openblas build, and a cgo package cannot hold Go assembly. It imports
// nothing from kerascope.
package micro

import "fmt"

// MR and NR are the rows and columns of the micro-kernel's tile.
const (
	MR = 6
	NR = 16
)

// Kernel sets c (MR×NR, row stride ldc) to a (MR×k, row stride lda) times
// the panel b (k×NR, contiguous), or adds the product to c when add is
// set. It panics if a slice is too short for its shape: the assembly reads
// and writes through raw pointers.
func Kernel(k int, a []float32, lda int, b []float32, c []float32, ldc int, add bool) {
	if k < 0 || lda < k || ldc < NR || len(a) < (MR-1)*lda+k || len(b) < k*NR || len(c) < (MR-1)*ldc+NR {
		panic(fmt.Sprintf("micro.Kernel: k %d, strides %d and %d, over %d, %d and %d values", k, lda, ldc, len(a), len(b), len(c)))
	}
	kernel(k, a, lda, b, c, ldc, add)
}

// Go is the micro-kernel in Go, the reference of the assembly and its
// stand-in where there is none.
func Go(k int, a []float32, lda int, b []float32, c []float32, ldc int, add bool) {
	var acc [MR][NR]float32
	for p := 0; p < k; p++ {
		brow := (*[NR]float32)(b[p*NR:])
		for i := range MR {
			av := a[i*lda+p]
			for j, bv := range brow {
				acc[i][j] += av * bv
			}
		}
	}
	for i := range MR {
		row := (*[NR]float32)(c[i*ldc:])
		if add {
			for j := range row {
				row[j] += acc[i][j]
			}
		} else {
			*row = acc[i]
		}
	}
}
