package keras

import (
	"fmt"

	"github.com/kerascope/kerascope/keras/bind"
)

// ConvLSTM1D, ConvLSTM2D and ConvLSTM3D (keras/src/layers/rnn/conv_lstm.py;
// tf_keras layers/rnn/base_conv_lstm.py): an LSTM whose gates are
// convolutions.
//
// Weights, with k the kernel size, C the input channels and f = filters:
// kernel (*k, C, 4f), recurrent_kernel (*k, f, 4f), bias (4f).
//
// Input (batch, time, *spatial, C), or (batch, time, C, *spatial) with
// channels_first. The input convolution gives the output's spatial size
// (as Conv does); the recurrent one keeps it ("same", stride 1). Output
// (batch, *out, f), with return_sequences (batch, time, *out, f); with
// return_state the states h and c follow, each (batch, *out, f).

type convLSTM struct {
	conv            *conv // kernel, strides, dilation, padding, data_format, filters
	useBias         bool
	returnSequences bool
	returnState     bool
	goBackwards     bool
	// stateful: Keras carries the states from one batch to the next.
	stateful bool
	// zeroOutputForMask gives masked steps zero outputs instead of the
	// previous step's (an RNN argument Keras configs rarely record).
	zeroOutputForMask bool
	activation        string
	// recurrentActivation defaults to Keras 1/2's hard_sigmoid; Keras 3
	// (whose default is sigmoid) always records it.
	recurrentActivation string
}

func newConvLSTM(rank int) func(*decoder) (layerKind, error) {
	return func(d *decoder) (layerKind, error) {
		c := decodeConv(d, plainConv, rank)
		if !c.keras1.Zero() {
			// Keras 1 stored a ConvLSTM2D's weights per gate, its
			// Theano-ordered kernels transposed: not converted.
			c.keras1, c.legacy = bind.Keras1{}, "it is a Keras 1 ConvLSTM2D, whose weights Keras 1 stored per gate in a layout kerascope does not convert"
		}
		return &convLSTM{
			conv:                c,
			useBias:             d.boolean(true, "use_bias"),
			returnSequences:     d.boolean(false, "return_sequences"),
			returnState:         d.boolean(false, "return_state"),
			goBackwards:         d.boolean(false, "go_backwards"),
			stateful:            d.boolean(false, "stateful"),
			zeroOutputForMask:   d.boolean(false, "zero_output_for_mask"),
			activation:          d.activation("tanh", "activation"),
			recurrentActivation: d.activation("hard_sigmoid", "recurrent_activation"),
		}, nil
	}
}

// step drops the time axis, giving the input shape of one convolution.
func (l *convLSTM) step(in []Shape) (Shape, error) {
	if len(in) < 1 {
		return nil, wantInputs(in, 1)
	}
	if err := wantRank(in[0], l.conv.rank+3, l.conv.rank+3); err != nil {
		return nil, err
	}
	s := in[0]
	return append(Shape{s[0]}, s[2:]...), nil
}

func (l *convLSTM) build(in []Shape) ([]WeightSpec, error) {
	st, err := l.step(in)
	if err != nil {
		return nil, err
	}
	c, err := l.conv.inChannels(st)
	if err != nil {
		return nil, err
	}
	f := l.conv.filters
	w := []WeightSpec{
		{Name: "kernel", Shape: append(append(Shape{}, l.conv.kernel...), c, 4*f), Trainable: true},
		{Name: "recurrent_kernel", Shape: append(append(Shape{}, l.conv.kernel...), f, 4*f), Trainable: true},
	}
	if l.useBias {
		w = append(w, WeightSpec{Name: "bias", Shape: Shape{4 * f}, Trainable: true})
	}
	return w, nil
}

func (l *convLSTM) outputShapes(in []Shape) ([]Shape, error) {
	st, err := l.step(in)
	if err != nil {
		return nil, err
	}
	outs, err := l.conv.outputShapes([]Shape{st})
	if err != nil {
		return nil, fmt.Errorf("input convolution: %w", err)
	}
	state := outs[0]
	out := state
	if l.returnSequences {
		out = append(Shape{state[0], in[0][1]}, state[1:]...)
	}
	shapes := []Shape{out}
	if l.returnState {
		shapes = append(shapes, state.Clone(), state.Clone())
	}
	return shapes, nil
}

// explain: an LSTM whose four gates are convolutions, each filter spanning
// the kernel window over the input channels and, recurrently, over the
// filters: 4 gates × filters × (window × (channels + filters) + 1).
func (l *convLSTM) explain(class string, in []Shape) (*formula, error) {
	st, err := l.step(in)
	if err != nil {
		return nil, err
	}
	c, err := l.conv.inChannels(st)
	if err != nil {
		return nil, err
	}
	f := l.conv.filters
	k := l.conv.kernel
	window := dims(k...)
	terms := []Term{
		newTerm("kernel", true, append(append([]int{}, k...), c, 4*f)...),
		newTerm("recurrent kernel", true, append(append([]int{}, k...), f, 4*f)...),
	}
	per := window + "×(" + num(c) + " + " + num(f) + ")"
	if l.useBias {
		terms = append(terms, newTerm("bias", true, 4*f))
		per = "(" + per + " + 1)"
	}
	return &formula{
		head:  fmt.Sprintf("%s(%s, %s), %s in", class, num(f), window, plural(c, "channel")),
		body:  equation(terms, "4 gates × "+num(f)+" × "+per),
		terms: terms,
	}, nil
}

func (l *convLSTM) isStateful() bool { return l.stateful }
