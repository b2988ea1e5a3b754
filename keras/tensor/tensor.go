// Package tensor holds the dense float32 arrays a model consumes and
// produces, and reads and writes them as NumPy .npy, JSON and CSV. The
// readers take untrusted bytes: they bound every size before allocating,
// never unpickle, and are fuzzed.
//
// It is a leaf of the model path: it must not import keras or any other
// package of kerascope, so that a program that only moves tensors (a
// server, a converter) needs nothing else.
package tensor

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

// New returns a zero tensor of the given shape, whose dimensions must not
// be negative (as with make).
func New(shape ...int) *Tensor {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return &Tensor{Shape: append([]int(nil), shape...), Data: make([]float32, n)}
}

// Len returns the number of elements a shape implies, or -1 when a
// dimension is negative or the product exceeds 2^40.
func Len(shape []int) int {
	n := 1
	for _, d := range shape {
		if d < 0 || (d > 0 && n > (1<<40)/d) {
			return -1
		}
		n *= d
	}
	return n
}

// Check reports a tensor whose data does not fill its shape.
func (t *Tensor) Check() error {
	if t == nil {
		return fmt.Errorf("nil tensor")
	}
	if n := Len(t.Shape); n < 0 || n != len(t.Data) {
		return fmt.Errorf("shape %s holds %d values, got %d", ShapeString(t.Shape), n, len(t.Data))
	}
	return nil
}

// Clone returns a copy of t that shares no memory with it.
func (t *Tensor) Clone() *Tensor {
	return &Tensor{Shape: append([]int(nil), t.Shape...), Data: append([]float32(nil), t.Data...)}
}

// Slice returns samples [from, to) of the batch (the first dimension),
// sharing no memory with t.
func (t *Tensor) Slice(from, to int) *Tensor { return t.View(from, to).Clone() }

// View returns samples [from, to) of the batch, sharing t's memory: for
// readers that never write to it.
func (t *Tensor) View(from, to int) *Tensor {
	per := 1
	for _, d := range t.Shape[1:] {
		per *= d
	}
	shape := append([]int{to - from}, t.Shape[1:]...)
	return &Tensor{Shape: shape, Data: t.Data[from*per : to*per : to*per]}
}

// ShapeString formats a shape as Keras prints it, None for a negative
// (free) dimension: "(None, 3)", "(4,)".
func ShapeString(s []int) string {
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
