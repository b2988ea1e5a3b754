package keras

import (
	"fmt"

	"github.com/kerascope/kerascope/keras/internal/kernel"
)

// Dense: Keras's core Dense layer (keras/src/layers/core/dense.py).
//
// Weights: kernel (in, units), then bias (units) when use_bias.
// Applies to the last axis: (..., in) -> (..., units).
// Keras 1 spelled units as output_dim.

type dense struct {
	units      int
	useBias    bool
	activation string
	// packed and epi, set only on the load-time copy (pack.go), are the
	// kernel packed for kernel.MulPacked, which batches of at least
	// packedDenseRows rows use (every batch where kernel.PackedRows is
	// set), and the bias and relu moved into the product (then useBias
	// is false); smaller batches multiply the kernel as it is and apply
	// epi after.
	packed *kernel.Packed
	epi    kernel.Epilogue
}

// packedDenseRows is the fewest rows a Dense product runs packed where one
// row does not (kernel.PackedRows): one row (a sample) is a
// matrix-vector product, which BLAS does faster than the 6-row
// micro-kernel.
const packedDenseRows = 4

func newDense(d *decoder) (layerKind, error) {
	l := &dense{
		units:      d.int(0, "units", "output_dim"),
		useBias:    d.boolean(true, "use_bias", "bias"),
		activation: d.activation("linear", "activation"),
	}
	if d.err == nil && l.units <= 0 {
		d.fail("units", "got %d, want a positive integer", l.units)
	}
	return l, nil
}

func (l *dense) build(in []Shape) ([]WeightSpec, error) {
	if err := wantInputs(in, 1); err != nil {
		return nil, err
	}
	n, err := lastDim(in[0])
	if err != nil {
		return nil, err
	}
	w := []WeightSpec{{Name: "kernel", Shape: Shape{n, l.units}, Trainable: true}}
	if l.useBias {
		w = append(w, WeightSpec{Name: "bias", Shape: Shape{l.units}, Trainable: true})
	}
	return w, nil
}

func (l *dense) outputShapes(in []Shape) ([]Shape, error) {
	if err := wantRank(in[0], 2, -1); err != nil {
		return nil, err
	}
	out := in[0].Clone()
	out[len(out)-1] = l.units
	return []Shape{out}, nil
}

// explain: kernel in×units + bias units = units × (in + 1): each unit
// weighs every input and adds its bias.
func (l *dense) explain(class string, in []Shape) (*formula, error) {
	if err := wantInputs(in, 1); err != nil {
		return nil, err
	}
	n, err := lastDim(in[0])
	if err != nil {
		return nil, err
	}
	terms := []Term{newTerm("kernel", true, n, l.units)}
	factored := ""
	if l.useBias {
		terms = append(terms, newTerm("bias", true, l.units))
		if l.units > 1 {
			factored = num(l.units) + " × (" + num(n) + " + 1)"
		}
	}
	return &formula{
		head:  class + "(" + num(l.units) + "), input dim " + num(n),
		body:  equation(terms, factored),
		terms: terms,
	}, nil
}

func (l *dense) forward(c *call) error {
	x := c.in[0]
	rows, n := rows(x)
	out := c.outputLike(x, l.units) // the product (beta 0) writes all of it
	c.out = []*Tensor{out}
	if l.packed != nil && (rows >= packedDenseRows || kernel.PackedRows) {
		if l.packed.K != n {
			return fmt.Errorf("kernel packed for %d inputs, got %d", l.packed.K, n)
		}
		kernel.MulPacked(out.Data, l.units, x.Data, n, rows, l.packed, false, l.epi)
	} else {
		kernel.MatMul(out.Data, x.Data, c.w[0].Data, rows, n, l.units, false)
		l.epi.Apply(out.Data)
	}
	if l.useBias {
		kernel.AddBias(out.Data, c.w[1].Data)
	}
	return c.activate(l.activation, out)
}

func (l *dense) passesMask() bool { return true }

func (l *dense) cannotRun() string { return activationReason(l.activation) }
