package keras

import (
	"fmt"
	"math"

	"github.com/tidwall/gjson"
)

// TensorFlow functions that move or reduce elements: reductions, concat
// and stack, expand_dims, squeeze, reshape, transpose (tfop.go).

// reduceAxes reads a reduction's axis: every axis when absent.
func reduceAxes(c *tfCall, rank int) ([]bool, error) {
	red := make([]bool, rank)
	v := c.arg("axis").value
	if !v.Exists() || v.Type == gjson.Null {
		for i := range red {
			red[i] = true
		}
		return red, nil
	}
	axes, ok := intList(v)
	if !ok {
		return nil, formatErrorf("axis %s: want integers", short(v.Raw))
	}
	for _, a := range axes {
		a, err := normAxis(a, rank)
		if err != nil {
			return nil, err
		}
		red[a] = true
	}
	return red, nil
}

func reduceShape(c *tfCall, in []Shape) ([]Shape, error) {
	x, err := argShape(c.first, in)
	if err != nil {
		return nil, err
	}
	red, err := reduceAxes(c, len(x))
	if err != nil {
		return nil, err
	}
	keep := c.arg("keepdims").value.Bool()
	out := Shape{}
	for i, d := range x {
		switch {
		case !red[i]:
			out = append(out, d)
		case keep:
			out = append(out, 1)
		}
	}
	return []Shape{out}, nil
}

func reduceEval(kind string) func(c *tfCall, in []*Tensor) ([]*Tensor, error) {
	return func(c *tfCall, in []*Tensor) ([]*Tensor, error) {
		x, err := tfTensor(c.first, in)
		if err != nil {
			return nil, err
		}
		red, err := reduceAxes(c, len(x.Shape))
		if err != nil {
			return nil, err
		}
		var shape []int
		for i, d := range x.Shape {
			if red[i] {
				d = 1
			}
			shape = append(shape, d)
		}
		acc := make([]float64, shapeLen(shape))
		init := 0.0
		switch kind {
		case "max":
			init = math.Inf(-1)
		case "min":
			init = math.Inf(1)
		}
		for i := range acc {
			acc[i] = init
		}
		rank := len(x.Shape)
		so := make([]int, rank)
		stride := 1
		for i := rank - 1; i >= 0; i-- {
			if !red[i] {
				so[i] = stride
			}
			stride *= shape[i]
		}
		idx := make([]int, rank)
		o := 0
		for _, v := range x.Data {
			switch kind {
			case "sum", "mean":
				acc[o] += float64(v)
			case "max":
				acc[o] = math.Max(acc[o], float64(v))
			case "min":
				acc[o] = math.Min(acc[o], float64(v))
			}
			for ax := rank - 1; ax >= 0; ax-- {
				idx[ax]++
				o += so[ax]
				if idx[ax] < x.Shape[ax] {
					break
				}
				o -= so[ax] * x.Shape[ax]
				idx[ax] = 0
			}
		}
		n := 1
		for i, d := range x.Shape {
			if red[i] {
				n *= d
			}
		}
		s, err := reduceShape(c, []Shape{Shape(x.Shape)})
		if err != nil {
			return nil, err
		}
		out := NewTensor(s[0]...)
		for i, v := range acc {
			if kind == "mean" {
				v /= float64(n)
			}
			out.Data[i] = float32(v)
		}
		return []*Tensor{out}, nil
	}
}

// listArgs returns the tensors of a list argument (concat's values).
func listArgs(a tfArg) ([]tfArg, error) {
	if !a.isList {
		return nil, formatErrorf("want a list of tensors")
	}
	return a.list, nil
}

func concatShape(stack bool) func(c *tfCall, in []Shape) ([]Shape, error) {
	return func(c *tfCall, in []Shape) ([]Shape, error) {
		items, err := listArgs(c.first)
		if err != nil || len(items) == 0 {
			return nil, err
		}
		var shapes []Shape
		for _, it := range items {
			s, err := argShape(it, in)
			if err != nil {
				return nil, err
			}
			shapes = append(shapes, s)
		}
		rank := len(shapes[0])
		def := 0
		if stack {
			rank++
		}
		ax, err := axisArg(c, "axis", def, rank)
		if err != nil {
			return nil, err
		}
		out := shapes[0].Clone()
		if stack {
			out = append(out[:ax:ax], append(Shape{len(shapes)}, shapes[0][ax:]...)...)
			return []Shape{out}, nil
		}
		for _, s := range shapes[1:] {
			if len(s) != rank {
				return nil, formatErrorf("concat of ranks %d and %d", rank, len(s))
			}
			if out[ax] == None || s[ax] == None {
				out[ax] = None
			} else {
				out[ax] += s[ax]
			}
			for i := range out {
				if i != ax && out[i] == None {
					out[i] = s[i]
				}
			}
		}
		return []Shape{out}, nil
	}
}

func concatEval(stack bool) func(c *tfCall, in []*Tensor) ([]*Tensor, error) {
	return func(c *tfCall, in []*Tensor) ([]*Tensor, error) {
		items, err := listArgs(c.first)
		if err != nil {
			return nil, err
		}
		var ts []*Tensor
		for _, it := range items {
			t, err := tfTensor(it, in)
			if err != nil {
				return nil, err
			}
			if stack { // stack is concat of each with a new axis
				t = &Tensor{Shape: t.Shape, Data: t.Data}
			}
			ts = append(ts, t)
		}
		if len(ts) == 0 {
			return nil, fmt.Errorf("no tensors")
		}
		rank := len(ts[0].Shape)
		if stack {
			rank++
		}
		ax, err := axisArg(c, "axis", 0, rank)
		if err != nil {
			return nil, err
		}
		if stack {
			for i, t := range ts {
				s := append(append(append([]int{}, t.Shape[:ax]...), 1), t.Shape[ax:]...)
				ts[i] = &Tensor{Shape: s, Data: t.Data}
			}
		}
		out, err := concatTensors(ts, ax)
		return []*Tensor{out}, err
	}
}

