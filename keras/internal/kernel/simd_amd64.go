//go:build goexperiment.simd && amd64

package kernel

import (
	"math"
	"simd/archsimd"
	"slices"
	"unsafe"
)

// AVX2 versions of the element-wise kernels, built with GOEXPERIMENT=simd
// (the Makefile sets it). Each handles the longest prefix of whole
// 8-float vectors and returns its length; the scalar loop finishes the
// tail, and runs alone on CPUs without AVX2 and in builds without the
// experiment (simd_generic.go). They do the scalar loops' float32 steps in
// the same order without fusing multiply and add, so the results are the
// same bits (tested), except mulAddVec, which fuses them, and the
// sigmoid, tanh and swish of AVX-512 machines (gates512_amd64.go), which
// are formulas of their own for every value.
//
// Each ends with archsimd.ClearAVXUpperBits (VZEROUPPER) once its vectors
// are done: the Go compiler does not emit it, and scalar float code (SSE)
// run while the upper halves of the vector registers are dirty paid for
// every instruction on the Xeon we benchmark on. Softmax's 8000 exps took
// 14 ms after an AVX2 pass instead of 0.15 ms; MobileNetV2's batch of 8
// ran 1.2× faster once its classifier's softmax stopped paying it.

var haveAVX2 = archsimd.X86.AVX2() && archsimd.X86.FMA()

// haveAVX512: the kernels that have a 512-bit loop (dw3x3Wide) run it.
var haveAVX512 = haveAVX2 && archsimd.X86.AVX512()

// SIMD names the vector extension the element-wise kernels use, if any.
var SIMD = func() string {
	if haveAVX2 {
		return "AVX2"
	}
	return ""
}()

func mulAddVec(d, a, b []float32) int {
	if !haveAVX2 {
		return 0
	}
	n := len(d) &^ 7
	a, b = a[:len(d)], b[:len(d)]
	for i := 0; i < n; i += 8 {
		dv := archsimd.LoadFloat32x8Slice(d[i : i+8])
		av := archsimd.LoadFloat32x8Slice(a[i : i+8])
		bv := archsimd.LoadFloat32x8Slice(b[i : i+8])
		av.MulAdd(bv, dv).StoreSlice(d[i : i+8])
	}
	archsimd.ClearAVXUpperBits()
	return n
}

// maxVec is maxInto's vector prefix: VCMPPS and a blend keep exactly the
// scalar rule (s replaces d only where s > d), NaNs included.
func maxVec(d, s []float32) int {
	if !haveAVX2 {
		return 0
	}
	n := len(d) &^ 7
	s = s[:len(d)]
	for i := 0; i < n; i += 8 {
		dv := archsimd.LoadFloat32x8Slice(d[i : i+8])
		sv := archsimd.LoadFloat32x8Slice(s[i : i+8])
		sv.Merge(dv, sv.Greater(dv)).StoreSlice(d[i : i+8])
	}
	archsimd.ClearAVXUpperBits()
	return n
}

// maxCellsVec is maxCells' vector prefix.
func maxCellsVec(out, in []float32, cells []int) int {
	if !haveAVX2 {
		return 0
	}
	n := len(out) &^ 7
	first, rest := cells[0], cells[1:]
	for i := 0; i < n; i += 8 {
		acc := archsimd.LoadFloat32x8Slice(in[first+i : first+i+8])
		for _, s := range rest {
			v := archsimd.LoadFloat32x8Slice(in[s+i : s+i+8])
			acc = v.Merge(acc, v.Greater(acc))
		}
		acc.StoreSlice(out[i : i+8])
	}
	archsimd.ClearAVXUpperBits()
	return n
}

