//go:build libhdf5

package libh5

import "math"

// float16to32 widens an IEEE 754 binary16 value to float32. Every binary16
// value is exactly representable in float32, so this is exact, including
// subnormals, signed zeros, infinities and NaN payloads (a signalling NaN
// stays signalling, as in NumPy's astype(np.float32)).
func float16to32(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch exp {
	case 0x1f: // Inf or NaN: all-ones exponent, payload moved to the top
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	case 0:
		if mant == 0 {
			return math.Float32frombits(sign) // ±0
		}
		// Subnormal: mant × 2^-24. Shift the leading 1 up to the implicit
		// bit (bit 10); each shift lowers the exponent by one, starting from
		// binary16's smallest normal exponent -14 (biased for float32: 113).
		e := uint32(127 - 14)
		for mant&0x400 == 0 {
			mant <<= 1
			e--
		}
		return math.Float32frombits(sign | e<<23 | (mant&0x3ff)<<13)
	default: // normal: rebias the exponent from 15 to 127
		return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
	}
}

// bfloat16to32 widens a bfloat16 value, which is the top half of a float32.
func bfloat16to32(b uint16) float32 {
	return math.Float32frombits(uint32(b) << 16)
}
