package kernel

import (
	"fmt"
	"sync"

	"github.com/kerascope/kerascope/keras/internal/kernel/micro"
)

// Products with a packed right operand. A layer's kernel (k×n) is the same
// at every call, so it is repacked once, at load, into the order the
// micro-kernel reads it: panels of packNR columns, each panel's k rows
// contiguous and zero-padded past n. The left operand (activations, or the
// patches of a convolution) is read with its row stride, so a 1×1
// convolution multiplies its input as it lies in memory.
//
// The blocking is the usual one (Goto and van de Geijn's): k in blocks of
// at most packKC, so that a panel's block (packKC×16 floats, 16 KB) stays
// in L1 while packMC/6 groups of 6 rows go past it, and those rows' block
// of the left operand (packMC×packKC floats, 72 KB, copied to contiguous
// rows) stays in L2 while every panel goes past it. The micro-kernels
// are package micro's: 6×16 in AVX2 and FMA assembly, and on CPUs with
// AVX-512 6×32 (two panels at once; 1.3-1.6× the 6×16 kernel's speed on
// ResNet50's and MobileNetV2's shapes, BenchmarkProducts). They add the
// bias and apply relu or relu6 to each tile before storing it
// (Epilogue).

const (
	packMR = micro.MR // rows of the micro-kernel's tile
	packNR = micro.NR // columns of a panel: two 8-float vectors
	packKC = 256      // depth of a block of k
	packMC = 72       // rows of a block of the left operand (a multiple of packMR)
)

// maxInPlaceKC is the deepest k whose contiguous rows are read as one
// block, not in blocks of at most packKC. (At most packMC·packKC/packMR:
// what the block buffer holds of a short group.)
const maxInPlaceKC = 512

// PackedProducts reports whether MulPacked outruns BLAS on this CPU (its
// micro-kernel is assembly), so that layers pack their kernels for it.
var PackedProducts = micro.Fast

// PackedRows reports whether MulPacked runs a product of one row as a
// matrix-vector product (micro.Row's assembly), faster than BLAS's, so
// that recurrent layers pack their kernels for single samples too.
var PackedRows = micro.Wide

// Packed is a k×n matrix packed for MulPacked.
type Packed struct {
	K, N int
	data []float32
}

// PackedLen is the number of floats a packed k×n matrix holds.
func PackedLen(k, n int) int { return k * ((n + packNR - 1) / packNR * packNR) }

// Pack packs the k×n matrix b (row stride ldb) into dst, which must hold
// PackedLen(k, n) floats, and returns it as the Packed it now backs.
func Pack(dst, b []float32, k, n, ldb int) *Packed {
	p := &Packed{}
	p.pack(dst, b, k, n, ldb, false)
	return p
}

// pack makes p the k×n matrix b (or bᵀ, b being n×k, when trans is set)
// packed into dst.
func (p *Packed) pack(dst, b []float32, k, n, ldb int, trans bool) {
	rows, cols := k, n
	if trans {
		rows, cols = n, k
	}
	if len(dst) < PackedLen(k, n) || (k > 0 && n > 0 && len(b) < (rows-1)*ldb+cols) {
		panic(fmt.Sprintf("kernel.Pack: %d×%d matrix (stride %d) in %d values, into %d", rows, cols, ldb, len(b), len(dst)))
	}
	dst = dst[:PackedLen(k, n)]
	for j0 := 0; j0 < n; j0 += packNR {
		nr := min(packNR, n-j0)
		panel := dst[j0*k:]
		for q := 0; q < k; q++ {
			row := panel[q*packNR : (q+1)*packNR]
			if trans {
				for j := range nr {
					row[j] = b[(j0+j)*ldb+q]
				}
			} else {
				copy(row, b[q*ldb+j0:q*ldb+j0+nr])
			}
			clear(row[nr:])
		}
	}
	*p = Packed{K: k, N: n, data: dst}
}

