//go:build goexperiment.simd && amd64

package kernel

import "simd/archsimd"

// The exponential's functions in 512 bits (AVX-512): sigmoid, tanh and
// swish, with e^x from fused multiply-adds and VSCALEFPS. The 256-bit and
// scalar versions (sigmoid8, tanh8, sigmoid32...) take their float32
// steps unfused so that the two give the same bits; on 16 values these
// take about half the instructions. Swish ran at 19 cycles a vector and
// runs at about 11, bound by its division (an approximate reciprocal and
// a Newton step measured slower); a fused LSTM step of 32 rows of 64
// units, whose gates were a quarter of bench_lstm's batch, 6.7 -> 4.7 µs.
//
// They are their own formulas, not the scalar loops' bits: on AVX-512
// machines every value goes through them, tails included (through an
// array of 16), in FastSigmoid, FastTanh, FastSwish and the fused
// recurrent steps alike, so a value's result does not depend on where it
// sits in a slice or on which of those paths computes it (a fused layer
// and the unfused one give the same bits). Their errors are those of the
// unfused formulas, a few float32 ulps (TestFastSigmoidTanh,
// TestFastSwish).

type gate16Consts struct {
	mlog2e, ln2Hi, ln2Lo                   archsimd.Float32x16
	c6, c5, c4, c3, c2, c1, one, two, zero archsimd.Float32x16
	lo, hi                                 archsimd.Float32x16 // expNeg16's argument clamps
	t17, t2, t1, eighth                    archsimd.Float32x16
	sign                                   archsimd.Int32x16
}

var gate16K = func() (k gate16Consts) {
	if haveAVX512 {
		b := archsimd.BroadcastFloat32x16
		k = gate16Consts{
			mlog2e: b(-log2e), ln2Hi: b(ln2Hi), ln2Lo: b(ln2Lo),
			// e^r's series in t = -r: alternating signs.
			c6: b(1.0 / 720), c5: b(-1.0 / 120), c4: b(1.0 / 24), c3: b(-1.0 / 6), c2: b(0.5), c1: b(-1),
			one: b(1), two: b(2), zero: b(0),
			// e^-m is +Inf in float32 below m = -89, 0 above 104; past
			// them the reduction would lose the argument altogether.
			lo: b(-89), hi: b(104),
			t17: b(-17.0 / 315), t2: b(2.0 / 15), t1: b(-1.0 / 3), eighth: b(0.125),
			sign: archsimd.BroadcastInt32x16(-1 << 31),
		}
		archsimd.ClearAVXUpperBits()
	}
	return k
}()

// expNeg16 is e^-m for m in [lo, hi] (the callers clamp): -m = n·ln 2 +
// r, |r| <= ln2/2, e^r by its degree-6 series (in t = -r = m + n·ln 2),
// times 2^n by VSCALEFPS, which overflows to +Inf and underflows to zero
// as float32 does. Every caller wants e to a negative power, so the
// negation is in the constants.
func expNeg16(m archsimd.Float32x16, k *gate16Consts) archsimd.Float32x16 {
	n := m.Mul(k.mlog2e).RoundToEvenScaled(0)
	t := n.MulAdd(k.ln2Hi, m)
	t = n.MulAdd(k.ln2Lo, t)
	p := t.MulAdd(k.c6, k.c5)
	p = t.MulAdd(p, k.c4)
	p = t.MulAdd(p, k.c3)
	p = t.MulAdd(p, k.c2)
	p = t.MulAdd(p, k.c1)
	p = t.MulAdd(p, k.one)
	return p.Scale(n)
}

// denom16 is 1 + e^-v, v clamped to [lo, hi]: +Inf from -89 down, -Inf's
// included; 1 from 104 up; NaN gives a number, which each caller
// replaces.
func denom16(v archsimd.Float32x16, k *gate16Consts) archsimd.Float32x16 {
	return k.one.Add(expNeg16(v.Max(k.lo).Min(k.hi), k))
}

// sigmoid16 is 1/(1+e^-v) on 16 values; NaN stays NaN.
func sigmoid16(v archsimd.Float32x16, k *gate16Consts) archsimd.Float32x16 {
	return k.one.Div(denom16(v, k)).Merge(v, v.Equal(v))
}

// swish16 is v/(1+e^-v): -0 where e^-v overflows, v·0, NaN, for -Inf
// (as TensorFlow's -Inf·sigmoid(-Inf)); NaN stays NaN.
func swish16(v archsimd.Float32x16, k *gate16Consts) archsimd.Float32x16 {
	return v.Div(denom16(v, k))
}