// tapsVec is the vector prefix of the depthwise sums of count output
// positions: for position q, d[q·dStep + c] = Σ_t x[xo[t] + q·xStep + c] ·
// k[ko[t] + c] over whole vectors of c, four vectors (32 channels) at a
// time so that each tap's two loads per vector feed independent sums.
// Positions along a row whose taps all fall inside the input share one
// tap list, shifted by xStep, so the lists and the call cost once per
// run. The taps' bounds are checked once, up front; the loop then loads
// through pointers, since a bounds check per load cost more than the
// arithmetic (about 28 instructions per multiply-add with slices,
// measured with callgrind).
func tapsVec(d, x, k []float32, xo, ko []int, count, xStep, dStep int) int {
	if !haveAVX2 || len(xo) == 0 || count <= 0 {
		return 0
	}
	n := min(len(d), dStep) &^ 7
	if n == 0 {
		return 0
	}
	ko = ko[:len(xo)]
	last := (count - 1) * xStep
	if xStep < 0 || dStep < n || (count-1)*dStep+n > len(d) {
		panic("kernel: depthwise output out of range")
	}
	for t, xi := range xo {
		if xi < 0 || ko[t] < 0 || xi+last+n > len(x) || ko[t]+n > len(k) {
			panic("kernel: depthwise tap out of range")
		}
	}
	px, pk := unsafe.Pointer(unsafe.SliceData(x)), unsafe.Pointer(unsafe.SliceData(k))
	q := 0
	// Four positions at a time, a channel vector at a time: each tap's
	// kernel vector is loaded once for the four (five loads per four
	// multiply-adds instead of eight).
	for ; q+4 <= count; q += 4 {
		xs := xStep * 4 // bytes
		for i := 0; i < n; i += 8 {
			var a0, a1, a2, a3 archsimd.Float32x8
			xq := unsafe.Add(px, (q*xStep+i)*4)
			for t, xi := range xo {
				kv := loadAt8(unsafe.Add(pk, (ko[t]+i)*4), 0)
				xp := unsafe.Add(xq, xi*4)
				a0 = loadAt8(xp, 0).MulAdd(kv, a0)
				a1 = loadAt8(unsafe.Add(xp, xs), 0).MulAdd(kv, a1)
				a2 = loadAt8(unsafe.Add(xp, 2*xs), 0).MulAdd(kv, a2)
				a3 = loadAt8(unsafe.Add(xp, 3*xs), 0).MulAdd(kv, a3)
			}
			a0.StoreSlice(d[q*dStep+i : q*dStep+i+8])
			a1.StoreSlice(d[(q+1)*dStep+i : (q+1)*dStep+i+8])
			a2.StoreSlice(d[(q+2)*dStep+i : (q+2)*dStep+i+8])
			a3.StoreSlice(d[(q+3)*dStep+i : (q+3)*dStep+i+8])
		}
	}
	for ; q < count; q++ {
		dq := d[q*dStep : q*dStep+n]
		xq := unsafe.Add(px, q*xStep*4)
		i := 0
		for ; i+32 <= n; i += 32 {
			var a0, a1, a2, a3 archsimd.Float32x8
			for t, xi := range xo {
				xp := unsafe.Add(xq, (xi+i)*4)
				kp := unsafe.Add(pk, (ko[t]+i)*4)
				a0 = loadAt8(xp, 0).MulAdd(loadAt8(kp, 0), a0)
				a1 = loadAt8(xp, 8).MulAdd(loadAt8(kp, 8), a1)
				a2 = loadAt8(xp, 16).MulAdd(loadAt8(kp, 16), a2)
				a3 = loadAt8(xp, 24).MulAdd(loadAt8(kp, 24), a3)
			}
			a0.StoreSlice(dq[i : i+8])
			a1.StoreSlice(dq[i+8 : i+16])
			a2.StoreSlice(dq[i+16 : i+24])
			a3.StoreSlice(dq[i+24 : i+32])
		}
		for ; i < n; i += 8 {
			var a archsimd.Float32x8
			for t, xi := range xo {
				a = loadAt8(unsafe.Add(xq, (xi+i)*4), 0).MulAdd(loadAt8(unsafe.Add(pk, (ko[t]+i)*4), 0), a)
			}
			a.StoreSlice(dq[i : i+8])
		}
	}
	archsimd.ClearAVXUpperBits()
	return n
}

