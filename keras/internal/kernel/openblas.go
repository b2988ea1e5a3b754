//go:build openblas

package kernel

/*
#cgo pkg-config: openblas
void openblas_set_num_threads(int);
*/
import "C"

import (
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/netlib/blas/netlib"
)

// With the openblas build tag, every matrix product runs in OpenBLAS. The
// package links it itself (pkg-config openblas), so no CGO_LDFLAGS are
// needed.
//
// OpenBLAS runs single-threaded: Net.Predict splits a batch over the CPUs
// itself, which also spreads the work between the products (pooling,
// activations, recurrent gates), and OpenBLAS's own threads would compete
// with those parts (measured on bench_cnn: 8.5 ms a batch of 64 this way,
// 17 ms with both).
func init() {
	blas32.Use(netlib.Implementation{})
	C.openblas_set_num_threads(1)
}

// BLAS names the matrix-product implementation in use.
const BLAS = "OpenBLAS"