// packPool recycles the matrices Gemm packs for one product.
var packPool = sync.Pool{New: func() any { return new(Packed) }}

// gemmPacked is Gemm through MulPacked, b packed for this product only:
// the packing (k·n copies) costs little against m·k·n multiply-adds when
// m is large.
func gemmPacked(transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, dst []float32, ldc int, add bool) {
	p := packPool.Get().(*Packed)
	defer packPool.Put(p)
	buf := p.data[:cap(p.data)]
	if need := PackedLen(k, n); len(buf) < need {
		buf = make([]float32, need)
	}
	p.pack(buf, b, k, n, ldb, transB)
	MulPacked(dst, ldc, a, lda, m, p, add, Epilogue{})
}

// An Epilogue is what MulPacked applies to each tile of its result as the
// micro-kernel completes it, in registers, instead of another pass over
// the whole result: a bias per column, then per Kind nothing more, the
// relu activation or the ReLU layer, with the bits of AddBias, BiasRelu
// and BiasReluCap (but for the sign of a NaN).
type Epilogue struct {
	Kind   EpilogueKind
	Bias   []float32 // n values
	Max    float32   // EpiBiasReluCap: the cap, when HasMax
	HasMax bool
	// Residual adds the result's former values after the bias, before
	// the relu (micro.Epilogue.Residual): MulPacked then reads dst
	// before it writes it, in one block of k (ResidualFits).
	Residual bool
}

// ResidualFits reports whether MulPacked takes a Residual epilogue on a
// left operand of depth k and row stride lda: it must sum k in one block.
func ResidualFits(k, lda int) bool {
	return k <= packKC || lda == k && k <= maxInPlaceKC
}

type EpilogueKind uint8

const (
	NoEpilogue     EpilogueKind = iota
	EpiBias                     // AddBias
	EpiBiasRelu                 // BiasRelu: the relu activation
	EpiBiasReluCap              // BiasReluCap: the ReLU layer
)

// Cols returns the epilogue of columns [j0, j0+n) (a group's).
func (e Epilogue) Cols(j0, n int) Epilogue {
	if e.Kind != NoEpilogue {
		e.Bias = e.Bias[j0 : j0+n]
	}
	return e
}

// Apply applies e to x, rows of len(e.Bias) values, in a pass of its own
// (a product that did not run packed). It does not take a Residual e.
func (e Epilogue) Apply(x []float32) {
	if e.Residual {
		panic("kernel: Apply of a residual epilogue")
	}
	switch e.Kind {
	case EpiBias:
		AddBias(x, e.Bias)
	case EpiBiasRelu:
		BiasRelu(x, e.Bias)
	case EpiBiasReluCap:
		BiasReluCap(x, e.Bias, e.Max, e.HasMax)
	}
}

// tile returns the micro-kernel's epilogue of e for the columns [j0,
// j0+n) of the result.
func (e Epilogue) tile(j0, n int) micro.Epilogue {
	var t micro.Epilogue
	switch e.Kind {
	case EpiBias:
		t = micro.Epilogue{Bias: e.Bias[j0 : j0+n]}
	case EpiBiasRelu:
		t = micro.Epilogue{Bias: e.Bias[j0 : j0+n], Relu: micro.ReluBits}
	case EpiBiasReluCap:
		t = micro.Epilogue{Bias: e.Bias[j0 : j0+n], Relu: micro.ReluMax, Cap: e.Max, HasCap: e.HasMax}
	}
	t.Residual = e.Residual
	return t
}