func expandDimsShape(c *tfCall, in []Shape) ([]Shape, error) {
	x, err := argShape(c.first, in)
	if err != nil {
		return nil, err
	}
	ax, err := axisArg(c, "axis", 0, len(x)+1)
	if err != nil {
		return nil, err
	}
	out := append(append(append(Shape{}, x[:ax]...), 1), x[ax:]...)
	return []Shape{out}, nil
}

func squeezeShape(c *tfCall, in []Shape) ([]Shape, error) {
	x, err := argShape(c.first, in)
	if err != nil {
		return nil, err
	}
	drop := make([]bool, len(x))
	v := c.arg("axis").value
	if !v.Exists() || v.Type == gjson.Null {
		for i, d := range x {
			drop[i] = d == 1
		}
	} else {
		axes, ok := intList(v)
		if !ok {
			return nil, formatErrorf("axis %s: want integers", short(v.Raw))
		}
		for _, a := range axes {
			a, err := normAxis(a, len(x))
			if err != nil {
				return nil, err
			}
			if x[a] != 1 && x[a] != None {
				return nil, formatErrorf("cannot squeeze dimension %d of %s", a, x)
			}
			drop[a] = true
		}
	}
	out := Shape{}
	for i, d := range x {
		if !drop[i] {
			out = append(out, d)
		}
	}
	return []Shape{out}, nil
}

func reshapeShape(c *tfCall, in []Shape) ([]Shape, error) {
	x, err := argShape(c.first, in)
	if err != nil {
		return nil, err
	}
	dims, ok := intList(c.arg("shape").value)
	if !ok {
		return nil, formatErrorf("shape %s: want integers", short(c.arg("shape").value.Raw))
	}
	size, known := x.Size()
	out := Shape(append([]int(nil), dims...))
	free, prod := -1, 1
	for i, d := range out {
		if d == -1 {
			free = i
		} else {
			prod *= d
		}
	}
	if free >= 0 {
		out[free] = None
		if known && prod > 0 {
			out[free] = int(size) / prod
		}
	}
	return []Shape{out}, nil
}

// reshapeEval runs a reshaping op: the data stays, the shape is the one
// inferred for the concrete input.
func reshapeEval(shape func(*tfCall, []Shape) ([]Shape, error)) func(c *tfCall, in []*Tensor) ([]*Tensor, error) {
	return func(c *tfCall, in []*Tensor) ([]*Tensor, error) {
		x, err := tfTensor(c.first, in)
		if err != nil {
			return nil, err
		}
		shapes := make([]Shape, len(in))
		for i, t := range in {
			shapes[i] = Shape(t.Shape)
		}
		s, err := shape(c, shapes)
		if err != nil {
			return nil, err
		}
		if n, ok := s[0].Size(); !ok || int(n) != len(x.Data) {
			return nil, fmt.Errorf("cannot reshape %s to %s", shapeString(x.Shape), s[0])
		}
		return []*Tensor{{Shape: []int(s[0].Clone()), Data: append([]float32(nil), x.Data...)}}, nil
	}
}

func transposePerm(c *tfCall, rank int) ([]int, error) {
	v := c.arg("perm").value
	if !v.Exists() || v.Type == gjson.Null {
		p := make([]int, rank)
		for i := range p {
			p[i] = rank - 1 - i
		}
		return p, nil
	}
	p, ok := intList(v)
	if !ok || len(p) != rank {
		return nil, formatErrorf("perm %s for rank %d", short(v.Raw), rank)
	}
	seen := make([]bool, rank)
	for i, a := range p {
		a, err := normAxis(a, rank)
		if err != nil || seen[a] {
			return nil, formatErrorf("perm %s is not a permutation", short(v.Raw))
		}
		seen[a], p[i] = true, a
	}
	return p, nil
}

func transposeShape(c *tfCall, in []Shape) ([]Shape, error) {
	x, err := argShape(c.first, in)
	if err != nil {
		return nil, err
	}
	p, err := transposePerm(c, len(x))
	if err != nil {
		return nil, err
	}
	out := make(Shape, len(x))
	for i, a := range p {
		out[i] = x[a]
	}
	return []Shape{out}, nil
}

func transposeEval(c *tfCall, in []*Tensor) ([]*Tensor, error) {
	x, err := tfTensor(c.first, in)
	if err != nil {
		return nil, err
	}
	rank := len(x.Shape)
	p, err := transposePerm(c, rank)
	if err != nil {
		return nil, err
	}
	shape := make([]int, rank)
	for i, a := range p {
		shape[i] = x.Shape[a]
	}
	strides := make([]int, rank)
	s := 1
	for i := rank - 1; i >= 0; i-- {
		strides[i] = s
		s *= x.Shape[i]
	}
	// src stride of each output axis
	ss := make([]int, rank)
	for i, a := range p {
		ss[i] = strides[a]
	}
	out := NewTensor(shape...)
	idx := make([]int, rank)
	src := 0
	for o := range out.Data {
		out.Data[o] = x.Data[src]
		for ax := rank - 1; ax >= 0; ax-- {
			idx[ax]++
			src += ss[ax]
			if idx[ax] < shape[ax] {
				break
			}
			src -= ss[ax] * shape[ax]
			idx[ax] = 0
		}
	}
	return []*Tensor{out}, nil
}
