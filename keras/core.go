package keras

import (
	"fmt"

	"github.com/kerascope/kerascope/keras/internal/kernel"
)

// Layers that leave their input's shape alone and create no weights:
//
//	Dropout, SpatialDropout1D/2D/3D, GaussianNoise, GaussianDropout,
//	AlphaDropout, ActivityRegularization, Identity, Activation
//
// Sources: keras/src/layers/regularization/*.py, core/identity.py and
// activations/activation.py; tf_keras layers/regularization and noise.py;
// Keras 1 layers/core.py and noise.py.
//
// All of them compute f(x) elementwise (or nothing at all at inference), so
// the output shape is the input shape and they have no weights. The
// dropouts and noises only act in training: rate, stddev (Keras 1: p,
// sigma) and ActivityRegularization's l1 and l2 are read only to reject
// values Keras rejects; noise_shape and seed are ignored.
// Identity passes through whatever it is called on, even several tensors;
// the others take exactly one. SpatialDropoutND checks the rank Keras's
// InputSpec demands (N+2). Activation keeps its function name for the
// forward pass; an unknown name is a custom function, which Keras loads only
// with custom_objects, so it is kept rather than rejected.

// passThrough is every layer here except Activation.
type passThrough struct {
	rank int // the input rank Keras requires, 0 for any
	many bool
}

// newDropout returns the constructor of a dropout layer of the given input
// rank (0: any). The rate only matters in training; Keras rejects one
// outside [0, 1].
func newDropout(rank int) func(*decoder) (layerKind, error) {
	return func(d *decoder) (layerKind, error) {
		r := scalar(d, 0, "rate", "p")
		if d.err == nil && (r < 0 || r > 1) {
			_, k := d.lookup("rate", "p")
			d.fail(k, "got %g, want a number between 0 and 1", r)
		}
		return passThrough{rank: rank}, nil
	}
}

func newGaussianNoise(d *decoder) (layerKind, error) {
	s := scalar(d, 0, "stddev", "sigma")
	if d.err == nil && s < 0 {
		_, k := d.lookup("stddev", "sigma")
		d.fail(k, "got %g, want a non-negative number", s)
	}
	return passThrough{}, nil
}

func newIdentity(*decoder) (layerKind, error) { return passThrough{many: true}, nil }

func newActivityRegularization(d *decoder) (layerKind, error) {
	// l1 and l2 only add a loss in training.
	scalar(d, 0, "l1")
	scalar(d, 0, "l2")
	return passThrough{}, nil
}

func (passThrough) build([]Shape) ([]WeightSpec, error) { return nil, nil }

func (l passThrough) outputShapes(in []Shape) ([]Shape, error) {
	if !l.many {
		if err := wantInputs(in, 1); err != nil {
			return nil, err
		}
	}
	if l.rank > 0 {
		if err := wantRank(in[0], l.rank, l.rank); err != nil {
			return nil, err
		}
	}
	out := make([]Shape, len(in))
	for i, s := range in {
		out[i] = s.Clone()
	}
	return out, nil
}

// activationLayer is Keras's Activation layer.
type activationLayer struct {
	fn string
}

func newActivation(d *decoder) (layerKind, error) {
	return activationLayer{fn: d.activation("linear", "activation")}, nil
}

func (activationLayer) build([]Shape) ([]WeightSpec, error) { return nil, nil }

// outputShapes is the input's shape, as Keras's Activation.compute_output_shape
// says even for glu, whose real output halves the last axis: the summary
// shows Keras's figure, the forward pass computes the real tensor.
func (activationLayer) outputShapes(in []Shape) ([]Shape, error) {
	return sameShape(in)
}

// sameShape is the output of a one-input layer that keeps its input's shape.
func sameShape(in []Shape) ([]Shape, error) {
	if err := wantInputs(in, 1); err != nil {
		return nil, err
	}
	return []Shape{in[0].Clone()}, nil
}

func (passThrough) explain(string, []Shape) (*formula, error)     { return noWeights(""), nil }
func (activationLayer) explain(string, []Shape) (*formula, error) { return noWeights(""), nil }

// At inference the dropouts, noises and regularizers return their input;
// tensors are never written in place, so the input itself is the output.
func (passThrough) forward(c *call) error {
	c.out = append([]*Tensor(nil), c.in...)
	c.outMasks = append([]mask(nil), c.masks...)
	return nil
}

func (l activationLayer) forward(c *call) error {
	if l.fn == "glu" {
		return glu(c)
	}
	out := c.ar.output(c.in[0].Shape...)
	copy(out.Data, c.in[0].Data)
	c.out = []*Tensor{out}
	return c.activate(l.fn, out)
}

// glu is keras.activations.glu on the last axis: a · sigmoid(b), where a
// and b are the first and second halves of each row.
func glu(c *call) error {
	x := c.in[0]
	rows, n := rows(x)
	if n%2 != 0 {
		return fmt.Errorf("glu needs an even last dimension, got %d", n)
	}
	h := n / 2
	out := newLike(x, h)
	for r := 0; r < rows; r++ {
		in, o := x.Data[r*n:(r+1)*n], out.Data[r*h:(r+1)*h]
		copy(o, in[h:])
		kernel.FastSigmoid(o)
		for j := range o {
			o[j] *= in[j]
		}
	}
	c.out = []*Tensor{out}
	return nil
}

func (activationLayer) passesMask() bool { return true }

// cannotRun: an activation Keras does not define is a custom function.
func (l activationLayer) cannotRun() string {
	if l.fn == "glu" {
		return ""
	}
	return activationReason(l.fn)
}
