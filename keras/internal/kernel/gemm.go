package kernel

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
)

// MatMul sets dst (m×n) to a (m×k) times b (k×n), all row-major and
// contiguous. With add set it adds the product to dst instead.
func MatMul(dst, a, b []float32, m, k, n int, add bool) {
	Gemm(false, false, m, n, k, a, k, b, n, dst, n, add)
}

// MatMulTransB sets dst (m×n) to a (m×k) times the transpose of b (n×k).
func MatMulTransB(dst, a, b []float32, m, k, n int, add bool) {
	Gemm(false, true, m, n, k, a, k, b, k, dst, n, add)
}

// Gemm is the general product dst = op(a)·op(b) (+ dst when add), with
// leading dimensions, for products over strided views (the gates of a
// recurrent kernel, channel groups of a convolution).
func Gemm(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, dst []float32, ldc int, add bool) {
	if m == 0 || n == 0 {
		return
	}
	beta := float32(0)
	if add {
		beta = 1
	}
	if k == 0 {
		if !add {
			for i := 0; i < m; i++ {
				clear(dst[i*ldc : i*ldc+n])
			}
		}
		return
	}
	if m*n*k <= smallProduct {
		smallGemm(transA, transB, m, n, k, a, lda, b, ldb, dst, ldc, add)
		return
	}
	if PackedProducts && !transA && m >= packRows {
		gemmPacked(transB, m, n, k, a, lda, b, ldb, dst, ldc, add)
		return
	}
	if m*n*k >= parallelWork {
		// A large product splits over spare CPUs: by rows of dst when
		// there are enough for each part to keep BLAS's blocking
		// efficient, else by columns (one sample through a wide layer).
		switch {
		case m >= 64:
			Parallel(m, 32, func(lo, hi int) {
				ao := lo * lda
				if transA {
					ao = lo
				}
				blasGemm(transA, transB, hi-lo, n, k, beta, a[ao:], lda, b, ldb, dst[lo*ldc:], ldc)
			})
			return
		case n >= 128:
			Parallel(n, 64, func(lo, hi int) {
				bo := lo
				if transB {
					bo = lo * ldb
				}
				blasGemm(transA, transB, m, hi-lo, k, beta, a, lda, b[bo:], ldb, dst[lo:], ldc)
			})
			return
		}
	}
	blasGemm(transA, transB, m, n, k, beta, a, lda, b, ldb, dst, ldc)
}

// gemv sets the row dst (n) to the row a (k) times op(b) (+ dst when beta
// is 1): a product with one row is a matrix-vector product, which BLAS
// runs without packing its operands.
func gemv(transB bool, n, k int, a, b []float32, ldb int, dst []float32, beta float32) {
	if beta == 0 {
		// BLAS may scale y by beta rather than overwrite it, and 0·Inf
		// or 0·NaN left over in a reused buffer would survive.
		clear(dst[:n])
	}
	x := blas32.Vector{N: k, Inc: 1, Data: a[:k]}
	y := blas32.Vector{N: n, Inc: 1, Data: dst[:n]}
	if transB { // b is n×k: dst = b·a
		blas32.Gemv(blas.NoTrans, 1, blas32.General{Rows: n, Cols: k, Stride: ldb, Data: b[:(n-1)*ldb+k]}, x, beta, y)
		return
	}
	// b is k×n: dst = bᵀ·a
	blas32.Gemv(blas.Trans, 1, blas32.General{Rows: k, Cols: n, Stride: ldb, Data: b[:(k-1)*ldb+n]}, x, beta, y)
}

// blasGemm is one BLAS call of the product Gemm describes.
func blasGemm(transA, transB bool, m, n, k int, beta float32, a []float32, lda int, b []float32, ldb int, dst []float32, ldc int) {
	if m == 1 && !transA {
		gemv(transB, n, k, a, b, ldb, dst, beta)
		return
	}
	ta, tb := blas.NoTrans, blas.NoTrans
	ar, ac := m, k
	if transA {
		ta, ar, ac = blas.Trans, k, m
	}
	br, bc := k, n
	if transB {
		tb, br, bc = blas.Trans, n, k
	}
	blas32.Gemm(ta, tb, 1,
		blas32.General{Rows: ar, Cols: ac, Stride: lda, Data: a[:(ar-1)*lda+ac]},
		blas32.General{Rows: br, Cols: bc, Stride: ldb, Data: b[:(br-1)*ldb+bc]},
		beta,
		blas32.General{Rows: m, Cols: n, Stride: ldc, Data: dst[:(m-1)*ldc+n]})
}

// packRows is the fewest rows of a product that Gemm runs packed (where
// the micro-kernel is assembly), packing b for that product alone: a copy
// of k·n values, which costs about as much as 4·k·n multiply-adds in
// vectors, so it pays from a few hundred rows (measured: 32 rows of the
// MLP benchmark's products ran 1.6 times slower with it).
const packRows = 256

// smallProduct is the size (m·n·k) up to which a plain loop beats a BLAS
// call, whose dispatch (and, with OpenBLAS, the cgo call) costs more than
// the arithmetic: recurrent steps of small layers, single samples.
const smallProduct = 4096

func smallGemm(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, dst []float32, ldc int, add bool) {
	for i := 0; i < m; i++ {
		row := dst[i*ldc : i*ldc+n]
		if !add {
			clear(row)
		}
		for p := 0; p < k; p++ {
			var av float32
			if transA {
				av = a[p*lda+i]
			} else {
				av = a[i*lda+p]
			}
			if transB {
				for j := range row {
					row[j] += av * b[j*ldb+p]
				}
			} else {
				brow := b[p*ldb : p*ldb+n]
				for j, bv := range brow {
					row[j] += av * bv
				}
			}
		}
	}
}
