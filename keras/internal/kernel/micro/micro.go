// Package micro holds the matrix micro-kernels of kernel.MulPacked:
// c (6×16) = (or +=) a (6×k) times a packed panel b (k×16) (Kernel), the
// same on two panels at once, c being 6×32 (KernelWide), and one row a
// times any number of panels (Row). On amd64 with AVX2 and FMA, Kernel is
// assembly (micro_amd64.s), and with AVX-512 so are KernelWide and Row
// (micro512_amd64.s and micro_row_amd64.s, written by gen.go); elsewhere,
// and on older CPUs, Go. All of them add each sum over k in the same
// order, so they give the same bits on the same row.
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
	// Residual adds c's values after the bias, before Relu: c holds a
	// residual connection's other operand, and the tile is the sum
	// (a ResNet block's convolution, Add and relu in one). Only
	// KernelWide and KernelConv take it, and not with add.
	Residual bool
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
	flagResidual
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
	if e.Residual {
		f |= flagResidual
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
	if e != nil && e.Residual {
		panic("micro.Kernel: a residual epilogue")
	}
	kernel(groups, k, a, lda, b, c, ldc, add, e)
}

// KernelWide is Kernel on two panels at once, for the cols (1 to 2·NR)
// columns of c it writes: c's tiles are MR×cols, the first NR columns
// from the panel b[:k·NR], the rest from b[bstride:bstride+k·NR]
// (bstride is not read when cols ≤ NR), and e's Bias (when set) has
// cols values. No column of c past cols is read or written. The sums run
// in the same order as Kernel's, so it gives the bits of Kernel on each
// panel. It is worth calling only where Wide is set (a 512-bit
// assembly); elsewhere it is Kernel through a tile.
func KernelWide(groups, k int, a []float32, lda int, b []float32, bstride, cols int, c []float32, ldc int, add bool, e *Epilogue) {
	rows := MR * groups
	second := 0 // the end of the second panel in b
	if cols > NR {
		second = bstride + k*NR
	}
	if groups < 1 || k < 0 || cols < 1 || cols > 2*NR || lda < k || ldc < cols || bstride < 0 ||
		len(a) < (rows-1)*lda+k || len(b) < max(k*NR, second) || len(c) < (rows-1)*ldc+cols ||
		e != nil && e.Bias != nil && len(e.Bias) < cols {
		panic(fmt.Sprintf("micro.KernelWide: %d groups, k %d, %d columns, strides %d, %d and %d, over %d, %d and %d values",
			groups, k, cols, lda, bstride, ldc, len(a), len(b), len(c)))
	}
	if cols <= NR {
		bstride = 0 // the second panel's sums are not stored: any panel will do
	}
	if add && e != nil && e.Residual {
		panic("micro.KernelWide: a residual epilogue with add")
	}
	kernelWide(groups, k, a, lda, b, bstride, cols, c, ldc, add, e)
}

// goWide is KernelWide through Kernel: each panel's tile is made in a
// buffer, then its columns are added or copied to c and e applied.
// KernelConv is KernelWide (add false) on rows of a that are segs
// segments of k values each, segment s of a row sstride floats after its
// start: the rows of a convolution's windows read in its input, a window
// row a segment, rather than copied out to a patch matrix. b's panels
// hold segs·k rows, and each sum runs over the segments in order, as
// KernelWide's over the same rows copied out contiguously: the two give
// the same bits. Rows may overlap (lda < segs·k).
func KernelConv(groups, k, segs, sstride int, a []float32, lda int, b []float32, bstride, cols int, c []float32, ldc int, e *Epilogue) {
	rows := MR * groups
	kk := segs * k
	second := 0
	if cols > NR {
		second = bstride + kk*NR
	}
	if groups < 1 || k < 0 || segs < 1 || sstride < 0 || lda < 0 || cols < 1 || cols > 2*NR || ldc < cols || bstride < 0 ||
		len(a) < (rows-1)*lda+(segs-1)*sstride+k || len(b) < max(kk*NR, second) || len(c) < (rows-1)*ldc+cols ||
		e != nil && e.Bias != nil && len(e.Bias) < cols {
		panic(fmt.Sprintf("micro.KernelConv: %d groups, %d segments of %d, %d columns, strides %d, %d, %d and %d, over %d, %d and %d values",
			groups, segs, k, cols, sstride, lda, bstride, ldc, len(a), len(b), len(c)))
	}
	if cols <= NR {
		bstride = 0
	}
	kernelSegs(groups, k, segs, sstride, a, lda, b, bstride, cols, c, ldc, false, e)
}