// MulPacked sets dst (m×n, row stride ldc) to a (m×k, row stride lda)
// times p (k×n), or adds the product to dst when add is set, then applies
// epi. Large products split over spare CPUs, by rows, or by panels of
// columns when there are too few rows (one sample through a wide layer).
func MulPacked(dst []float32, ldc int, a []float32, lda, m int, p *Packed, add bool, epi Epilogue) {
	k, n := p.K, p.N
	if m <= 0 || n == 0 {
		return
	}
	if lda < k || ldc < n || len(a) < (m-1)*lda+k || len(dst) < (m-1)*ldc+n || epi.Kind != NoEpilogue && len(epi.Bias) != n {
		// The micro-kernel reads and writes through raw pointers: the
		// bounds are checked here, once.
		panic(fmt.Sprintf("kernel.MulPacked: %d×%d times %d×%d with strides %d, %d over %d and %d values",
			m, k, k, n, lda, ldc, len(a), len(dst)))
	}
	if epi.Residual && (add || !ResidualFits(k, lda)) {
		panic(fmt.Sprintf("kernel.MulPacked: a residual epilogue on %d-deep rows %d apart", k, lda))
	}
	if k == 0 {
		// An empty product: the epilogue alone, on zeros (or, with
		// add or a residual, on dst's values).
		me := epi.tile(0, n)
		var zero []float32
		if epi.Residual {
			zero = make([]float32, n)
		}
		for i := 0; i < m; i++ {
			row := dst[i*ldc : i*ldc+n]
			switch {
			case epi.Residual:
				me.ApplyTo(row, zero)
			case add:
				me.Apply(row)
			default:
				clear(row)
				me.Apply(row)
			}
		}
		return
	}
	if m*n*k < packedParallelWork {
		mulPacked(dst, ldc, a, lda, 0, m, 0, n, p, add, epi)
		return
	}
	groups := (m + packMR - 1) / packMR
	panels := (n + packNR - 1) / packNR
	// Where the micro-kernel takes panels two at a time, few panels that
	// do not split into whole pairs per part leave each part a panel of
	// 16 columns alone, at the 6×16 tile's speed, a large share of its
	// work: MobileNetV2's 14×14 projections to 96 channels (6 panels, 3 a
	// part) ran at 280-300 GFLOP/s split so and 390 split by rows, an
	// EfficientNet projection to 80 (5 panels) 230-260 and 320. With 21
	// panels a part or more the two splits measured level.
	unpaired := micro.Wide && panels%(2*maxParts) != 0 && panels < 8*maxParts
	if groups >= rowSplitGroups || panels < 2*maxParts || unpaired && groups >= 2*maxParts {
		// Parts of whole row groups, each at least packedParallelWork.
		grain := max(1, packedParallelWork/(packMR*n*k))
		Parallel(groups, grain, func(lo, hi int) {
			mulPacked(dst, ldc, a, lda, lo*packMR, min(m, hi*packMR), 0, n, p, add, epi)
		})
		return
	}
	grain := max(1, packedParallelWork/(packNR*m*k))
	Parallel(panels, grain, func(lo, hi int) {
		mulPacked(dst, ldc, a, lda, 0, m, lo*packNR, min(n, hi*packNR), p, add, epi)
	})
}

// rowSplitGroups is the fewest groups of rows (about 200 rows) a product
// splits by rows rather than by panels of columns, when it has panels
// enough: each part of a split by rows reads all of the packed matrix,
// each part of a split by panels all of the left operand, and with few
// rows the packed matrix is the larger. One sample's ResNet50 stage 4 and
// 5 products (49 and 196 rows) ran 5-16% faster split by panels, 784
// rows by 128 columns 23% slower; between them the two are within noise.
const rowSplitGroups = 34

// RowSplitGroups is rowSplitGroups, for the convolutions that build a
// small patch matrix whole (package keras).
const RowSplitGroups = rowSplitGroups

// packedParallelWork is the number of multiply-adds from which a packed
// product splits over spare CPUs: a quarter of BLAS's parallelWork, since
// a part packs nothing (the weights are packed once at load) and a
// spinning helper takes it up at once (parallel.go). About 6 µs of one
// core's work; MobileNetV2's single sample, whose 1×1 layers on 14×14 and
// 7×7 positions were below the old threshold, runs 1.3-1.5× faster.
const packedParallelWork = 1 << 19

