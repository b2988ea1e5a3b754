package keras

import (
	"math/rand"
	"testing"
)

// TestAttendPathsAgree runs MultiHeadAttention's two ways of attending on
// the same projections where both apply (the attention axes are every axis
// between batch and features, here two of them, with a mask): the heads
// read in place with strides, and the transposed layout that other
// attention axes need. The fixtures check the first against Keras; this
// ties the second to it, outputs and scores.
func TestAttendPathsAgree(t *testing.T) {
	rng := rand.New(rand.NewSource(4))
	l := &multiHeadAttention{heads: 3, keyDim: 4, valueDim: 5}
	const b, t1, t2, s1, s2 = 2, 3, 2, 2, 4
	qp := randTensor(rng, b, t1, t2, l.heads, l.keyDim)
	kp := randTensor(rng, b, s1, s2, l.heads, l.keyDim)
	vp := randTensor(rng, b, s1, s2, l.heads, l.valueDim)
	tq, tk := t1*t2, s1*s2
	keep := make([]bool, b*tq*tk)
	for i := range keep {
		keep[i] = rng.Intn(4) != 0
	}
	for _, legacy := range []bool{false, true} {
		got, gotScores := l.attendInPlace(qp.Data, kp.Data, vp.Data, b, tq, tk, keep, true, legacy)
		outShape := []int{b, t1, t2, l.heads, l.valueDim}
		want, wantScores := l.attendTransposed(qp, kp, vp, 4, []int{1, 2}, nil, outShape, tq, tk, 1, keep, 1, legacy)
		assertClose(t, "output", got, want)
		assertClose(t, "scores", gotScores, wantScores)
		// Without the scores kept, the same output.
		again, none := l.attendInPlace(qp.Data, kp.Data, vp.Data, b, tq, tk, keep, false, legacy)
		if none != nil {
			t.Errorf("attendInPlace returned scores it was not asked for")
		}
		assertClose(t, "output without scores", again, want)
	}
}

func assertClose(t *testing.T, what string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range want {
		if d := float64(got[i] - want[i]); d > 1e-6 || d < -1e-6 {
			t.Fatalf("%s[%d] = %v, want %v", what, i, got[i], want[i])
		}
	}
}
