package keras

// The recurrent layers SimpleRNN, LSTM and GRU
// (keras/src/layers/rnn/{simple_rnn,lstm,gru}.py; tf_keras layers/rnn).
//
// Weights, with u = units and in = the input's last dimension:
//
//	SimpleRNN: kernel (in, u), recurrent_kernel (u, u), bias (u)
//	LSTM:      kernel (in, 4u), recurrent_kernel (u, 4u), bias (4u); gates i, f, c, o
//	GRU:       kernel (in, 3u), recurrent_kernel (u, 3u), bias (2, 3u) when
//	           reset_after, else (3u); gates z, r, h
//
// Input (batch, time, in). Output (batch, u), or (batch, time, u) with
// return_sequences; return_state appends the final states, each (batch, u):
// one for SimpleRNN and GRU, two (h and c) for LSTM.

type rnn struct {
	units           int
	gates           int // 1 for SimpleRNN, 4 for LSTM, 3 for GRU
	states          int // state tensors: 2 for LSTM, 1 otherwise
	useBias         bool
	resetAfter      bool // GRU only: a separate recurrent bias
	returnSequences bool
	returnState     bool
	activation      string
}

func decodeRNN(d *decoder, gates, states int) *rnn {
	l := &rnn{
		units:           d.int(0, "units", "output_dim"),
		gates:           gates,
		states:          states,
		useBias:         d.boolean(true, "use_bias"),
		returnSequences: d.boolean(false, "return_sequences"),
		returnState:     d.boolean(false, "return_state"),
		activation:      d.activation("tanh", "activation"),
	}
	if d.err == nil && l.units <= 0 {
		d.fail("units", "got %d, want a positive integer", l.units)
	}
	return l
}

func newSimpleRNN(d *decoder) (layerKind, error) { return decodeRNN(d, 1, 1), nil }
func newLSTM(d *decoder) (layerKind, error)      { return decodeRNN(d, 4, 2), nil }

func newGRU(d *decoder) (layerKind, error) {
	l := decodeRNN(d, 3, 1)
	// reset_after defaults to True since Keras 2.3 / TF 2.0; configs that
	// predate it do not record it and used the reset-before variant.
	l.resetAfter = d.boolean(false, "reset_after")
	return l, nil
}

func (l *rnn) build(in []Shape) ([]WeightSpec, error) {
	if err := wantInputs(in, 1); err != nil {
		return nil, err
	}
	if err := wantRank(in[0], 3, 3); err != nil {
		return nil, err
	}
	n, err := lastDim(in[0])
	if err != nil {
		return nil, err
	}
	g := l.gates * l.units
	w := []WeightSpec{
		{Name: "kernel", Shape: Shape{n, g}, Trainable: true},
		{Name: "recurrent_kernel", Shape: Shape{l.units, g}, Trainable: true},
	}
	if l.useBias {
		b := Shape{g}
		if l.resetAfter {
			b = Shape{2, g}
		}
		w = append(w, WeightSpec{Name: "bias", Shape: b, Trainable: true})
	}
	return w, nil
}

func (l *rnn) outputShapes(in []Shape) ([]Shape, error) {
	s := in[0]
	out := Shape{s[0], l.units}
	if l.returnSequences {
		out = Shape{s[0], s[1], l.units}
	}
	outs := []Shape{out}
	if l.returnState {
		for range l.states {
			outs = append(outs, Shape{s[0], l.units})
		}
	}
	return outs, nil
}