// goSegs is kernelSegs in Go: each group's rows copied out whole, then
// goWide.
func goSegs(groups, k, segs, sstride int, a []float32, lda int, b []float32, bstride, cols int, c []float32, ldc int, add bool, e *Epilogue) {
	if segs == 1 {
		goWide(groups, k, a, lda, b, bstride, cols, c, ldc, add, e)
		return
	}
	kk := segs * k
	rows := make([]float32, MR*kk)
	for g := range groups {
		for i := range MR {
			for s := range segs {
				from := (g*MR+i)*lda + s*sstride
				copy(rows[i*kk+s*k:i*kk+(s+1)*k], a[from:from+k])
			}
		}
		goWide(1, kk, rows, kk, b, bstride, cols, c[g*MR*ldc:], ldc, add, e)
	}
}

func goWide(groups, k int, a []float32, lda int, b []float32, bstride, cols int, c []float32, ldc int, add bool, e *Epilogue) {
	var tile [MR * NR]float32
	for g := range groups {
		for j0 := 0; j0 < cols; j0 += NR {
			w := min(NR, cols-j0)
			panel := b
			if j0 > 0 {
				panel = b[bstride:]
			}
			kernel(1, k, a[g*MR*lda:], lda, panel, tile[:], NR, false, nil)
			var ej *Epilogue
			if e != nil {
				h := *e
				if h.Bias != nil {
					h.Bias = h.Bias[j0 : j0+w]
				}
				ej = &h
			}
			for i := range MR {
				StoreRow(c[(g*MR+i)*ldc+j0:(g*MR+i)*ldc+j0+w], tile[i*NR:i*NR+w], add, ej)
			}
		}
	}
}

// Row sets c (panels·NR values) to the row a (k values) times the packed
// panels b[0:k·NR], b[pstride:pstride+k·NR], ..., or adds the product to
// c when add is set: a matrix-vector product (a recurrent layer's step
// on one sample). Each sum runs over p in order, as Kernel adds it, so
// the bits are those of Kernel's row. Where Wide is set it is assembly;
// elsewhere, Go.
func Row(k int, a, b []float32, pstride, panels int, c []float32, add bool) {
	if k < 0 || panels < 0 || pstride < k*NR || len(a) < k || len(c) < panels*NR ||
		panels > 0 && len(b) < (panels-1)*pstride+k*NR {
		panic(fmt.Sprintf("micro.Row: k %d, %d panels %d apart, over %d, %d and %d values",
			k, panels, pstride, len(a), len(b), len(c)))
	}
	if k == 0 {
		if !add {
			clear(c[:panels*NR])
		}
		return
	}
	row(k, a, b, pstride, panels, c, add)
}

// goRow is Row in Go, the sums as Go's (goTile's).
func goRow(k int, a, b []float32, pstride, panels int, c []float32, add bool) {
	for p := range panels {
		var acc [NR]float32
		panel := b[p*pstride:]
		for q := range k {
			for j := range acc {
				acc[j] += a[q] * panel[q*NR+j]
			}
		}
		for j, v := range acc {
			if add {
				v += c[p*NR+j]
			}
			c[p*NR+j] = v
		}
	}
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

// StoreRow stores t, a row of a tile, in row as the kernels store their
// tiles: added to row's values with add, then e applied (nil: nothing).
func StoreRow(row, t []float32, add bool, e *Epilogue) {
	switch {
	case add:
		for j := range row {
			row[j] += t[j]
		}
		if e != nil {
			e.Apply(row)
		}
	case e != nil:
		e.ApplyTo(row, t)
	default:
		copy(row, t)
	}
}

// ApplyTo sets row to e applied to t, a row of a tile (row's values are
// read first when e is Residual); without Residual it is copy then Apply.
func (e *Epilogue) ApplyTo(row, t []float32) {
	if !e.Residual {
		copy(row, t)
		e.Apply(row)
		return
	}
	t = t[:len(row)]
	for j, v := range t {
		if e.Bias != nil {
			v += e.Bias[j]
		}
		row[j] += v // v + row[j]: addition commutes, bit for bit
	}
	f := *e
	f.Bias, f.Residual = nil, false
	f.Apply(row)
}

// Apply applies e to one row of a tile, or of fewer columns (a tile at
// the result's edge). A Residual e needs the row's former values: ApplyTo.
func (e *Epilogue) Apply(row []float32) {
	if e.Residual {
		panic("micro: Apply of a residual epilogue")
	}
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