// mulRow sets d (columns [j0, j1) of a row, j0 a multiple of packNR) to
// the row a times those columns of p, or adds the product to d
// (micro.Row); a last panel of fewer than packNR columns goes through a
// buffer.
func mulRow(d, a []float32, p *Packed, j0, j1 int, add bool) {
	k := p.K
	full := (j1 - j0) / packNR
	micro.Row(k, a, p.data[j0*k:], packNR*k, full, d, add)
	if j := full * packNR; j < len(d) {
		var t [packNR]float32
		copy(t[:], d[j:])
		micro.Row(k, a, p.data[(j0+j)*k:], packNR*k, 1, t[:], add)
		copy(d[j:], t[:len(d)-j])
	}
}

// blockPool recycles the copies of the left operand's blocks, one per
// goroutine running mulPacked.
var blockPool = sync.Pool{New: func() any { return new([packMC * packKC]float32) }}

// mulPacked is MulPacked on rows [i0, i1) and columns [j0, j1) of dst, j0
// a multiple of packNR, on the calling goroutine.
func mulPacked(dst []float32, ldc int, a []float32, lda, i0, i1, j0, j1 int, p *Packed, add bool, epi Epilogue) {
	k := p.K
	if i1-i0 == 1 && micro.Wide && !epi.Residual {
		// One row: a matrix-vector product, bound by reading p, which
		// micro.Row reads once where the micro-kernel would compute six
		// rows (a recurrent layer's step on one sample: 0.8 µs through
		// OpenBLAS's sgemv and cgo, LSTM(64)).
		mulRow(dst[i0*ldc+j0:i0*ldc+j1], a[i0*lda:i0*lda+k], p, j0, j1, add)
		epi.Cols(j0, j1-j0).Apply(dst[i0*ldc+j0 : i0*ldc+j1])
		return
	}
	// Each block of the left operand is copied to contiguous rows: the
	// micro-kernel then reads six short streams that the prefetcher
	// follows, whatever a's stride, and a last group of fewer than packMR
	// rows is zero-padded there, so that no row past a is read.
	block := blockPool.Get().(*[packMC * packKC]float32)
	defer blockPool.Put(block)
	var tile [packMR * 2 * packNR]float32
	// Blocks of k of even depth (576 is 3 × 192, not 256 + 256 + 64): a
	// shallow last block would spend its time loading and storing tiles.
	blocks := (k + packKC - 1) / packKC
	if lda == k && k <= maxInPlaceKC {
		// Rows already contiguous and not too deep (an im2col matrix of
		// 3×3×32 taps: 288) are read where they are, in one block:
		// blocks of 144 would copy all of them once more (the MNIST
		// CNN's second layer spent 10% of its time so).
		blocks = 1
	}
	depth := ((k+blocks-1)/blocks + 3) &^ 3
	// rows sets up the block of rows [ic, ic+mc) of a for the block of
	// k [pc, pc+kc), and reports whether they are read in place.
	rows := func(pc, kc, ic, mc int) (inPlace bool, from int) {
		// Rows already contiguous (a 1×1 convolution's input, an
		// im2col matrix) are read where they are, block of k by block
		// of k, but for the last group when it is short. (Deep rows
		// were copied block by block: 7% of ResNet50's batch in
		// memmove; read in place it runs 4% faster, the products of
		// 576 and 2304 deep 8-10%.)
		inPlace = lda == kc || lda == k
		groups := (mc + packMR - 1) / packMR
		if inPlace {
			from = mc / packMR * packMR
		}
		// Row q goes to row q-from of block (the short group alone
		// when in place: kc may then exceed packKC).
		for q := from; q < groups*packMR; q++ {
			row := block[(q-from)*kc : (q-from+1)*kc]
			if q < mc {
				copy(row, a[(ic+q)*lda+pc:])
			} else {
				clear(row)
			}
		}
		return inPlace, from
	}
	// panels multiplies the rows set up by rows by the panels from jc
	// (two with the 512-bit kernel) and returns the columns done.
	panels := func(pc, kc, ic, mc, jc int, inPlace bool, from int) int {
		acc := add || pc > 0
		groups := (mc + packMR - 1) / packMR
		// With the 512-bit kernel (micro.Wide), two panels at once, the
		// second whole or not (it stores through a mask); else one
		// panel, the whole groups of a whole panel in one call. (A
		// panel alone runs faster in the 256-bit kernel than in the
		// 512-bit one with its second half idle: 12544×32×16 at 96
		// GFLOP/s on one core against 72.)
		nr := min(packNR, j1-jc)
		span := nr
		wide := micro.Wide && j1-jc > packNR
		if wide {
			span = min(2*packNR, j1-jc)
		}
		panel := p.data[jc*k+pc*packNR:]
		// The epilogue comes with the last block of k.
		var me *micro.Epilogue
		if pc+kc == k && epi.Kind != NoEpilogue {
			t := epi.tile(jc, span)
			me = &t
		}
		// A group past dst's rows (or, but for a wide span, its
		// columns) goes through tile.
		full := mc / packMR
		g0 := 0
		if full > 0 && (wide || nr == packNR && (me == nil || !me.Residual)) {
			ap, alda := block[:], kc
			if inPlace {
				ap, alda = a[ic*lda+pc:], lda
			}
			if wide {
				micro.KernelWide(full, kc, ap, alda, panel, packNR*k, span, dst[ic*ldc+jc:], ldc, acc, me)
			} else {
				micro.Kernel(full, kc, ap, alda, panel, dst[ic*ldc+jc:], ldc, acc, me)
			}
			g0 = full
		}
		for g := g0; g < groups; g++ {
			ir := ic + g*packMR
			mr := min(packMR, i1-ir)
			var ap []float32
			alda := kc
			if inPlace && mr == packMR {
				ap, alda = a[ir*lda+pc:], lda
			} else {
				ap = block[(g*packMR-from)*kc:]
			}
			// The group's tile in a buffer (six rows, whole panels),
			// then its rows past dst's end left out.
			tw := packNR
			if wide {
				tw = 2 * packNR
				micro.KernelWide(1, kc, ap, alda, panel, packNR*k, span, tile[:], tw, false, nil)
			} else {
				micro.Kernel(1, kc, ap, alda, panel, tile[:], tw, false, nil)
			}
			for q := 0; q < mr; q++ {
				micro.StoreRow(dst[(ir+q)*ldc+jc:(ir+q)*ldc+jc+span], tile[q*tw:q*tw+span], acc, me)
			}
		}
		return span
	}
	if i1-i0 <= packMC && lda == k {
		// Few rows read in place (one sample's 7×7 or 14×14 map):
		// panel by panel outermost, each panel's blocks of k in turn,
		// so that the packed matrix, read once, is read as one stream
		// per panel rather than in short runs far apart (with the
		// packed matrix not in cache, 49×4608×512 ran 5% faster so;
		// the prefetch in the micro-kernel's first group did more). The
		// same sums in the same order.
		for jc := j0; jc < j1; {
			var span int
			for pc := 0; pc < k; pc += depth {
				kc := min(depth, k-pc)
				inPlace, from := rows(pc, kc, i0, i1-i0)
				span = panels(pc, kc, i0, i1-i0, jc, inPlace, from)
			}
			jc += span
		}
		return
	}
	for pc := 0; pc < k; pc += depth {
		kc := min(depth, k-pc)
		for ic := i0; ic < i1; ic += packMC {
			mc := min(packMC, i1-ic)
			inPlace, from := rows(pc, kc, ic, mc)
			for jc := j0; jc < j1; {
				jc += panels(pc, kc, ic, mc, jc, inPlace, from)
			}
		}
	}
}