// tanh16 is tanh on 16 values: for |v| < 1/8 its odd series in v², else
// (1 - e^-2|v|)/(1 + e^-2|v|) with v's sign (which is 1 from |v| = 9 on,
// as float32 rounds it); NaN stays NaN.
func tanh16(v archsimd.Float32x16, k *gate16Consts) archsimd.Float32x16 {
	a := v.AsInt32x16().AndNot(k.sign).AsFloat32x16()
	s := v.Mul(v)
	p := s.MulAdd(k.t17, k.t2)
	p = s.MulAdd(p, k.t1)
	small := v.Mul(s).MulAdd(p, v)
	e := expNeg16(a.Mul(k.two).Min(k.hi), k)
	t := k.one.Sub(e).Div(k.one.Add(e))
	t = t.AsInt32x16().Or(v.AsInt32x16().And(k.sign)).AsFloat32x16()
	// NaN fails the comparison: small, which is NaN.
	return t.Merge(small, a.GreaterEqual(k.eighth))
}

// The same functions on 8 values (256-bit registers, AVX-512VL), op for op
// as the 16-value ones and so the same bits (TestFastSwish and
// TestVectorMatchesScalar compare a value alone, which takes these, with
// the same value in a long slice). Slices under 256 values take them: a
// few values gain nothing from 512-bit registers, whose first use after a
// pause is slow on Intel cores while their upper lanes power up. (The
// article's 1-unit SimpleRNN, whose tanh is one value a step, measured
// 1.8-1.9 µs a call before these formulas and 2.0-2.5 µs after, either
// way: within this machine's noise at that size, and 15 times ONNX
// Runtime's speed.)
type gate8Consts struct {
	mlog2e, ln2Hi, ln2Lo                   archsimd.Float32x8
	c6, c5, c4, c3, c2, c1, one, two, zero archsimd.Float32x8
	lo, hi                                 archsimd.Float32x8
	t17, t2, t1, eighth                    archsimd.Float32x8
	sign                                   archsimd.Int32x8
}

var gate8K = func() (k gate8Consts) {
	if haveAVX512 {
		g := &gate16K
		k = gate8Consts{
			g.mlog2e.GetLo(), g.ln2Hi.GetLo(), g.ln2Lo.GetLo(),
			g.c6.GetLo(), g.c5.GetLo(), g.c4.GetLo(), g.c3.GetLo(), g.c2.GetLo(), g.c1.GetLo(), g.one.GetLo(), g.two.GetLo(), g.zero.GetLo(),
			g.lo.GetLo(), g.hi.GetLo(),
			g.t17.GetLo(), g.t2.GetLo(), g.t1.GetLo(), g.eighth.GetLo(),
			g.sign.GetLo(),
		}
		archsimd.ClearAVXUpperBits()
	}
	return k
}()

func expNeg8(m archsimd.Float32x8, k *gate8Consts) archsimd.Float32x8 {
	n := m.Mul(k.mlog2e).RoundToEvenScaled(0)
	t := n.MulAdd(k.ln2Hi, m)
	t = n.MulAdd(k.ln2Lo, t)
	p := t.MulAdd(k.c6, k.c5)
	p = t.MulAdd(p, k.c4)
	p = t.MulAdd(p, k.c3)
	p = t.MulAdd(p, k.c2)
	p = t.MulAdd(p, k.c1)
	p = t.MulAdd(p, k.one)
	return p.Scale(n)
}

func denom8(v archsimd.Float32x8, k *gate8Consts) archsimd.Float32x8 {
	return k.one.Add(expNeg8(v.Max(k.lo).Min(k.hi), k))
}

func gate8(v archsimd.Float32x8, kind gateKind, k *gate8Consts) archsimd.Float32x8 {
	switch kind {
	case gateSigmoid:
		return k.one.Div(denom8(v, k)).Merge(v, v.Equal(v))
	case gateSwish:
		return v.Div(denom8(v, k))
	}
	a := v.AsInt32x8().AndNot(k.sign).AsFloat32x8()
	s := v.Mul(v)
	p := s.MulAdd(k.t17, k.t2)
	p = s.MulAdd(p, k.t1)
	small := v.Mul(s).MulAdd(p, v)
	e := expNeg8(a.Mul(k.two).Min(k.hi), k)
	t := k.one.Sub(e).Div(k.one.Add(e))
	t = t.AsInt32x8().Or(v.AsInt32x8().And(k.sign)).AsFloat32x8()
	return t.Merge(small, a.GreaterEqual(k.eighth))
}

// gate256 is gate512 on 8 values at a time.
func gate256(x []float32, kind gateKind) {
	k := &gate8K
	for i := 0; i < len(x); i += 8 {
		if i+8 <= len(x) {
			gate8(load8(x, i), kind, k).StoreSlice(x[i : i+8])
			continue
		}
		var b [8]float32
		copy(b[:], x[i:])
		v := gate8(archsimd.LoadFloat32x8(&b), kind, k)
		v.Store(&b)
		copy(x[i:], b[:])
	}
	archsimd.ClearAVXUpperBits()
}

// minGate512 is the shortest slice gate512 runs in 512-bit registers.
const minGate512 = 256

type gateKind uint8

