package keras

import (
	"math/rand"
	"testing"

	"github.com/tidwall/gjson"
)

// unravel returns the multi-index of flat index i in shape.
func unravel(i int, shape []int) []int {
	idx := make([]int, len(shape))
	for a := len(shape) - 1; a >= 0; a-- {
		idx[a] = i % shape[a]
		i /= shape[a]
	}
	return idx
}

// at reads x at a multi-index of a broadcast shape: axes x lacks or has
// as 1 read index 0.
func at(x *Tensor, idx []int) float32 {
	off := len(idx) - len(x.Shape)
	flat := 0
	for a, d := range x.Shape {
		j := idx[off+a]
		if d == 1 {
			j = 0
		}
		flat = flat*d + j
	}
	return x.Data[flat]
}

func TestBroadcastApply(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	for _, tc := range []struct {
		a, b []int
		out  []int
	}{
		{[]int{2, 3}, []int{2, 3}, []int{2, 3}},
		{[]int{2, 3}, nil, []int{2, 3}},
		{nil, []int{4}, []int{4}},
		{[]int{2, 1, 3}, []int{4, 1}, []int{2, 4, 3}},
		{[]int{1}, []int{3, 2}, []int{3, 2}},
	} {
		a, b := NewTensor(tc.a...), NewTensor(tc.b...)
		for _, x := range []*Tensor{a, b} {
			for i := range x.Data {
				x.Data[i] = float32(rng.Intn(3))
			}
		}
		got, err := broadcastApply(a, b, func(x, y float32) float32 { return 10*x + y })
		if err != nil {
			t.Fatal(err)
		}
		if shapeString(got.Shape) != shapeString(tc.out) {
			t.Fatalf("%v op %v: shape %v, want %v", tc.a, tc.b, got.Shape, tc.out)
		}
		for i, v := range got.Data {
			idx := unravel(i, tc.out)
			if want := 10*at(a, idx) + at(b, idx); v != want {
				t.Fatalf("%v op %v: [%v] = %g, want %g", tc.a, tc.b, idx, v, want)
			}
		}
	}
	if _, err := broadcastApply(NewTensor(2, 3), NewTensor(2), func(x, y float32) float32 { return x }); err == nil {
		t.Error("(2, 3) and (2,) broadcast")
	}
}

func TestReduceBool(t *testing.T) {
	rng := rand.New(rand.NewSource(4))
	x := NewTensor(2, 3, 4)
	for i := range x.Data {
		x.Data[i] = float32(rng.Intn(4) / 3) // mostly zeros
	}
	for _, tc := range []struct {
		axes     []int
		keepdims bool
		out      []int
	}{
		{[]int{-1}, false, []int{2, 3}},
		{[]int{1}, true, []int{2, 1, 4}},
		{[]int{0, 2}, false, []int{3}},
		{nil, false, nil},
		{[]int{}, false, []int{2, 3, 4}},
	} {
		for _, all := range []bool{false, true} {
			got, err := reduceBool(x, tc.axes, tc.keepdims, all)
			if err != nil {
				t.Fatal(err)
			}
			if shapeString(got.Shape) != shapeString(tc.out) {
				t.Fatalf("axes %v: shape %v, want %v", tc.axes, got.Shape, tc.out)
			}
			// Reference: every input element votes into the output cell
			// its non-reduced indices name.
			reduced := map[int]bool{}
			for _, a := range tc.axes {
				reduced[(a+3)%3] = true
			}
			want := make([]float32, len(got.Data))
			for i := range want {
				want[i] = bool01(all)
			}
			for i, v := range x.Data {
				idx := unravel(i, x.Shape)
				o := 0
				for a, d := range x.Shape {
					if tc.axes != nil && !reduced[a] {
						o = o*d + idx[a]
					}
				}
				if all && v == 0 {
					want[o] = 0
				}
				if !all && v != 0 {
					want[o] = 1
				}
			}
			sameValues(t, "reduce", got.Data, want, 0)
		}
	}
}

func TestOpsFromCall(t *testing.T) {
	x := &Tensor{Shape: []int{1, 3}, Data: []float32{0, 2, 0}}
	node := &Node{call: gjson.Parse(`{"args": [0, {"class_name": "__keras_tensor__", "config": {}}], "kwargs": {}}`)}
	ne := opRegistry["NotEqual"](gjson.Parse(`{}`))
	c := &call{layer: &Layer{}, node: node, in: []*Tensor{x}, net: &Net{}}
	if err := ne.forward(c); err != nil {
		t.Fatal(err)
	}
	sameValues(t, "NotEqual(0, x)", c.out[0].Data, []float32{0, 1, 0}, 0)
	anyOp := opRegistry["Any"](gjson.Parse(`{"axis": -1, "keepdims": true}`))
	c = &call{layer: &Layer{}, node: node, in: []*Tensor{x}, net: &Net{}}
	if err := anyOp.forward(c); err != nil {
		t.Fatal(err)
	}
	if shapeString(c.out[0].Shape) != "(1, 1)" || c.out[0].Data[0] != 1 {
		t.Errorf("Any: %v %v", c.out[0].Shape, c.out[0].Data)
	}
	if r := opRegistry["Cast"](gjson.Parse(`{"dtype": "complex64"}`)).cannotRun(); r == "" {
		t.Error("a cast to complex64 runs")
	}
}
