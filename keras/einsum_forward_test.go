package keras

import (
	"math"
	"math/rand"
	"testing"
)

// slowEinsum evaluates an equation by summing over every assignment of
// its letters, the definition of einsum.
func slowEinsum(in, ker, out string, x, w *Tensor) *Tensor {
	size := map[byte]int{}
	for i := 0; i < len(in); i++ {
		size[in[i]] = x.Shape[i]
	}
	for i := 0; i < len(ker); i++ {
		size[ker[i]] = w.Shape[i]
	}
	var letters []byte
	for c := range size {
		letters = append(letters, c)
	}
	shape := make([]int, len(out))
	for i := 0; i < len(out); i++ {
		shape[i] = size[out[i]]
	}
	res := NewTensor(shape...)
	val := map[byte]int{}
	index := func(spec string, sh []int) int {
		p := 0
		for i := 0; i < len(spec); i++ {
			p = p*sh[i] + val[spec[i]]
		}
		return p
	}
	var rec func(k int)
	rec = func(k int) {
		if k == len(letters) {
			res.Data[index(out, shape)] += x.Data[index(in, x.Shape)] * w.Data[index(ker, w.Shape)]
			return
		}
		for v := 0; v < size[letters[k]]; v++ {
			val[letters[k]] = v
			rec(k + 1)
		}
	}
	rec(0)
	return res
}

func TestEinsumPlan(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	tests := []struct {
		equation   string
		in, kernel []int
		full       string // the equation with "..." spelled out, for the reference
	}{
		{"ab,bc->ac", []int{3, 4}, []int{4, 5}, "ab,bc->ac"},
		{"abc,cd->abd", []int{2, 3, 4}, []int{4, 5}, "abc,cd->abd"},
		{"abc,cde->abde", []int{2, 3, 4}, []int{4, 2, 3}, "abc,cde->abde"},
		{"abcd,cde->abe", []int{2, 3, 2, 4}, []int{2, 4, 5}, "abcd,cde->abe"},
		{"abc,cd->adb", []int{2, 3, 4}, []int{4, 5}, "abc,cd->adb"},
		{"abc,bcd->abd", []int{2, 3, 4}, []int{3, 4, 5}, "abc,bcd->abd"},
		{"abc,acd->dab", []int{2, 3, 4}, []int{2, 4, 3}, "abc,acd->dab"},
		{"...b,bc->...c", []int{2, 3, 4}, []int{4, 5}, "xyb,bc->xyc"},
		{"ab...,bc->ac...", []int{2, 4, 3}, []int{4, 5}, "abx,bc->acx"},
	}
	for _, tc := range tests {
		eq, ok := parseEinsum(tc.equation)
		if !ok {
			t.Fatalf("%s: does not parse", tc.equation)
		}
		p, err := eq.plan(len(tc.in))
		if err != nil {
			t.Fatalf("%s: %v", tc.equation, err)
		}
		x, w := randTensor(r, tc.in...), randTensor(r, tc.kernel...)
		got, err := p.einsum(x, w)
		if err != nil {
			t.Fatalf("%s: %v", tc.equation, err)
		}
		full, _ := parseEinsum(tc.full)
		want := slowEinsum(full.input, full.kernel, full.output, x, w)
		if !fits(got.Shape, Shape(want.Shape)) {
			t.Fatalf("%s: shape %v, want %v", tc.equation, got.Shape, want.Shape)
		}
		for i := range want.Data {
			if math.Abs(float64(got.Data[i]-want.Data[i])) > 1e-5 {
				t.Fatalf("%s: [%d] = %g, want %g", tc.equation, i, got.Data[i], want.Data[i])
			}
		}
	}
}

func TestBatchDot(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	tests := []struct {
		x, y  []int
		axes  []int
		equat string // the same contraction with a batch letter
	}{
		{[]int{2, 4}, []int{2, 4}, []int{1}, "ab,ab->a"},
		{[]int{2, 3, 4}, []int{2, 5, 4}, []int{2}, "abc,adc->abd"},
		{[]int{2, 4, 3}, []int{2, 4, 5}, []int{1, 1}, "acb,acd->abd"},
		{[]int{2, 3}, []int{2, 3, 5}, []int{1, 1}, "ab,abd->ad"},
	}
	for _, tc := range tests {
		x, y := randTensor(r, tc.x...), randTensor(r, tc.y...)
		got, err := batchDot(x, y, tc.axes, false, false)
		if err != nil {
			t.Fatal(err)
		}
		eq, _ := parseEinsum(tc.equat)
		want := slowEinsum(eq.input, eq.kernel, eq.output, x, y)
		if len(got.Data) != len(want.Data) {
			t.Fatalf("%v·%v: shape %v, want %v", tc.x, tc.y, got.Shape, want.Shape)
		}
		for i := range want.Data {
			if math.Abs(float64(got.Data[i]-want.Data[i])) > 1e-5 {
				t.Fatalf("%v·%v: [%d] = %g, want %g", tc.x, tc.y, i, got.Data[i], want.Data[i])
			}
		}
	}
}