// dw3x3Vec is the depthwise 3×3 convolution (depth multiplier 1, no
// dilation) of count consecutive output positions of one row, over the
// whole vectors of channels: for position q, d[q·channels + c] =
// Σ_ky,kx rows[ky][(q·stride + kx)·channels + c] · k[(3·ky + kx)·channels
// + c], the taps added in that order by fused multiply-adds from +0, as
// micro.Depthwise3x3 adds them (the same bits, tested). Channel block by
// channel block, the nine kernel vectors stay in registers while the row
// goes past, four positions at a time (four independent sums): one load
// per multiply-add instead of two.
func dw3x3Vec(d []float32, rows [3][]float32, k []float32, count, stride, channels int) int {
	n := channels &^ 7
	if !haveAVX2 || n == 0 || count <= 0 {
		return 0
	}
	span := ((count-1)*stride+2)*channels + n
	if len(d) < (count-1)*channels+n || len(k) < 8*channels+n || stride <= 0 {
		panic("kernel: depthwise 3×3 out of range")
	}
	for _, r := range rows {
		if len(r) < span {
			panic("kernel: depthwise 3×3 tap out of range")
		}
	}
	pk := unsafe.Pointer(unsafe.SliceData(k))
	pd := unsafe.Pointer(unsafe.SliceData(d))
	step := stride * channels * 4 // bytes from one position's taps to the next's
	cb := channels * 4
	for c := 0; c < n; c += 8 {
		kp := unsafe.Add(pk, c*4)
		k0, k1, k2 := loadAt8(kp, 0), loadAt8(kp, channels), loadAt8(kp, 2*channels)
		k3, k4, k5 := loadAt8(kp, 3*channels), loadAt8(kp, 4*channels), loadAt8(kp, 5*channels)
		k6, k7, k8 := loadAt8(kp, 6*channels), loadAt8(kp, 7*channels), loadAt8(kp, 8*channels)
		r0 := unsafe.Pointer(&rows[0][c])
		r1 := unsafe.Pointer(&rows[1][c])
		r2 := unsafe.Pointer(&rows[2][c])
		dp := unsafe.Add(pd, c*4)
		q := 0
		for ; q+4 <= count; q += 4 {
			var a0, a1, a2, a3 archsimd.Float32x8
			a0 = loadAt8(r0, 0).MulAdd(k0, a0)
			a1 = loadAt8(unsafe.Add(r0, step), 0).MulAdd(k0, a1)
			a2 = loadAt8(unsafe.Add(r0, 2*step), 0).MulAdd(k0, a2)
			a3 = loadAt8(unsafe.Add(r0, 3*step), 0).MulAdd(k0, a3)
			a0 = loadAt8(unsafe.Add(r0, cb), 0).MulAdd(k1, a0)
			a1 = loadAt8(unsafe.Add(r0, step+cb), 0).MulAdd(k1, a1)
			a2 = loadAt8(unsafe.Add(r0, 2*step+cb), 0).MulAdd(k1, a2)
			a3 = loadAt8(unsafe.Add(r0, 3*step+cb), 0).MulAdd(k1, a3)
			a0 = loadAt8(unsafe.Add(r0, 2*cb), 0).MulAdd(k2, a0)
			a1 = loadAt8(unsafe.Add(r0, step+2*cb), 0).MulAdd(k2, a1)
			a2 = loadAt8(unsafe.Add(r0, 2*step+2*cb), 0).MulAdd(k2, a2)
			a3 = loadAt8(unsafe.Add(r0, 3*step+2*cb), 0).MulAdd(k2, a3)
			a0 = loadAt8(r1, 0).MulAdd(k3, a0)
			a1 = loadAt8(unsafe.Add(r1, step), 0).MulAdd(k3, a1)
			a2 = loadAt8(unsafe.Add(r1, 2*step), 0).MulAdd(k3, a2)
			a3 = loadAt8(unsafe.Add(r1, 3*step), 0).MulAdd(k3, a3)
			a0 = loadAt8(unsafe.Add(r1, cb), 0).MulAdd(k4, a0)
			a1 = loadAt8(unsafe.Add(r1, step+cb), 0).MulAdd(k4, a1)
			a2 = loadAt8(unsafe.Add(r1, 2*step+cb), 0).MulAdd(k4, a2)
			a3 = loadAt8(unsafe.Add(r1, 3*step+cb), 0).MulAdd(k4, a3)
			a0 = loadAt8(unsafe.Add(r1, 2*cb), 0).MulAdd(k5, a0)
			a1 = loadAt8(unsafe.Add(r1, step+2*cb), 0).MulAdd(k5, a1)
			a2 = loadAt8(unsafe.Add(r1, 2*step+2*cb), 0).MulAdd(k5, a2)
			a3 = loadAt8(unsafe.Add(r1, 3*step+2*cb), 0).MulAdd(k5, a3)
			a0 = loadAt8(r2, 0).MulAdd(k6, a0)
			a1 = loadAt8(unsafe.Add(r2, step), 0).MulAdd(k6, a1)
			a2 = loadAt8(unsafe.Add(r2, 2*step), 0).MulAdd(k6, a2)
			a3 = loadAt8(unsafe.Add(r2, 3*step), 0).MulAdd(k6, a3)
			a0 = loadAt8(unsafe.Add(r2, cb), 0).MulAdd(k7, a0)
			a1 = loadAt8(unsafe.Add(r2, step+cb), 0).MulAdd(k7, a1)
			a2 = loadAt8(unsafe.Add(r2, 2*step+cb), 0).MulAdd(k7, a2)
			a3 = loadAt8(unsafe.Add(r2, 3*step+cb), 0).MulAdd(k7, a3)
			a0 = loadAt8(unsafe.Add(r2, 2*cb), 0).MulAdd(k8, a0)
			a1 = loadAt8(unsafe.Add(r2, step+2*cb), 0).MulAdd(k8, a1)
			a2 = loadAt8(unsafe.Add(r2, 2*step+2*cb), 0).MulAdd(k8, a2)
			a3 = loadAt8(unsafe.Add(r2, 3*step+2*cb), 0).MulAdd(k8, a3)
			a0.Store((*[8]float32)(dp))
			a1.Store((*[8]float32)(unsafe.Add(dp, cb)))
			a2.Store((*[8]float32)(unsafe.Add(dp, 2*cb)))
			a3.Store((*[8]float32)(unsafe.Add(dp, 3*cb)))
			if q+4 < count { // no pointer past the data (checkptr)
				r0, r1, r2 = unsafe.Add(r0, 4*step), unsafe.Add(r1, 4*step), unsafe.Add(r2, 4*step)
				dp = unsafe.Add(dp, 4*cb)
			}
		}
		for ; q < count; q++ {
			var a archsimd.Float32x8
			a = loadAt8(r0, 0).MulAdd(k0, a)
			a = loadAt8(unsafe.Add(r0, cb), 0).MulAdd(k1, a)
			a = loadAt8(unsafe.Add(r0, 2*cb), 0).MulAdd(k2, a)
			a = loadAt8(r1, 0).MulAdd(k3, a)
			a = loadAt8(unsafe.Add(r1, cb), 0).MulAdd(k4, a)
			a = loadAt8(unsafe.Add(r1, 2*cb), 0).MulAdd(k5, a)
			a = loadAt8(r2, 0).MulAdd(k6, a)
			a = loadAt8(unsafe.Add(r2, cb), 0).MulAdd(k7, a)
			a = loadAt8(unsafe.Add(r2, 2*cb), 0).MulAdd(k8, a)
			a.Store((*[8]float32)(dp))
			if q+1 < count {
				r0, r1, r2 = unsafe.Add(r0, step), unsafe.Add(r1, step), unsafe.Add(r2, step)
				dp = unsafe.Add(dp, cb)
			}
		}
	}
	archsimd.ClearAVXUpperBits()
	return n
}

