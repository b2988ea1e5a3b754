package keras

import "github.com/kerascope/kerascope/keras/internal/kernel"

// BLAS names the matrix-product implementation the forward pass uses:
// OpenBLAS when kerascope was built with the openblas tag, gonum's pure-Go
// BLAS otherwise.
func BLAS() string { return kernel.BLAS }
