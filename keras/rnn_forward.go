package keras

import (
	"fmt"
	"strings"

	"github.com/kerascope/kerascope/keras/bind"
	"github.com/kerascope/kerascope/keras/internal/kernel"
)

// The recurrent layers' forward pass, as Keras's RNN layer computes it
// (keras/src/layers/rnn/rnn.py with backend.rnn; tf_keras backend.rnn):
//
//   - the cell runs over the time steps, from the last one back with
//     go_backwards; its states start at zero or at the initial_state
//     inputs;
//   - at a masked step every state keeps its previous value and the output
//     is the previous step's output (zeros before the first one), or zeros
//     with zero_output_for_mask;
//   - return_sequences returns the output of every step in the order the
//     steps ran (reversed with go_backwards; Keras does not flip it back),
//     else the last step's; return_state appends the final states.
//
// Each cell's input projections for all time steps come from one GEMM
// (batch×time rows by the kernel); each step then multiplies the batch's
// states by the recurrent kernel. Stacked cells run one after the other
// over the whole sequence: a cell's states only depend on its inputs and
// the mask, and at a masked step everything a cell computes is discarded,
// so this equals Keras's step-by-step interleaving.
//
// Every Predict starts from zero states (or the given initial states),
// stateful layers included: this is what a freshly loaded stateful Keras
// model computes on its first batch, and a Net keeps no state between
// calls.

func (l *rnn) cannotRun() string {
	if l.timeMajor {
		return "time_major=True (inputs with time first) is not supported"
	}
	for _, c := range l.cells {
		if r := c.cannotRun(); r != "" {
			return r
		}
	}
	return ""
}

func (c *cell) cannotRun() string {
	if c.peephole {
		return "PeepholeLSTMCell's peephole weights have no native implementation"
	}
	if r := activationReason(c.activation); r != "" {
		return r
	}
	if c.gates > 1 {
		if r := activationReason(c.recActivation); r != "" {
			return strings.Replace(r, "its activation", "its recurrent activation", 1)
		}
	}
	return ""
}

func (l *rnn) forward(c *call) error {
	x := c.in[0]
	// Keras 3 passes initial states by keyword; tf-keras lists them after
	// the sequence among the call's inputs.
	init := append(append([]*Tensor(nil), c.kwarg("initial_state")...), c.in[1:]...)
	var m mask
	if len(c.masks) > 0 {
		m = c.masks[0]
	}
	out, err := l.run(c.ar, c.net.legacy, x, m, init, c.w, l.zeroOutput)
	if err != nil {
		return err
	}
	c.out = out
	c.outMasks = make([]mask, len(out))
	if l.returnSequences {
		c.outMasks[0] = m
	}
	return nil
}

// numStates counts the state tensors of all cells.
func (l *rnn) numStates() int {
	n := 0
	for _, c := range l.cells {
		n += c.states
	}
	return n
}

