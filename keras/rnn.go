package keras

import (
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/kerascope/kerascope/keras/bind"
	"github.com/tidwall/gjson"
)

// The recurrent layers: SimpleRNN, LSTM, GRU, their cells, the generic RNN
// over a cell or StackedRNNCells, and the TF1-era CuDNNLSTM and CuDNNGRU
// (keras/src/layers/rnn/{rnn,simple_rnn,lstm,gru,stacked_rnn_cells}.py;
// tf_keras/src/layers/rnn; keras 2.2 layers/cudnn_recurrent.py).
//
// A recurrent layer is a cell run over time. Weights, with u = units and
// in = the input's last dimension:
//
//	SimpleRNN: kernel (in, u), recurrent_kernel (u, u), bias (u)
//	LSTM:      kernel (in, 4u), recurrent_kernel (u, 4u), bias (4u); gates i, f, c, o
//	GRU:       kernel (in, 3u), recurrent_kernel (u, 3u), bias (2, 3u) when
//	           reset_after, else (3u); gates z, r, h
//	CuDNNLSTM: as LSTM but bias (8u); CuDNNGRU: as GRU but bias (6u): the
//	           input and recurrent biases in one vector
//
// Input (batch, time, in). Output (batch, u), or (batch, time, u) with
// return_sequences; return_state appends the final states, each
// (batch, u): one for SimpleRNN and GRU, two (h and c) for LSTM. Stacked
// cells feed each cell's output to the next and return every cell's states.
//
// The forward pass is in rnn_forward.go.

// cell is one recurrent cell: the step function's weights and state sizes.
type cell struct {
	units      int
	gates      int  // 1 for SimpleRNN, 4 for LSTM, 3 for GRU
	states     int  // state tensors: 2 for LSTM, 1 otherwise
	useBias    bool // a bias of gates*units
	biasRows   int  // 2 for GRU reset_after and CuDNN variants: separate input and recurrent biases
	flatBias   bool // the CuDNN variants store both biases as one vector (2*gates*units)
	activation string
	// recActivation is the gates' activation (LSTM and GRU).
	recActivation string
	// peephole marks tf-keras's PeepholeLSTMCell, whose extra weights
	// kerascope does not model.
	peephole bool
	// packs are the recurrent products packed (recProducts).
	packs atomic.Pointer[recPacks]
}

func decodeCell(d *decoder, gates, states int) *cell {
	c := &cell{
		units:      d.int(0, "units", "output_dim"),
		gates:      gates,
		states:     states,
		useBias:    d.boolean(true, "use_bias"),
		biasRows:   1,
		activation: d.activation("tanh", "activation"),
	}
	if gates > 1 {
		// Keras 1 called it inner_activation; every config records it.
		c.recActivation = d.activation("sigmoid", "recurrent_activation", "inner_activation")
	}
	if d.err == nil && c.units <= 0 {
		d.fail("units", "got %d, want a positive integer", c.units)
	}
	return c
}

func decodeGRUCell(d *decoder) *cell {
	c := decodeCell(d, 3, 1)
	// reset_after defaults to True since Keras 2.3 / TF 2.0, and configs
	// written since always record it; configs that predate it do not, and
	// used the reset-before variant.
	if d.boolean(false, "reset_after") {
		c.biasRows = 2
	}
	return c
}

// build returns the cell's weights for inputs of in features.
func (c *cell) build(in int) []WeightSpec {
	g := c.gates * c.units
	w := []WeightSpec{
		{Name: "kernel", Shape: Shape{in, g}, Trainable: true},
		{Name: "recurrent_kernel", Shape: Shape{c.units, g}, Trainable: true},
	}
	if c.useBias {
		b := Shape{g}
		switch {
		case c.flatBias:
			b = Shape{2 * g}
		case c.biasRows == 2:
			b = Shape{2, g}
		}
		w = append(w, WeightSpec{Name: "bias", Shape: b, Trainable: true})
	}
	return w
}

// buildCells returns the weights of stacked cells on inputs of in
// features: each cell consumes the previous cell's output.
func buildCells(cells []*cell, in int) []WeightSpec {
	var w []WeightSpec
	for _, c := range cells {
		w = append(w, c.build(in)...)
		in = c.units
	}
	return w
}

// cellLayer is a cell used on its own (SimpleRNNCell, LSTMCell, GRUCell):
// one step, input (batch, in), output (batch, u).
type cellLayer struct{ cells []*cell }

func (l *cellLayer) build(in []Shape) ([]WeightSpec, error) {
	if err := wantInputs(in, 1); err != nil {
		return nil, err
	}
	n, err := lastDim(in[0])
	if err != nil {
		return nil, err
	}
	return buildCells(l.cells, n), nil
}

func (l *cellLayer) outputShapes(in []Shape) ([]Shape, error) {
	out := in[0].Clone()
	out[len(out)-1] = l.cells[len(l.cells)-1].units
	return []Shape{out}, nil
}

