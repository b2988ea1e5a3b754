//go:build !openblas

package kernel

// BLAS names the matrix-product implementation in use.
const BLAS = "gonum (pure Go)"
