//go:build amd64 && !purego

package micro

import "testing"

// TestRowWithoutAVX512 runs TestRow as on a CPU with AVX2 but not
// AVX-512 (CI's may be one): Row then goes through kernel6x16 and must
// still give Kernel's bits.
func TestRowWithoutAVX512(t *testing.T) {
	if !haveFMA {
		t.Skip("no AVX2 and FMA: Row and Kernel are both Go")
	}
	defer func(v bool) { haveAVX512 = v }(haveAVX512)
	haveAVX512 = false
	testRow(t)
}