// sumPositionsVec sets acc[c] to the float64 sum over the n positions of
// x (n rows, stride floats apart) of channel c, for the channels of whole
// blocks of 16 of acc, and returns how many channels that is: the sums of
// GlobalAvg, held in vector registers over the positions. With AVX-512,
// 64 channels a pass where there are as many (eight chains of float64
// additions), then 32 (four chains), then 16 with two positions a step
// (four chains, the two halves added at the end): with fewer chains the
// additions wait on each other's latency, and EfficientNetB0's squeeze of
// 112×112×32 values ran at 13 GB/s.
func sumPositionsVec(acc []float64, x []float32, n, stride int) int {
	m := len(acc) &^ 15
	if !haveAVX2 || m == 0 || n == 0 {
		return 0
	}
	if stride < m || len(x) < (n-1)*stride+m {
		panic("kernel: sumPositionsVec out of range")
	}
	px := unsafe.Pointer(unsafe.SliceData(x))
	c := 0
	if haveAVX512 {
		for ; c+64 <= m; c += 64 {
			var s [8]archsimd.Float64x8
			for t := range n {
				p := unsafe.Add(px, (t*stride+c)*4) // never past the data (checkptr)
				s[0] = s[0].Add(loadAt8(p, 0).ConvertToFloat64())
				s[1] = s[1].Add(loadAt8(p, 8).ConvertToFloat64())
				s[2] = s[2].Add(loadAt8(p, 16).ConvertToFloat64())
				s[3] = s[3].Add(loadAt8(p, 24).ConvertToFloat64())
				s[4] = s[4].Add(loadAt8(p, 32).ConvertToFloat64())
				s[5] = s[5].Add(loadAt8(p, 40).ConvertToFloat64())
				s[6] = s[6].Add(loadAt8(p, 48).ConvertToFloat64())
				s[7] = s[7].Add(loadAt8(p, 56).ConvertToFloat64())
			}
			for j := range s {
				s[j].StoreSlice(acc[c+8*j : c+8*j+8])
			}
		}
		if c+32 <= m {
			var s0, s1, s2, s3 archsimd.Float64x8
			for t := range n {
				p := unsafe.Add(px, (t*stride+c)*4)
				s0 = s0.Add(loadAt8(p, 0).ConvertToFloat64())
				s1 = s1.Add(loadAt8(p, 8).ConvertToFloat64())
				s2 = s2.Add(loadAt8(p, 16).ConvertToFloat64())
				s3 = s3.Add(loadAt8(p, 24).ConvertToFloat64())
			}
			s0.StoreSlice(acc[c : c+8])
			s1.StoreSlice(acc[c+8 : c+16])
			s2.StoreSlice(acc[c+16 : c+24])
			s3.StoreSlice(acc[c+24 : c+32])
			c += 32
		}
		if c < m {
			var s0, s1, t0, t1 archsimd.Float64x8
			t := 0
			for ; t+2 <= n; t += 2 {
				p := unsafe.Add(px, (t*stride+c)*4)
				q := unsafe.Add(p, stride*4)
				s0 = s0.Add(loadAt8(p, 0).ConvertToFloat64())
				s1 = s1.Add(loadAt8(p, 8).ConvertToFloat64())
				t0 = t0.Add(loadAt8(q, 0).ConvertToFloat64())
				t1 = t1.Add(loadAt8(q, 8).ConvertToFloat64())
			}
			if t < n {
				p := unsafe.Add(px, (t*stride+c)*4)
				s0 = s0.Add(loadAt8(p, 0).ConvertToFloat64())
				s1 = s1.Add(loadAt8(p, 8).ConvertToFloat64())
			}
			s0.Add(t0).StoreSlice(acc[c : c+8])
			s1.Add(t1).StoreSlice(acc[c+8 : c+16])
			c += 16
		}
	}
	for ; c < m; c += 16 {
		var s0, s1, s2, s3 archsimd.Float64x4
		for t := range n {
			p := unsafe.Add(px, (t*stride+c)*4)
			s0 = s0.Add(archsimd.LoadFloat32x4((*[4]float32)(p)).ConvertToFloat64())
			s1 = s1.Add(archsimd.LoadFloat32x4((*[4]float32)(unsafe.Add(p, 16))).ConvertToFloat64())
			s2 = s2.Add(archsimd.LoadFloat32x4((*[4]float32)(unsafe.Add(p, 32))).ConvertToFloat64())
			s3 = s3.Add(archsimd.LoadFloat32x4((*[4]float32)(unsafe.Add(p, 48))).ConvertToFloat64())
		}
		s0.StoreSlice(acc[c : c+4])
		s1.StoreSlice(acc[c+4 : c+8])
		s2.StoreSlice(acc[c+8 : c+12])
		s3.StoreSlice(acc[c+12 : c+16])
	}
	archsimd.ClearAVXUpperBits()
	return m
}

// loadAt8 loads the 8 floats at p plus off floats; the caller has checked
// the bounds.
func loadAt8(p unsafe.Pointer, off int) archsimd.Float32x8 {
	return archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(p, off*4)))
}

// loadAt16 is loadAt8 for 16 floats (AVX-512).
func loadAt16(p unsafe.Pointer, off int) archsimd.Float32x16 {
	return archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(p, off*4)))
}

func addVec(d, b []float32) int {
	if !haveAVX2 {
		return 0
	}
	n := len(d) &^ 7
	b = b[:len(d)]
	for i := 0; i < n; i += 8 {
		dv := archsimd.LoadFloat32x8Slice(d[i : i+8])
		dv.Add(archsimd.LoadFloat32x8Slice(b[i : i+8])).StoreSlice(d[i : i+8])
	}
	archsimd.ClearAVXUpperBits()
	return n
}

func mulVec(d, b []float32) int {
	if !haveAVX2 {
		return 0
	}
	n := len(d) &^ 7
	b = b[:len(d)]
	for i := 0; i < n; i += 8 {
		dv := archsimd.LoadFloat32x8Slice(d[i : i+8])
		dv.Mul(archsimd.LoadFloat32x8Slice(b[i : i+8])).StoreSlice(d[i : i+8])
	}
	archsimd.ClearAVXUpperBits()
	return n
}

// reluVec is Relu on whole vectors (ResNet's relu after each Add).
func reluVec(x []float32) int {
	if !haveAVX2 {
		return 0
	}
	n := len(x) &^ 7
	for i := 0; i < n; i += 8 {
		bits := archsimd.LoadFloat32x8Slice(x[i : i+8]).AsInt32x8()
		bits.AndNot(bits.ShiftAllRight(31)).AsFloat32x8().StoreSlice(x[i : i+8])
	}
	archsimd.ClearAVXUpperBits()
	return n
}