// run computes the layer's outputs: the output sequence or last output,
// then with return_state the final states of every cell.
func (l *rnn) run(ar *arena, legacy bool, x *Tensor, m mask, init []*Tensor, w []*Tensor, zeroOutput bool) ([]*Tensor, error) {
	if len(x.Shape) != 3 {
		return nil, fmt.Errorf("input shape %s, want (batch, time, features)", shapeString(x.Shape))
	}
	batch, steps, features := x.Shape[0], x.Shape[1], x.Shape[2]
	if steps == 0 {
		return nil, fmt.Errorf("input shape %s: no time steps", shapeString(x.Shape))
	}
	if n := l.numStates(); len(init) != 0 && len(init) != n {
		return nil, fmt.Errorf("got %d initial states, want %d", len(init), n)
	}
	// keep[s*batch+b] says whether step s (in the order the steps run)
	// counts for sample b.
	var keep []bool
	if m != nil {
		if len(m) != batch*steps {
			return nil, fmt.Errorf("mask of %d values for %d samples of %d steps", len(m), batch, steps)
		}
		keep = make([]bool, len(m))
		for b := 0; b < batch; b++ {
			for s := 0; s < steps; s++ {
				t := s
				if l.goBackwards {
					t = steps - 1 - s
				}
				keep[s*batch+b] = m[b*steps+t]
			}
		}
	}
	in, inFeatures, reversed := x.Data, features, l.goBackwards
	var seq []float32
	var states []*Tensor
	var lastH *Tensor // the last cell's final h
	for i, cl := range l.cells {
		nw := cl.numWeights()
		if len(w) < nw {
			return nil, fmt.Errorf("cell %d: %d weights left, want %d", i, len(w), nw)
		}
		var cellInit []*Tensor
		if len(init) > 0 {
			cellInit, init = init[:cl.states], init[cl.states:]
		}
		var st []*Tensor
		var err error
		// The last cell's outputs but the last are not needed unless the
		// layer returns them (or a mask may hold the last one back).
		needSeq := l.returnSequences || i < len(l.cells)-1 || keep != nil
		seq, st, err = cl.run(ar, legacy, w[:nw], in, batch, steps, inFeatures, reversed, keep, zeroOutput, cellInit, needSeq)
		if err != nil {
			if len(l.cells) > 1 {
				err = fmt.Errorf("cell %d: %w", i, err)
			}
			return nil, err
		}
		w = w[nw:]
		states = append(states, st...)
		lastH = st[0]
		// The next cell reads this one's outputs, which are in step order.
		in, inFeatures, reversed = seq, cl.units, false
	}
	units := l.cells[len(l.cells)-1].units
	var out *Tensor
	if l.returnSequences {
		out = &Tensor{Shape: []int{batch, steps, units}, Data: seq}
	} else if seq == nil {
		// Without a mask the last output is the last cell's final h.
		out = ar.output(batch, units)
		copy(out.Data, lastH.Data)
	} else {
		out = ar.output(batch, units)
		for b := 0; b < batch; b++ {
			copy(out.Data[b*units:(b+1)*units], seq[(b*steps+steps-1)*units:])
		}
	}
	outs := []*Tensor{out}
	if l.returnState {
		outs = append(outs, states...)
	}
	return outs, nil
}

// numWeights is the number of weight tensors the cell owns.
func (c *cell) numWeights() int {
	if c.useBias {
		return 3
	}
	return 2
}