const (
	gateSigmoid gateKind = iota
	gateTanh
	gateSwish
)

// gate512 applies the kind's function to all of x in place, two vectors
// an iteration (independent chains, which the CPU overlaps), each kind
// its own loop (one loop switching on the kind took 10% longer on swish).
func gate512(x []float32, kind gateKind) {
	if len(x) < minGate512 {
		gate256(x, kind)
		return
	}
	k := &gate16K
	i := 0
	switch kind {
	case gateSigmoid:
		for ; i+32 <= len(x); i += 32 {
			sigmoid16(load16(x, i), k).StoreSlice(x[i : i+16])
			sigmoid16(load16(x, i+16), k).StoreSlice(x[i+16 : i+32])
		}
	case gateTanh:
		for ; i+32 <= len(x); i += 32 {
			tanh16(load16(x, i), k).StoreSlice(x[i : i+16])
			tanh16(load16(x, i+16), k).StoreSlice(x[i+16 : i+32])
		}
	case gateSwish:
		for ; i+32 <= len(x); i += 32 {
			swish16(load16(x, i), k).StoreSlice(x[i : i+16])
			swish16(load16(x, i+16), k).StoreSlice(x[i+16 : i+32])
		}
	}
	for ; i < len(x); i += 16 {
		v := part16(x, i, len(x))
		switch kind {
		case gateSigmoid:
			v = sigmoid16(v, k)
		case gateTanh:
			v = tanh16(v, k)
		default:
			v = swish16(v, k)
		}
		storePart16(v, x[i:min(i+16, len(x))])
	}
	archsimd.ClearAVXUpperBits()
}

// part16 loads the up to 16 values of s from i to end, zeros past them.
// A block short of 16 goes through an array on the stack, not a masked
// load (archsimd's SlicePart), which reads the slice as a whole array and
// which checkptr (-race) therefore rejects.
func part16(s []float32, i, end int) archsimd.Float32x16 {
	if end-i >= 16 {
		return archsimd.LoadFloat32x16Slice(s[i : i+16])
	}
	var b [16]float32
	copy(b[:], s[i:end])
	return archsimd.LoadFloat32x16(&b)
}

// storePart16 stores the first len(s) values of v (at most 16) into s.
func storePart16(v archsimd.Float32x16, s []float32) {
	if len(s) >= 16 {
		v.StoreSlice(s[:16])
		return
	}
	var b [16]float32
	v.Store(&b)
	copy(s, b[:])
}

// lstm512 is LSTMSigmoidTanh on AVX-512 machines: every unit, the last
// block of fewer than 16 through part16 and storePart16.
func lstm512(h, c, x []float32, ldx int, rec []float32, rows, u int, keep []bool) {
	k := &gate16K
	g := 4 * u
	for r := 0; r < rows; r++ {
		if keep != nil && !keep[r] {
			continue
		}
		z, xr := rec[r*g:(r+1)*g], x[r*ldx:r*ldx+g]
		cr, hr := c[r*u:(r+1)*u], h[r*u:(r+1)*u]
		for j := 0; j < u; j += 16 {
			i := sigmoid16(part16(z, j, u).Add(part16(xr, j, u)), k)
			f := sigmoid16(part16(z, u+j, 2*u).Add(part16(xr, u+j, 2*u)), k)
			cand := tanh16(part16(z, 2*u+j, 3*u).Add(part16(xr, 2*u+j, 3*u)), k)
			o := sigmoid16(part16(z, 3*u+j, g).Add(part16(xr, 3*u+j, g)), k)
			cv := f.Mul(part16(cr, j, u)).Add(i.Mul(cand))
			end := min(j+16, u)
			storePart16(cv, cr[j:end])
			storePart16(o.Mul(tanh16(cv, k)), hr[j:end])
		}
	}
	archsimd.ClearAVXUpperBits()
}

// gru512 is GRUSigmoidTanh on AVX-512 machines, as lstm512.
func gru512(h, x []float32, ldx int, rec []float32, rows, u int, keep []bool) {
	k := &gate16K
	g := 3 * u
	for r := 0; r < rows; r++ {
		if keep != nil && !keep[r] {
			continue
		}
		zr, xr := rec[r*g:(r+1)*g], x[r*ldx:r*ldx+g]
		hr := h[r*u : (r+1)*u]
		for j := 0; j < u; j += 16 {
			z := sigmoid16(part16(zr, j, u).Add(part16(xr, j, u)), k)
			rg := sigmoid16(part16(zr, u+j, 2*u).Add(part16(xr, u+j, 2*u)), k)
			hh := tanh16(part16(xr, 2*u+j, g).Add(rg.Mul(part16(zr, 2*u+j, g))), k)
			storePart16(z.Mul(part16(hr, j, u)).Add(k.one.Sub(z).Mul(hh)), hr[j:min(j+16, u)])
		}
	}
	archsimd.ClearAVXUpperBits()
}
