//go:build amd64 && !purego

//go:generate go run gen.go

package micro

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// haveFMA: the assembly needs AVX2 and FMA (Haswell and Zen onwards).
var haveFMA = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// haveAVX512: kernel6x32 needs AVX-512 Foundation (and the OS saving the
// 512-bit registers, which cpu checks).
var haveAVX512 = haveFMA && cpu.X86.HasAVX512F

//go:noescape
func kernel6x32(k int, a *float32, lda int, b *float32, bstride int, c *float32, ldc int, flags int, bias *float32, cap float32, groups int, masks int, segs int, sstride int)

func kernelWide(groups, k int, a []float32, lda int, b []float32, bstride, cols int, c []float32, ldc int, add bool, e *Epilogue) {
	kernelSegs(groups, k, 1, 0, a, lda, b, bstride, cols, c, ldc, add, e)
}

func kernelSegs(groups, k, segs, sstride int, a []float32, lda int, b []float32, bstride, cols int, c []float32, ldc int, add bool, e *Epilogue) {
	if !haveAVX512 {
		goSegs(groups, k, segs, sstride, a, lda, b, bstride, cols, c, ldc, add, e)
		return
	}
	var bias *float32
	var cp float32
	if e != nil {
		bias, cp = unsafe.SliceData(e.Bias), e.Cap
	}
	kernel6x32(k, unsafe.SliceData(a), lda, unsafe.SliceData(b), 4*bstride, unsafe.SliceData(c), ldc, e.flags(add), bias, cp, groups,
		(1<<min(cols, NR)-1)|(1<<max(cols-NR, 0)-1)<<NR, segs, 4*sstride)
}

//go:noescape
func row8(k int, a *float32, b *float32, pstride int, c *float32, add int)

//go:noescape
func row4(k int, a *float32, b *float32, pstride int, c *float32, add int)

//go:noescape
func row1(k int, a *float32, b *float32, pstride int, c *float32, add int)

func row(k int, a, b []float32, pstride, panels int, c []float32, add bool) {
	if !haveAVX512 {
		if !haveFMA {
			goRow(k, a, b, pstride, panels, c, add)
			return
		}
		// kernel6x16 with a's six rows the same one (lda 0), each panel's
		// first row of the tile kept: Kernel's bits, where goRow's
		// unfused sums would differ.
		var tile [MR * NR]float32
		flags := 0
		if add {
			flags = flagAdd
		}
		for p := range panels {
			copy(tile[:NR], c[p*NR:(p+1)*NR])
			kernel6x16(k, unsafe.SliceData(a), 0, &b[p*pstride], &tile[0], NR, flags, nil, 0, 1)
			copy(c[p*NR:(p+1)*NR], tile[:NR])
		}
		return
	}
	ad := 0
	if add {
		ad = 1
	}
	pa := unsafe.SliceData(a)
	for p := 0; p < panels; {
		pb, pc := &b[p*pstride], &c[p*NR]
		switch {
		case panels-p >= 8:
			row8(k, pa, pb, 4*pstride, pc, ad)
			p += 8
		case panels-p >= 4:
			row4(k, pa, pb, 4*pstride, pc, ad)
			p += 4
		default:
			row1(k, pa, pb, 4*pstride, pc, ad)
			p++
		}
	}
}

// Wide reports whether KernelWide is one 512-bit assembly kernel rather
// than two calls of Kernel.
var Wide = haveAVX512

//go:noescape
func kernel6x16(k int, a *float32, lda int, b *float32, c *float32, ldc int, flags int, bias *float32, cap float32, groups int)

func kernel(groups, k int, a []float32, lda int, b []float32, c []float32, ldc int, add bool, e *Epilogue) {
	if !haveFMA {
		Go(groups, k, a, lda, b, c, ldc, add, e)
		return
	}
	var bias *float32
	var cp float32
	if e != nil {
		bias, cp = unsafe.SliceData(e.Bias), e.Cap
	}
	kernel6x16(k, unsafe.SliceData(a), lda, unsafe.SliceData(b), unsafe.SliceData(c), ldc, e.flags(add), bias, cp, groups)
}

func clearUpper()

// ClearUpper clears the upper halves of the vector registers
// (VZEROUPPER) on CPUs with AVX. Scalar float code run while they are
// dirty pays for every instruction on some Intel CPUs (90× for math.Exp
// on the Xeon we benchmark on), and Go does not clear them: not after
// vector code in Go (package kernel's kernels clear them themselves), nor
// when a goroutine resumes from an asynchronous preemption, which
// restores every 512-bit register. Forward passes clear them before
// each layer and each part of a split.
func ClearUpper() {
	if haveFMA {
		clearUpper()
	}
}

// Fast reports whether Kernel is the assembly, which outruns BLAS; the Go
// stand-in does not.
var Fast = haveFMA

// Name names the micro-kernel in use.
var Name = func() string {
	if haveAVX512 {
		return "AVX-512 assembly (6×32), AVX2+FMA (6×16)"
	}
	if haveFMA {
		return "AVX2+FMA assembly"
	}
	return "Go"
}()

//go:noescape
func dw3x3x16(d *float32, x0, x1, x2 *float32, k *float32, count, step, cb, blocks, mask int, bias *float32, cap float32, flags int)

func depthwise3x3(d []float32, rows [3][]float32, k []float32, count, stride, channels, n int, e *Epilogue) bool {
	if !haveAVX512 {
		return false
	}
	a := dwArgsOf(n, e)
	dw3x3x16(unsafe.SliceData(d), &rows[0][0], &rows[1][0], &rows[2][0], unsafe.SliceData(k), count, 4*stride*channels, 4*channels,
		a.blocks, a.mask, a.bias, a.cap, a.flags)
	return true
}

// dwArgs are the depthwise assembly's arguments for n channels and e.
type dwArgs struct {
	blocks, mask, flags int
	bias                *float32
	cap                 float32
}

func dwArgsOf(n int, e *Epilogue) dwArgs {
	// Blocks of 16 channels, the last of 8 when n is an odd multiple of 8.
	a := dwArgs{blocks: (n + 15) / 16, mask: 0xffff, flags: e.flags(false)}
	if n%16 != 0 {
		a.mask = 0xff
	}
	if e != nil {
		a.bias, a.cap = unsafe.SliceData(e.Bias), e.Cap
	}
	return a
}

//go:noescape
func dw5x5x16(d *float32, x0, x1, x2, x3, x4 *float32, k *float32, count, step, cb, blocks, mask int, bias *float32, cap float32, flags int)

func depthwise5x5(d []float32, rows [5][]float32, k []float32, count, stride, channels, n int, e *Epilogue) bool {
	if !haveAVX512 {
		return false
	}
	a := dwArgsOf(n, e)
	dw5x5x16(unsafe.SliceData(d), &rows[0][0], &rows[1][0], &rows[2][0], &rows[3][0], &rows[4][0], unsafe.SliceData(k), count,
		4*stride*channels, 4*channels, a.blocks, a.mask, a.bias, a.cap, a.flags)
	return true
}
