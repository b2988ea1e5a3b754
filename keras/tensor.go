package keras

import "github.com/kerascope/kerascope/keras/tensor"

// A Tensor is a dense float32 array in row-major order, the values a model
// consumes and produces (package tensor's, which reads and writes them).
type Tensor = tensor.Tensor

// NewTensor returns a zero tensor of the given shape.
func NewTensor(shape ...int) *Tensor { return tensor.New(shape...) }

func shapeLen(shape []int) int { return tensor.Len(shape) }

func shapeString(s []int) string { return tensor.ShapeString(s) }

// rows returns the tensor viewed as a matrix: the product of all dimensions
// but the last, and the last.
func rows(t *Tensor) (rows, cols int) {
	if len(t.Shape) == 0 {
		return 1, 1
	}
	cols = t.Shape[len(t.Shape)-1]
	if cols == 0 {
		return 0, 0
	}
	return len(t.Data) / cols, cols
}

// A mask marks, per sample and step, which steps of a sequence count, as
// Keras's _keras_mask does: one flag per element of the tensor's shape
// without its last axis. A nil mask keeps every step.
type mask []bool
