// Package kernel holds the numeric kernels of kerascope's forward pass:
// matrix products, activation functions and the small loops layers share.
//
// Kernels take slices, destination first, and never allocate; shapes are
// passed as plain integers and are the caller's responsibility (the keras
// package checks them once per call). Each kernel has a slow, obviously
// correct reference in its tests.
//
// Products with a layer's kernel run in MulPacked, the kernel packed once
// at load (Pack) and the 6×16 micro-kernel of package micro (assembly on
// amd64 with AVX2 and FMA) doing the arithmetic, with the bias and relu as
// its epilogue; Gemm takes that path too for products of many rows. It
// must not import anything of kerascope but package micro.
//
// Other matrix products go through gonum's blas32, which is pure Go by default.
// Building with the openblas tag routes them to OpenBLAS through cgo
// (gonum.org/v1/netlib), about ten times faster on large products; the
// Makefile sets the tag when pkg-config finds OpenBLAS. That build is the
// one place besides package h5 where kerascope calls C, and only to link
// OpenBLAS and keep it single-threaded (see openblas.go).
package kernel