// biasReluVec is one row of BiasRelu.
func biasReluVec(row, bias []float32) int {
	if !haveAVX2 {
		return 0
	}
	n := len(row) &^ 7
	bias = bias[:len(row)]
	for i := 0; i < n; i += 8 {
		y := archsimd.LoadFloat32x8Slice(row[i : i+8]).Add(archsimd.LoadFloat32x8Slice(bias[i : i+8]))
		bits := y.AsInt32x8()
		bits.AndNot(bits.ShiftAllRight(31)).AsFloat32x8().StoreSlice(row[i : i+8])
	}
	archsimd.ClearAVXUpperBits()
	return n
}

// biasReluCapVec is BiasReluCap over all of x when the rows are whole
// vectors (it reports whether it ran): Go's max(y, 0) and min(y, cap), NaN
// and signed zeros included, by comparisons. The constants are broadcast
// once for the whole tensor, which costs more than a row's arithmetic.
func biasReluCapVec(x, bias []float32, maxValue float32, hasMax bool) bool {
	n := len(bias)
	if !haveAVX2 || n%8 != 0 || n == 0 {
		return false
	}
	if haveAVX512 && n%16 == 0 {
		// 16 values a step (MobileNetV2 runs it after every depthwise
		// convolution: a tenth of one sample's time in 8).
		zero := archsimd.BroadcastFloat32x16(0)
		capv := archsimd.BroadcastFloat32x16(maxValue)
		for r := 0; r+n <= len(x); r += n {
			row := x[r : r+n]
			for i := 0; i < n; i += 16 {
				// VMAXPS and VMINPS return their second operand when
				// either is NaN: max(0, y) keeps a NaN y, and + 0 makes
				// -0 +0, as Go's max; min(cap, v) keeps a NaN v (the
				// micro-kernel's epilogue, in four instructions where
				// compares and blends took eight).
				v := zero.Max(load16(row, i).Add(load16(bias, i))).Add(zero)
				if hasMax {
					v = capv.Min(v)
				}
				v.StoreSlice(row[i : i+16])
			}
		}
		archsimd.ClearAVXUpperBits()
		return true
	}
	zero := archsimd.BroadcastFloat32x8(0)
	capv := archsimd.BroadcastFloat32x8(maxValue)
	for r := 0; r+n <= len(x); r += n {
		row := x[r : r+n]
		for i := 0; i < n; i += 8 {
			y := archsimd.LoadFloat32x8Slice(row[i : i+8]).Add(archsimd.LoadFloat32x8Slice(bias[i : i+8]))
			nan := y.IsNaN()
			v := y.Merge(zero, y.Greater(zero).Or(nan))
			if hasMax {
				v = v.Merge(capv, v.LessEqual(capv).Or(nan))
			}
			v.StoreSlice(row[i : i+8])
		}
	}
	archsimd.ClearAVXUpperBits()
	return true
}

// expConsts are exp32Vec's constants, broadcast once per kernel call
// (broadcasting costs more than the arithmetic inside the loop); a value,
// so that it stays on the stack.
type expConsts struct {
	log2e, magic, ln2Hi, ln2Lo, c720 archsimd.Float32x8
	c120, c24, c6, c2, c1            archsimd.Float32x8
	bias                             archsimd.Int32x8
}

func newExpConsts() expConsts {
	return expConsts{
		log2e: archsimd.BroadcastFloat32x8(log2e),
		magic: archsimd.BroadcastFloat32x8(roundMagic),
		ln2Hi: archsimd.BroadcastFloat32x8(ln2Hi),
		ln2Lo: archsimd.BroadcastFloat32x8(ln2Lo),
		c720:  archsimd.BroadcastFloat32x8(1.0 / 720),
		c120:  archsimd.BroadcastFloat32x8(1.0 / 120),
		c24:   archsimd.BroadcastFloat32x8(1.0 / 24),
		c6:    archsimd.BroadcastFloat32x8(1.0 / 6),
		c2:    archsimd.BroadcastFloat32x8(1.0 / 2),
		c1:    archsimd.BroadcastFloat32x8(1),
		bias:  archsimd.BroadcastInt32x8(127),
	}
}

// exp32Vec is exp32 on 8 values.
func exp32Vec(x archsimd.Float32x8, e *expConsts) archsimd.Float32x8 {
	n := x.Mul(e.log2e).Add(e.magic).Sub(e.magic)
	r := x.Sub(n.Mul(e.ln2Hi)).Sub(n.Mul(e.ln2Lo))
	p := e.c120.Add(r.Mul(e.c720))
	p = e.c24.Add(r.Mul(p))
	p = e.c6.Add(r.Mul(p))
	p = e.c2.Add(r.Mul(p))
	p = e.c1.Add(r.Mul(p))
	p = e.c1.Add(r.Mul(p))
	scale := n.ConvertToInt32().Add(e.bias).ShiftAllLeft(23).AsFloat32x8()
	return p.Mul(scale)
}

// gateConsts are the constants of sigmoid8 and tanh8, broadcast once, in
// gateK. (Made at every call, they took a tenth of an LSTM's single-sample
// time: a recurrent layer calls its step kernel once per time step.)
type gateConsts struct {
	exp                               expConsts
	one, zero, hi, lo                 archsimd.Float32x8
	t17, t2, t1, minus2, nine, eighth archsimd.Float32x8
	sign                              archsimd.Int32x8
}

var gateK = func() (k gateConsts) {
	if haveAVX2 { // the broadcasts are AVX instructions
		k = newGateConsts()
	}
	return k
}()