// rnn runs one cell, or a stack of cells, over the time axis.
type rnn struct {
	cells           []*cell
	returnSequences bool
	returnState     bool
	goBackwards     bool
	// zeroOutput is zero_output_for_mask: masked steps output zeros
	// rather than the previous step's output (Bidirectional forces it on
	// when returning sequences).
	zeroOutput bool
	stateful   bool
	timeMajor  bool // tf-keras LSTM and GRU: inputs (time, batch, features)
}

func decodeRNNOptions(d *decoder, cells ...*cell) *rnn {
	return &rnn{
		cells:           cells,
		returnSequences: d.boolean(false, "return_sequences"),
		returnState:     d.boolean(false, "return_state"),
		goBackwards:     d.boolean(false, "go_backwards"),
		zeroOutput:      d.boolean(false, "zero_output_for_mask"),
		stateful:        d.boolean(false, "stateful"),
		timeMajor:       d.boolean(false, "time_major"),
	}
}

func newSimpleRNN(d *decoder) (layerKind, error) {
	return decodeRNNOptions(d, decodeCell(d, 1, 1)), nil
}

func newLSTM(d *decoder) (layerKind, error) {
	return decodeRNNOptions(d, decodeCell(d, 4, 2)), nil
}

func newGRU(d *decoder) (layerKind, error) {
	return decodeRNNOptions(d, decodeGRUCell(d)), nil
}

// The CuDNN layers have no activation arguments: cuDNN computes tanh and
// sigmoid, and its GRU applies the reset gate after the recurrent product.
func newCuDNNLSTM(d *decoder) (layerKind, error) {
	c := decodeCell(d, 4, 2)
	c.biasRows, c.flatBias = 2, true
	c.useBias = true
	c.activation, c.recActivation = "tanh", "sigmoid"
	return decodeRNNOptions(d, c), nil
}

func newCuDNNGRU(d *decoder) (layerKind, error) {
	c := decodeCell(d, 3, 1)
	c.biasRows, c.flatBias = 2, true
	c.useBias = true
	c.activation, c.recActivation = "tanh", "sigmoid"
	return decodeRNNOptions(d, c), nil
}

func newSimpleRNNCell(d *decoder) (layerKind, error) {
	return &cellLayer{cells: []*cell{decodeCell(d, 1, 1)}}, nil
}

func newLSTMCell(d *decoder) (layerKind, error) {
	return &cellLayer{cells: []*cell{decodeCell(d, 4, 2)}}, nil
}

func newGRUCell(d *decoder) (layerKind, error) {
	return &cellLayer{cells: []*cell{decodeGRUCell(d)}}, nil
}

// newRNN decodes the generic RNN layer, whose config holds a serialized
// cell, a list of cells, or StackedRNNCells.
func newRNN(d *decoder) (layerKind, error) {
	cells, err := decodeCells(d.cfg.Get("cell"), 0)
	if err != nil {
		return nil, fmt.Errorf("config.cell: %w", err)
	}
	return decodeRNNOptions(d, cells...), nil
}

func newStackedRNNCells(d *decoder) (layerKind, error) {
	cells, err := decodeCells(d.cfg.Get("cells"), 0)
	if err != nil {
		return nil, fmt.Errorf("config.cells: %w", err)
	}
	return &cellLayer{cells: cells}, nil
}

// decodeCells reads a serialized cell, a list of them, or StackedRNNCells.
func decodeCells(r gjson.Result, depth int) ([]*cell, error) {
	if depth > maxNesting {
		return nil, formatErrorf("cells nested more than %d deep", maxNesting)
	}
	if r.IsArray() {
		var cells []*cell
		for _, e := range r.Array() {
			c, err := decodeCells(e, depth+1)
			if err != nil {
				return nil, err
			}
			cells = append(cells, c...)
		}
		if len(cells) == 0 {
			return nil, formatErrorf("no cells")
		}
		return cells, nil
	}
	class := r.Get("class_name").String()
	d := &decoder{cfg: r.Get("config")}
	var c *cell
	switch class {
	case "SimpleRNNCell":
		c = decodeCell(d, 1, 1)
	case "LSTMCell", "PeepholeLSTMCell":
		c = decodeCell(d, 4, 2)
		c.peephole = class == "PeepholeLSTMCell"
	case "GRUCell":
		c = decodeGRUCell(d)
	case "StackedRNNCells":
		return decodeCells(d.cfg.Get("cells"), depth+1)
	case "":
		return nil, formatErrorf("got %s, want a serialized cell", short(r.Raw))
	default:
		return nil, unsupportedf("cell class %q", class)
	}
	if d.err != nil {
		return nil, fmt.Errorf("%s: %w", class, d.err)
	}
	return []*cell{c}, nil
}

func (l *rnn) build(in []Shape) ([]WeightSpec, error) {
	if len(in) < 1 {
		return nil, wantInputs(in, 1)
	}
	// Further inputs are initial states or constants; they add no weights.
	if err := wantRank(in[0], 3, 3); err != nil {
		return nil, err
	}
	n, err := lastDim(in[0])
	if err != nil {
		return nil, err
	}
	return buildCells(l.cells, n), nil
}