// run runs one cell over a sequence x (batch, steps, features), read
// backwards when reversed, and returns its outputs (batch, steps, units) in
// step order (nil unless needSeq: the caller then reads the final state)
// and its final states. Outputs come from ar.
func (c *cell) run(ar *arena, legacy bool, w []*Tensor, x []float32, batch, steps, features int, reversed bool, keep []bool, zeroOutput bool, init []*Tensor, needSeq bool) ([]float32, []*Tensor, error) {
	u := c.units
	g := c.gates * u
	for i, t := range w {
		if t == nil {
			return nil, nil, fmt.Errorf("weight %d is not a float tensor", i)
		}
	}
	kern, recKern := w[0].Data, w[1].Data
	if len(kern) != features*g {
		return nil, nil, fmt.Errorf("kernel holds %d values, want %d×%d for inputs of %d features", len(kern), features, g, features)
	}
	if len(recKern) != u*g {
		return nil, nil, fmt.Errorf("recurrent kernel holds %d values, want %d×%d", len(recKern), u, g)
	}
	var biasIn, biasRec []float32
	if c.useBias {
		b := w[2].Data
		if len(b) != c.biasRows*g {
			return nil, nil, fmt.Errorf("bias holds %d values, want %d", len(b), c.biasRows*g)
		}
		biasIn = b[:g]
		if c.biasRows == 2 {
			biasRec = b[g:]
		}
	}
	act := activationFn(c.activation, legacy)
	if act == nil {
		return nil, nil, fmt.Errorf("activation %q: %w", c.activation, errNotRunnable)
	}
	// Keras's default activations run fused into one vectorized pass
	// over each step's gates (the same bits as the generic step).
	fused := c.activation == "tanh" && c.recActivation == "sigmoid"
	recAct := act
	if c.gates > 1 {
		if recAct = activationFn(c.recActivation, legacy); recAct == nil {
			return nil, nil, fmt.Errorf("recurrent activation %q: %w", c.recActivation, errNotRunnable)
		}
	}

	// Input projections of every step, with the input bias; CuDNNLSTM's
	// recurrent bias adds in the same place, as nothing multiplies it.
	// (From the scratch pool: a batch's projections are megabytes, and
	// garbage at every call would let the heap grow to twice its size.)
	projBuf := getScratch(batch * steps * g)
	defer putScratch(projBuf)
	proj := *projBuf
	kernel.MatMul(proj, x, kern, batch*steps, features, g, false)
	if biasIn != nil {
		kernel.AddBias(proj, biasIn)
	}
	if c.gates == 4 && biasRec != nil {
		kernel.AddBias(proj, biasRec)
	}

	states := make([]*Tensor, c.states)
	for i := range states {
		states[i] = NewTensor(batch, u)
		if len(init) > 0 {
			s := init[i]
			if len(s.Data) != batch*u {
				return nil, nil, fmt.Errorf("initial state %d has shape %s, want (%d, %d)", i, shapeString(s.Shape), batch, u)
			}
			copy(states[i].Data, s.Data)
		}
	}
	h := states[0].Data
	var seq []float32
	if needSeq {
		seq = ar.tensor(batch, steps, u).Data
	}
	ld := steps * g // row stride of one step's projections
	var rec, rh, hrec []float32
	resetBefore := c.gates == 3 && c.biasRows == 1
	if resetBefore {
		rec = make([]float32, batch*2*u)
		rh = make([]float32, batch*u)
		hrec = make([]float32, batch*u)
	} else {
		rec = make([]float32, batch*g)
	}
	// The recurrent kernel multiplies the state at every step.
	recAll, recZ, recC := c.recProducts(recKern, batch)
	for s := 0; s < steps; s++ {
		t := s
		if reversed {
			t = steps - 1 - s
		}
		xs := proj[t*g:]
		var k []bool
		if keep != nil {
			k = keep[s*batch : (s+1)*batch]
		}
		switch {
		case c.gates == 1:
			recAll.mul(rec, h, batch, false)
			kernel.SimpleRNNStep(h, xs, ld, rec, batch, u, k, act)
		case c.gates == 4:
			recAll.mul(rec, h, batch, false)
			if fused {
				kernel.LSTMSigmoidTanh(h, states[1].Data, xs, ld, rec, batch, u, k)
			} else {
				kernel.LSTMStep(h, states[1].Data, xs, ld, rec, batch, u, k, act, recAct)
			}
		case resetBefore:
			recZ.mul(rec, h, batch, false)
			kernel.GRUResetBefore(rh, h, xs, ld, rec, batch, u, recAct)
			recC.mul(hrec, rh, batch, false)
			kernel.GRUCandidate(h, xs[2*u:], ld, rec, hrec, batch, u, k, act)
		default: // GRU, reset after
			add := false
			if biasRec != nil {
				for b := 0; b < batch; b++ {
					copy(rec[b*g:(b+1)*g], biasRec)
				}
				add = true
			}
			recAll.mul(rec, h, batch, add)
			if fused {
				kernel.GRUSigmoidTanh(h, xs, ld, rec, batch, u, k)
			} else {
				kernel.GRUStep(h, xs, ld, rec, batch, u, k, act, recAct)
			}
		}
		for b := 0; b < batch && seq != nil; b++ {
			dst := seq[(b*steps+s)*u : (b*steps+s+1)*u]
			switch {
			case k == nil || k[b]:
				copy(dst, h[b*u:(b+1)*u])
			case !zeroOutput && s > 0:
				copy(dst, seq[(b*steps+s-1)*u:(b*steps+s)*u])
			}
		}
	}
	return seq, states, nil
}