func newGateConsts() gateConsts {
	return gateConsts{
		exp:    newExpConsts(),
		one:    archsimd.BroadcastFloat32x8(1),
		zero:   archsimd.BroadcastFloat32x8(0),
		hi:     archsimd.BroadcastFloat32x8(expMax),
		lo:     archsimd.BroadcastFloat32x8(expMin),
		t17:    archsimd.BroadcastFloat32x8(-17.0 / 315),
		t2:     archsimd.BroadcastFloat32x8(2.0 / 15),
		t1:     archsimd.BroadcastFloat32x8(-1.0 / 3),
		minus2: archsimd.BroadcastFloat32x8(-2),
		nine:   archsimd.BroadcastFloat32x8(9),
		eighth: archsimd.BroadcastFloat32x8(0.125),
		sign:   archsimd.BroadcastInt32x8(-1 << 31),
	}
}

// sigmoid8 is sigmoid32 on 8 values.
func sigmoid8(v archsimd.Float32x8, k *gateConsts) archsimd.Float32x8 {
	// The clamps as min and max (one instruction each, where a compare
	// and a blend are two): the same values but for NaN, which the last
	// line returns as it came.
	m := k.zero.Sub(v).Min(k.hi).Max(k.lo)
	y := k.one.Div(k.one.Add(exp32Vec(m, &k.exp)))
	return y.Merge(v, v.Equal(v))
}

// tanh8 is tanh32 on 8 values.
func tanh8(v archsimd.Float32x8, k *gateConsts) archsimd.Float32x8 {
	a := v.AsInt32x8().AndNot(k.sign).AsFloat32x8()
	// |x| < 0.125: the odd series.
	s := v.Mul(v)
	p := k.t2.Add(s.Mul(k.t17))
	p = k.t1.Add(s.Mul(p))
	small := v.Mul(k.one.Add(s.Mul(p)))
	// |x| > 9: ±1.
	big := v.AsInt32x8().And(k.sign).Or(k.one.AsInt32x8()).AsFloat32x8()
	// Otherwise (1 - e)/(1 + e), e = exp(-2|x|), with x's sign.
	e := exp32Vec(k.minus2.Mul(a), &k.exp)
	t := k.one.Sub(e).Div(k.one.Add(e))
	t = t.Merge(k.zero.Sub(t), v.GreaterEqual(k.zero))
	t = t.Merge(big, a.LessEqual(k.nine))
	t = t.Merge(small, a.GreaterEqual(k.eighth))
	return t.Merge(v, v.Equal(v))
}

// minExpVec is the shortest slice worth the vector sigmoid and tanh on
// their own (FastSigmoid, FastTanh); the fused recurrent steps below use
// them on any length.
const minExpVec = 1024

func sigmoidVec(x []float32) int {
	if haveAVX512 {
		gate512(x, gateSigmoid)
		return len(x)
	}
	if !haveAVX2 || len(x) < minExpVec {
		return 0
	}
	n := len(x) &^ 7
	k := &gateK
	for i := 0; i < n; i += 8 {
		sigmoid8(archsimd.LoadFloat32x8Slice(x[i:i+8]), k).StoreSlice(x[i : i+8])
	}
	archsimd.ClearAVXUpperBits()
	return n
}

// swishVec is FastSwish's vector part: all of x on AVX-512 machines
// (gate512), else whole 8-float vectors of v·sigmoid8(v), and NaN for
// -Inf as the scalar loop gives (EfficientNet spends a fifth of its time
// here when it is scalar).
func swishVec(x []float32) int {
	if haveAVX512 {
		gate512(x, gateSwish)
		return len(x)
	}
	if !haveAVX2 || len(x) < minExpVec {
		return 0
	}
	n := len(x) &^ 7
	k := &gateK
	finite := archsimd.BroadcastFloat32x8(-math.MaxFloat32)
	nan := archsimd.BroadcastFloat32x8(float32(math.NaN()))
	i := 0
	// Two vectors an iteration: their exp polynomials are independent
	// chains, which the CPU overlaps.
	for ; i+16 <= n; i += 16 {
		v := archsimd.LoadFloat32x8Slice(x[i : i+8])
		w := archsimd.LoadFloat32x8Slice(x[i+8 : i+16])
		sv, sw := sigmoid8(v, k), sigmoid8(w, k)
		v.Mul(sv).Merge(nan, v.GreaterEqual(finite)).StoreSlice(x[i : i+8])
		w.Mul(sw).Merge(nan, w.GreaterEqual(finite)).StoreSlice(x[i+8 : i+16])
	}
	for ; i < n; i += 8 {
		v := archsimd.LoadFloat32x8Slice(x[i : i+8])
		v.Mul(sigmoid8(v, k)).Merge(nan, v.GreaterEqual(finite)).StoreSlice(x[i : i+8])
	}
	archsimd.ClearAVXUpperBits()
	return n
}

func tanhVec(x []float32) int {
	if haveAVX512 {
		gate512(x, gateTanh)
		return len(x)
	}
	if !haveAVX2 || len(x) < minExpVec {
		return 0
	}
	n := len(x) &^ 7
	k := &gateK
	for i := 0; i < n; i += 8 {
		tanh8(archsimd.LoadFloat32x8Slice(x[i:i+8]), k).StoreSlice(x[i : i+8])
	}
	archsimd.ClearAVXUpperBits()
	return n
}