func (l *rnn) outputShapes(in []Shape) ([]Shape, error) {
	s := in[0]
	units := l.cells[len(l.cells)-1].units
	out := Shape{s[0], units}
	if l.returnSequences {
		out = Shape{s[0], s[1], units}
	}
	outs := []Shape{out}
	if l.returnState {
		for _, c := range l.cells {
			for range c.states {
				outs = append(outs, Shape{s[0], c.units})
			}
		}
	}
	return outs, nil
}

// outputGroups gives tf-keras's nesting of the outputs: with return_state,
// stacked cells return each cell's states as a list of their own when the
// cell has several (an LSTM's h and c).
func (l *rnn) outputGroups() []int {
	if !l.returnState || len(l.cells) < 2 {
		return nil
	}
	groups := []int{1}
	for _, c := range l.cells {
		groups = append(groups, c.states)
	}
	return groups
}

// cellClass names a cell by its gates, as the cell classes do.
func (c *cell) cellClass() string {
	switch c.gates {
	case 1:
		return "SimpleRNNCell"
	case 3:
		return "GRUCell"
	}
	return "LSTMCell"
}

// explain writes a cell's weights on inputs of in features: the input
// weights, the recurrent weights and the biases, then the same total per
// gate and unit: units × (in + units + biases) for each gate.
func (c *cell) explain(in int) ([]Term, string) {
	g := c.gates * c.units
	terms := []Term{
		newTerm("kernel", true, in, g),
		newTerm("recurrent kernel", true, c.units, g),
	}
	per := num(in) + " + " + num(c.units)
	if c.useBias {
		switch {
		case c.flatBias:
			terms = append(terms, newTerm("bias", true, 2, g).noted("input and recurrent biases in one vector"))
		case c.biasRows == 2:
			terms = append(terms, newTerm("bias", true, 2, g).noted("input and recurrent biases"))
		default:
			terms = append(terms, newTerm("bias", true, g))
		}
		per += " + " + strconv.Itoa(c.biasRows)
	}
	factored := num(c.units) + " × (" + per + ")"
	switch {
	case c.gates > 1:
		factored = strconv.Itoa(c.gates) + " gates × " + factored
	case c.units == 1:
		factored = "" // 1 × (…) says nothing the sum does not
	}
	return terms, equation(terms, factored)
}

// explainCells explains one cell, or a stack of cells each fed by the
// previous one, on inputs of n features.
func explainCells(head string, cells []*cell, n int) *formula {
	if len(cells) == 1 {
		terms, body := cells[0].explain(n)
		return &formula{head: head + ", input dim " + num(n), body: body, terms: terms}
	}
	var terms []Term
	parts := make([]string, len(cells))
	counts := make([]string, len(cells))
	for i, c := range cells {
		t, body := c.explain(n)
		label := "cell " + strconv.Itoa(i+1)
		parts[i] = label + " " + c.cellClass() + "(" + num(c.units) + "), input dim " + num(n) + ": " + body
		counts[i] = num(sumTerms(t))
		terms = append(terms, prefixed(label+" ", t)...)
		n = c.units
	}
	body := strings.Join(parts, "; ") + "; " + strings.Join(counts, " + ") + " = " + num(sumTerms(terms))
	return &formula{head: head, body: body, terms: terms}
}

// cellsHead names a layer of cells: "LSTM(64)", "RNN(LSTMCell(8))", "RNN
// of 2 stacked cells".
func cellsHead(class string, cells []*cell) string {
	switch {
	case len(cells) > 1 && class == "StackedRNNCells":
		return class + " of " + strconv.Itoa(len(cells)) + " cells"
	case len(cells) > 1:
		return class + " of " + strconv.Itoa(len(cells)) + " stacked cells"
	}
	c := cells[0]
	if class == "RNN" {
		return "RNN(" + c.cellClass() + "(" + num(c.units) + "))"
	}
	return class + "(" + num(c.units) + ")"
}

func (l *rnn) explain(class string, in []Shape) (*formula, error) {
	if len(in) < 1 {
		return nil, wantInputs(in, 1)
	}
	n, err := lastDim(in[0])
	if err != nil {
		return nil, err
	}
	return explainCells(cellsHead(class, l.cells), l.cells, n), nil
}

func (l *cellLayer) explain(class string, in []Shape) (*formula, error) {
	if err := wantInputs(in, 1); err != nil {
		return nil, err
	}
	n, err := lastDim(in[0])
	if err != nil {
		return nil, err
	}
	return explainCells(cellsHead(class, l.cells), l.cells, n), nil
}

// keras1Layout: Keras 1 stored an LSTM's or GRU's weights as a (W, U, b)
// triple per gate, the LSTM's gates in the order i, c, f, o; each weight
// since joins the gates, i, f, c, o and z, r, h (Keras 2's loader joined
// them: tf_keras saving/legacy/hdf5_format.py).
func (l *rnn) keras1Layout() bind.Keras1 {
	if len(l.cells) != 1 {
		return bind.Keras1{}
	}
	switch l.cells[0].gates {
	case 4:
		return bind.Keras1{Gates: []int{0, 2, 1, 3}}
	case 3:
		return bind.Keras1{Gates: []int{0, 1, 2}}
	}
	return bind.Keras1{}
}

func (l *rnn) isStateful() bool { return l.stateful }
