// Package micro holds the 6×16 matrix micro-kernel of kernel.MulPacked:
// c (6×16) = (or +=) a (6×k) times a packed panel b (k×16). On amd64 with
// AVX2 and FMA it is assembly (micro_amd64.s); elsewhere, and on older
// CPUs, Go.
//
// It is a package of its own because the kernel package uses cgo in the
// openblas build, and a cgo package cannot hold Go assembly. It imports
// nothing from kerascope.
package micro

import (
	"fmt"
	"math"
)

// MR and NR are the rows and columns of the micro-kernel's tile.
const (
	MR = 6
	NR = 16
)

// An Epilogue is what Kernel applies to the tile after the product (and
// after adding c's values, with add): the bias of its 16 columns when
// Bias is set, then Relu.
type Epilogue struct {
	Bias []float32
	Relu Relu
	// Cap, with ReluMax and HasCap, is the largest value kept.
	Cap    float32
	HasCap bool
}

// Relu is the relu an Epilogue applies.
type Relu uint8

const (
	NoRelu   Relu = iota
	ReluBits      // values with the sign bit set become +0 (the relu activation)
	ReluMax       // Go's max(v, 0): NaN kept, -0 becomes +0 (the ReLU layer)
)

// flags of the assembly's epilogue.
const (
	flagAdd = 1 << iota
	flagBias
	flagReluBits
	flagReluMax
	flagCap
)

func (e *Epilogue) flags(add bool) int {
	f := 0
	if add {
		f |= flagAdd
	}
	if e == nil {
		return f
	}
	if e.Bias != nil {
		f |= flagBias
	}
	switch e.Relu {
	case ReluBits:
		f |= flagReluBits
	case ReluMax:
		f |= flagReluMax
		if e.HasCap {
			f |= flagCap
		}
	}
	return f
}

// Kernel sets c (MR×NR, row stride ldc) to a (MR×k, row stride lda) times
// the panel b (k×NR, contiguous), or adds the product to c when add is
// set, then applies e (nil: nothing); and so for groups tiles down the
// panel (groups ≥ 1), tile g from row MR·g of a and of c. It panics if a
// slice is too short for its shape: the assembly reads and writes through
// raw pointers.
func Kernel(groups, k int, a []float32, lda int, b []float32, c []float32, ldc int, add bool, e *Epilogue) {
	rows := MR * groups
	if groups < 1 || k < 0 || lda < k || ldc < NR || len(a) < (rows-1)*lda+k || len(b) < k*NR || len(c) < (rows-1)*ldc+NR ||
		e != nil && e.Bias != nil && len(e.Bias) < NR {
		panic(fmt.Sprintf("micro.Kernel: %d groups, k %d, strides %d and %d, over %d, %d and %d values",
			groups, k, lda, ldc, len(a), len(b), len(c)))
	}
	kernel(groups, k, a, lda, b, c, ldc, add, e)
}

// Go is the micro-kernel in Go, the reference of the assembly and its
// stand-in where there is none.
func Go(groups, k int, a []float32, lda int, b []float32, c []float32, ldc int, add bool, e *Epilogue) {
	for g := range groups {
		goTile(k, a[g*MR*lda:], lda, b, c[g*MR*ldc:], ldc, add, e)
	}
}

func goTile(k int, a []float32, lda int, b []float32, c []float32, ldc int, add bool, e *Epilogue) {
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
				acc[i][j] += row[j]
			}
		}
		*row = acc[i]
		if e != nil {
			e.Apply(row[:])
		}
	}
}

// Apply applies e to one row of a tile, or of fewer columns (a tile at
// the result's edge).
func (e *Epilogue) Apply(row []float32) {
	if e.Bias != nil {
		for j := range row {
			row[j] += e.Bias[j]
		}
	}
	switch e.Relu {
	case ReluBits:
		for j, v := range row {
			b := math.Float32bits(v)
			row[j] = math.Float32frombits(b &^ uint32(int32(b)>>31))
		}
	case ReluMax:
		for j, v := range row {
			v = max(v, 0)
			if e.HasCap {
				v = min(v, e.Cap)
			}
			row[j] = v
		}
	}
}
