//go:build openblas

package kernel

import (
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/netlib/blas/netlib"
)

// With the openblas build tag, every matrix product runs in OpenBLAS.
func init() { blas32.Use(netlib.Implementation{}) }

// BLAS names the matrix-product implementation in use.
const BLAS = "OpenBLAS"