// lstmVec is the vector part of LSTMSigmoidTanh: the units of every kept
// row up to the last whole vector, whose count it returns.
func lstmVec(h, c, x []float32, ldx int, rec []float32, rows, u int, keep []bool) int {
	if haveAVX512 {
		lstm512(h, c, x, ldx, rec, rows, u, keep)
		return u
	}
	n := u &^ 7
	if !haveAVX2 || n == 0 {
		return 0
	}
	k := &gateK
	g := 4 * u
	for r := 0; r < rows; r++ {
		if keep != nil && !keep[r] {
			continue
		}
		z, xr := rec[r*g:(r+1)*g], x[r*ldx:r*ldx+g]
		cr, hr := c[r*u:(r+1)*u], h[r*u:(r+1)*u]
		for j := 0; j < n; j += 8 {
			i := sigmoid8(load8(z, j).Add(load8(xr, j)), k)
			f := sigmoid8(load8(z, u+j).Add(load8(xr, u+j)), k)
			cand := tanh8(load8(z, 2*u+j).Add(load8(xr, 2*u+j)), k)
			o := sigmoid8(load8(z, 3*u+j).Add(load8(xr, 3*u+j)), k)
			cv := f.Mul(load8(cr, j)).Add(i.Mul(cand))
			cv.StoreSlice(cr[j : j+8])
			o.Mul(tanh8(cv, k)).StoreSlice(hr[j : j+8])
		}
	}
	archsimd.ClearAVXUpperBits()
	return n
}

// gruVec is the vector part of GRUSigmoidTanh, as lstmVec.
func gruVec(h, x []float32, ldx int, rec []float32, rows, u int, keep []bool) int {
	if haveAVX512 {
		gru512(h, x, ldx, rec, rows, u, keep)
		return u
	}
	n := u &^ 7
	if !haveAVX2 || n == 0 {
		return 0
	}
	k := &gateK
	g := 3 * u
	for r := 0; r < rows; r++ {
		if keep != nil && !keep[r] {
			continue
		}
		zr, xr := rec[r*g:(r+1)*g], x[r*ldx:r*ldx+g]
		hr := h[r*u : (r+1)*u]
		for j := 0; j < n; j += 8 {
			z := sigmoid8(load8(zr, j).Add(load8(xr, j)), k)
			rg := sigmoid8(load8(zr, u+j).Add(load8(xr, u+j)), k)
			hh := tanh8(load8(xr, 2*u+j).Add(rg.Mul(load8(zr, 2*u+j))), k)
			z.Mul(load8(hr, j)).Add(k.one.Sub(z).Mul(hh)).StoreSlice(hr[j : j+8])
		}
	}
	archsimd.ClearAVXUpperBits()
	return n
}

func load8(s []float32, i int) archsimd.Float32x8 { return archsimd.LoadFloat32x8Slice(s[i : i+8]) }

func load16(s []float32, i int) archsimd.Float32x16 {
	return archsimd.LoadFloat32x16Slice(s[i : i+16])
}

// softmaxVec is FastSoftmax on rows of whole vectors (it reports whether
// it ran): the maximum and the sum over 8 lanes, then across them.
func softmaxVec(x []float32, n int) bool {
	if !haveAVX2 || n%8 != 0 {
		return false
	}
	e := newExpConsts()
	lo := archsimd.BroadcastFloat32x8(expMin)
	zero := archsimd.BroadcastFloat32x8(0)
	one := archsimd.BroadcastFloat32x8(1)
	for r := 0; r+n <= len(x); r += n {
		row := x[r : r+n]
		mv := load8(row, 0)
		for j := 8; j < n; j += 8 {
			mv = mv.Max(load8(row, j))
		}
		mb := hmax8(mv)
		sv := zero
		for j := 0; j < n; j += 8 {
			d := load8(row, j).Sub(mb)
			ev := zero.Merge(exp32Vec(d, &e), d.Less(lo)) // NaN passes
			ev.StoreSlice(row[j : j+8])
			sv = sv.Add(ev)
		}
		inv := one.Div(hsum8(sv))
		for j := 0; j < n; j += 8 {
			load8(row, j).Mul(inv).StoreSlice(row[j : j+8])
		}
	}
	archsimd.ClearAVXUpperBits()
	return true
}

// hsum8 returns, in every lane, the sum of v's lanes: (l0+l4 + l2+l6) +
// (l1+l5 + l3+l7), in registers. (Through an array in memory and scalar
// code, the max and sum of a softmax row of 64 values took most of its
// 0.3 µs, 5 ns a value; 2 ns a value in all now.)
func hsum8(v archsimd.Float32x8) archsimd.Float32x8 {
	v = v.Add(v.Select128FromPair(1, 0, v))           // lane i: l(i) + l(i±4)
	v = v.Add(v.SelectFromPairGrouped(2, 3, 4, 5, v)) // and the pair 2 away
	return v.Add(v.SelectFromPairGrouped(1, 0, 7, 6, v))
}

// hmax8 returns, in every lane, the largest of v's lanes, as hsum8.
func hmax8(v archsimd.Float32x8) archsimd.Float32x8 {
	v = v.Max(v.Select128FromPair(1, 0, v))
	v = v.Max(v.SelectFromPairGrouped(2, 3, 4, 5, v))
	return v.Max(v.SelectFromPairGrouped(1, 0, 7, 6, v))
}

