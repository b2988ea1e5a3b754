// Package kernel holds the numeric kernels of kerascope's forward pass:
// matrix products, activation functions and the small loops layers share.
//
// Kernels take slices, destination first, and never allocate; shapes are
// passed as plain integers and are the caller's responsibility (the keras
// package checks them once per call). Each kernel has a slow, obviously
// correct reference in its tests.
//
// Matrix products go through gonum's blas32, which is pure Go by default.
// Building with the openblas tag routes them to OpenBLAS through cgo
// (gonum.org/v1/netlib), about ten times faster on large products; the
// Makefile sets the tag when pkg-config finds OpenBLAS. That build is the
// one place besides package h5 where kerascope calls C, and only to link
// OpenBLAS and keep it single-threaded (see openblas.go).
package kernel