// sublayers: the stacked cells are the list attribute cells of the
// layer's cell, each saved under a name from its class; the layer creates
// them in stack order, HDF5 lists them by name.
func (l *rnn) sublayers() []string {
	if len(l.cells) < 2 {
		return nil
	}
	classes := make([]string, len(l.cells))
	for i, c := range l.cells {
		classes[i] = c.cellClass()
	}
	out := bind.ListNames(classes)
	for i := range out {
		out[i] = "cell/cells/" + out[i]
	}
	return out
}

// A recProduct is the product of a state (batch × k) with a recurrent
// kernel (k × n, row stride ldb), run at every step: through the kernel
// packed (kernel.MulPacked) when the batch has enough rows for the
// micro-kernel or the CPU runs one row packed (kernel.PackedRows), else
// through Gemm (one sample: a matrix-vector product).
type recProduct struct {
	packed    *kernel.Packed
	kern      []float32
	k, n, ldb int
}

// recPackRows is the smallest batch whose steps run packed where a row
// alone does not (kernel.PackedRows).
const recPackRows = 12

// recPacks are a cell's recurrent products packed, and the kernel they
// were packed from.
type recPacks struct {
	src           *float32
	all, zr, cand recProduct
}

// recProducts returns the recurrent products of the kernel recKern (u ×
// gates·u): the whole kernel (all), or for a GRU that resets before its
// product, the update and reset gates' columns (zr) and the candidate's
// (cand). Packed ones are made at the first call that runs them packed
// and kept on the cell for the next calls with the same kernel: made at
// every call, a 128-unit LSTM's and GRU's (450 KB) took a third of a
// 50-step sample's time, in allocation and the collections it brought. A
// concurrent first call may pack them too; either result is the same.
func (c *cell) recProducts(recKern []float32, batch int) (all, zr, cand recProduct) {
	// (A row of fewer units than a panel's 16 columns runs faster through
	// Gemm's loops for tiny products: the article's SimpleRNN(1) took 1.6
	// µs a sample packed, 1.3 not.)
	packed := kernel.PackedProducts && (batch >= recPackRows || kernel.PackedRows && c.units >= 16) && len(recKern) > 0
	if !packed {
		return c.newRecProducts(recKern, false)
	}
	if p := c.packs.Load(); p != nil && p.src == &recKern[0] {
		return p.all, p.zr, p.cand
	}
	p := &recPacks{src: &recKern[0]}
	p.all, p.zr, p.cand = c.newRecProducts(recKern, true)
	c.packs.Store(p)
	return p.all, p.zr, p.cand
}

func (c *cell) newRecProducts(recKern []float32, packed bool) (all, zr, cand recProduct) {
	u := c.units
	g := c.gates * u
	switch {
	case c.gates == 3 && c.biasRows == 1:
		return recProduct{}, newRecProduct(recKern, u, 2*u, g, packed), newRecProduct(recKern[2*u:], u, u, g, packed)
	case c.gates == 1:
		return newRecProduct(recKern, u, u, u, packed), recProduct{}, recProduct{}
	}
	return newRecProduct(recKern, u, g, g, packed), recProduct{}, recProduct{}
}

func newRecProduct(kern []float32, k, n, ldb int, packed bool) recProduct {
	r := recProduct{kern: kern, k: k, n: n, ldb: ldb}
	if packed && k > 0 && n > 0 {
		r.packed = kernel.Pack(make([]float32, kernel.PackedLen(k, n)), kern, k, n, ldb)
	}
	return r
}

// mul sets dst (batch × n, contiguous) to h (batch × k) times the kernel,
// or adds the product to dst.
func (r *recProduct) mul(dst, h []float32, batch int, add bool) {
	if r.packed != nil {
		kernel.MulPacked(dst, r.n, h, r.k, batch, r.packed, add, kernel.Epilogue{})
		return
	}
	kernel.Gemm(false, false, batch, r.n, r.k, h, r.k, r.kern, r.ldb, dst, r.n, add)
}