// layerNormVec is FastLayerNorm on rows of whole vectors (it reports
// whether it ran).
func layerNormVec(dst, x, gamma, beta []float32, n int, eps float32) bool {
	if !haveAVX2 || n%8 != 0 {
		return false
	}
	gamma, beta = gamma[:n], beta[:n]
	// Every step in vector registers, the mean and the inverse deviation
	// in all lanes: with the lane sums and the square root in scalar code
	// between the vector loops, a row of 128 took 480 ns, 105 now. (Not
	// the switch between AVX and SSE code: a VZEROUPPER before the scalar
	// part did not help.)
	nv := archsimd.BroadcastFloat32x8(float32(n))
	ev := archsimd.BroadcastFloat32x8(eps)
	one := archsimd.BroadcastFloat32x8(1)
	for r := 0; r+n <= len(x); r += n {
		xs, ds := x[r:r+n], dst[r:r+n]
		sv := load8(xs, 0)
		for j := 8; j < n; j += 8 {
			sv = sv.Add(load8(xs, j))
		}
		mv := hsum8(sv).Div(nv)
		d := load8(xs, 0).Sub(mv)
		qv := d.Mul(d)
		for j := 8; j < n; j += 8 {
			d := load8(xs, j).Sub(mv)
			qv = qv.Add(d.Mul(d))
		}
		inv := one.Div(hsum8(qv).Div(nv).Add(ev).Sqrt())
		for j := 0; j < n; j += 8 {
			load8(xs, j).Sub(mv).Mul(inv.Mul(load8(gamma, j))).Add(load8(beta, j)).StoreSlice(ds[j : j+8])
		}
	}
	archsimd.ClearAVXUpperBits()
	return true
}

// mulRowsVec is MulRows on the rows of x up to the last, where len(s) is a
// whole number of 16-float vectors and the CPU has AVX-512, and returns
// how many values that is.
func mulRowsVec(x, s []float32) int {
	n := len(s)
	if !haveAVX512 || n%16 != 0 {
		return 0
	}
	end := len(x) / n * n
	for r := 0; r < end; r += n {
		row := x[r : r+n]
		for i := 0; i < n; i += 16 {
			load16(row, i).Mul(load16(s, i)).StoreSlice(row[i : i+16])
		}
	}
	archsimd.ClearAVXUpperBits()
	return end
}

// maxWindowsVec is maxCells on count windows along a row, window q's
// cells at q·step + rel[t] in in and its maxima at q·ch in out, where ch
// is a whole number of 8-float vectors; it returns the windows done (0
// where it does not run). The cells are taken in order with the same
// compares as maxCells, so the same bits.
func maxWindowsVec(out, in []float32, rel []int, count, step, ch int) int {
	if !haveAVX2 || ch%8 != 0 || count <= 0 || len(rel) == 0 {
		return 0
	}
	last := (count-1)*step + slices.Max(rel) + ch
	if len(in) < last || len(out) < count*ch || step < 0 || slices.Min(rel) < 0 {
		panic("kernel: max pooling windows out of range")
	}
	pi, po := unsafe.Pointer(unsafe.SliceData(in)), unsafe.Pointer(unsafe.SliceData(out))
	if haveAVX512 && ch%16 == 0 && len(rel) == 4 {
		maxWindows2x2(po, pi, [4]int(rel), count, step, ch)
		archsimd.ClearAVXUpperBits()
		return count
	}
	for q := range count {
		base := unsafe.Add(pi, q*step*4)
		for i := 0; i < ch; i += 8 {
			acc := loadAt8(base, rel[0]+i)
			for _, r := range rel[1:] {
				v := loadAt8(base, r+i)
				acc = v.Merge(acc, v.Greater(acc))
			}
			acc.Store((*[8]float32)(unsafe.Add(po, (q*ch+i)*4)))
		}
	}
	archsimd.ClearAVXUpperBits()
	return count
}

// maxWindows2x2 is maxWindowsVec's loop for windows of four cells (2×2,
// MNIST's and ResNet's poolings are 2×2 and 3×3) and whole vectors of 16
// channels, the cells unrolled: the same comparisons in the same order
// (a NaN in the first cell kept, in a later one passed over), so the same
// bits. The 8-float loop over a list of cells spent 2 cycles a value.
func maxWindows2x2(po, pi unsafe.Pointer, rel [4]int, count, step, ch int) {
	for q := range count {
		base := unsafe.Add(pi, q*step*4)
		dst := unsafe.Add(po, q*ch*4)
		for i := 0; i < ch; i += 16 {
			acc := loadAt16(base, rel[0]+i)
			v := loadAt16(base, rel[1]+i)
			acc = v.Merge(acc, v.Greater(acc))
			v = loadAt16(base, rel[2]+i)
			acc = v.Merge(acc, v.Greater(acc))
			v = loadAt16(base, rel[3]+i)
			acc = v.Merge(acc, v.Greater(acc))
			acc.Store((*[16]float32)(unsafe.Add(dst, i*4)))
		}
	}
}

// channelsVec is Rescale (sub false: dst = float32(x·a) + b) or
// Standardize's channels-last loop (sub true: dst = (x - a) / b) on the
// longest prefix of whole periods of the channel cycle, a and b holding
// one value per channel (c = len(a) ≤ 16), where the CPU has AVX-512,
// and returns its length. a and b are laid out over lcm(c, 16) values
// once, so that every vector of the data meets its channels' values in
// one load; each value takes the scalar loop's steps, so the same bits.
func channelsVec(dst, x, a, b []float32, sub bool) int {
	c := len(a)
	if !haveAVX512 || c == 0 || c > 16 || len(b) != c {
		return 0
	}
	period := c
	for period%16 != 0 {
		period += c
	}
	var pa, pb [256]float32
	for i := range period {
		pa[i], pb[i] = a[i%c], b[i%c]
	}
	n := len(x) / period * period
	dst = dst[:len(x)]
	for i := 0; i < n; i += period {
		xs, ds := x[i:i+period], dst[i:i+period]
		for j := 0; j < period; j += 16 {
			v := load16(xs, j)
			if sub {
				v = v.Sub(load16(pa[:], j)).Div(load16(pb[:], j))
			} else {
				v = v.Mul(load16(pa[:], j)).Add(load16(pb[:], j))
			}
			v.StoreSlice(ds[j : j+16])
		}
	}
	archsimd.ClearAVXUpperBits()
	return n
}
