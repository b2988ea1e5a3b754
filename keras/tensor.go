package keras

import (
	"fmt"
	"strconv"
	"strings"
)

// A Tensor is a dense float32 array in row-major order, the values a model
// consumes and produces. Integer inputs (token ids for an Embedding) are
// given as their float32 values, as Keras casts them.
type Tensor struct {
	Shape []int
	Data  []float32
}

// NewTensor returns a zero tensor of the given shape, whose dimensions must
// not be negative (as with make).
func NewTensor(shape ...int) *Tensor {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return &Tensor{Shape: append([]int(nil), shape...), Data: make([]float32, n)}
}

// shapeLen returns the number of elements a shape implies, or -1 when a
// dimension is negative or the product exceeds 2^40.
func shapeLen(shape []int) int {
	n := 1
	for _, d := range shape {
		if d < 0 || (d > 0 && n > (1<<40)/d) {
			return -1
		}
		n *= d
	}
	return n
}

// check reports a tensor whose data does not fill its shape.
func (t *Tensor) check() error {
	if t == nil {
		return fmt.Errorf("nil tensor")
	}
	if n := shapeLen(t.Shape); n < 0 || n != len(t.Data) {
		return fmt.Errorf("shape %s holds %d values, got %d", shapeString(t.Shape), n, len(t.Data))
	}
	return nil
}

// rows returns the tensor viewed as a matrix: the product of all dimensions
// but the last, and the last.
func (t *Tensor) rows() (rows, cols int) {
	if len(t.Shape) == 0 {
		return 1, 1
	}
	cols = t.Shape[len(t.Shape)-1]
	if cols == 0 {
		return 0, 0
	}
	return len(t.Data) / cols, cols
}

// Slice returns samples [from, to) of the batch, sharing no memory with t.
func (t *Tensor) Slice(from, to int) *Tensor { return t.view(from, to).clone() }

func shapeString(s []int) string {
	parts := make([]string, len(s))
	for i, d := range s {
		if d < 0 {
			parts[i] = "None"
		} else {
			parts[i] = strconv.Itoa(d)
		}
	}
	if len(s) == 1 {
		return "(" + parts[0] + ",)"
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// A mask marks, per sample and step, which steps of a sequence count, as
// Keras's _keras_mask does: one flag per element of the tensor's shape
// without its last axis. A nil mask keeps every step.
type mask []bool

// clone returns a copy of t that shares no memory with it.
func (t *Tensor) clone() *Tensor {
	return &Tensor{Shape: append([]int(nil), t.Shape...), Data: append([]float32(nil), t.Data...)}
}
