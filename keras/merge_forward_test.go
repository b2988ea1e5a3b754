package keras

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/kerascope/kerascope/keras/internal/kernel"
)

// TestMergeBroadcastRows holds the in-place row broadcast of element-wise
// merges (combineRows) to the definition: the smaller input broadcast to
// the output's shape, then combined element by element.
func TestMergeBroadcastRows(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, c := range []struct{ a, b []int }{
		{[]int{2, 3, 4, 5}, []int{2, 1, 1, 5}}, // squeeze-and-excite
		{[]int{2, 3, 4, 5}, []int{1, 3, 1, 5}},
		{[]int{2, 3, 4, 5}, []int{2, 3, 1, 5}},
		{[]int{3, 7}, []int{1, 7}},
		{[]int{2, 3, 9}, []int{2, 1, 9}},
	} {
		for _, op := range []mergeOp{opAdd, opSubtract, opMultiply, opMaximum, opMinimum, opAverage} {
			x, y := NewTensor(c.a...), NewTensor(c.b...)
			for _, t := range []*Tensor{x, y} {
				for i := range t.Data {
					t.Data[i] = float32(r.NormFloat64())
				}
			}
			got, _, err := mergeElemwise(op, []*Tensor{x, y}, nil, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			want := slices.Clone(x.Data)
			full := make([]float32, len(x.Data))
			kernel.Broadcast(full, y.Data, c.b, c.a)
			combine(op, want, full)
			if op == opAverage {
				for i := range want {
					want[i] /= 2
				}
			}
			if !sameBits(got.Data, want) {
				t.Errorf("%v op %d %v: differs from broadcasting then combining", c.a, op, c.b)
			}
		}
	}
}
