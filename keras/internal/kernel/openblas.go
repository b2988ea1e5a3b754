//go:build openblas

package kernel

/*
#cgo pkg-config: openblas
#cgo linux LDFLAGS: -ldl
#define _GNU_SOURCE
#include <dlfcn.h>

void openblas_set_num_threads(int);

// stopThreads stops OpenBLAS's thread pool where the library has one:
// builds without threads (Fedora's default libopenblas) have no
// blas_thread_shutdown_, so it is looked up rather than linked.
static void stopThreads(void) {
	int (*shutdown)(void) = (int (*)(void))dlsym(RTLD_DEFAULT, "blas_thread_shutdown_");
	if (shutdown) {
		shutdown();
	}
}
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
//
// Its thread pool is also stopped: OpenBLAS starts it when the library
// loads, before any Go code runs, and the pool's threads, though given
// no work, still took a quarter of the CPU time of a process that calls
// OpenBLAS (the MLP's 10-unit and bench_lstm's 1-unit Dense layers run
// there): the MLP's batch ran in 166-220 µs with the pool, 150 without,
// as with OPENBLAS_NUM_THREADS=1 in the environment. With one thread
// OpenBLAS does not start it again.
func init() {
	blas32.Use(netlib.Implementation{})
	C.openblas_set_num_threads(1)
	C.stopThreads()
}

// BLAS names the matrix-product implementation in use.
const BLAS = "OpenBLAS"
