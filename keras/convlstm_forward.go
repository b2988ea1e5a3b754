package keras

import (
	"fmt"

	"github.com/kerascope/kerascope/keras/internal/kernel"
)

// The ConvLSTM forward pass (convlstm.go). The input convolutions of every
// step are one batched convolution over batch×time samples; each step then
// adds the recurrent convolution of h (stride 1, "same", no dilation, as
// Keras's recurrent_conv) and applies the LSTM gates i, f, c, o:
//
//	c = f·c + i·act(x_c + h_c);  h = o·act(c)
//
// with f, i, o through recurrent_activation. Masked steps (a (batch, time)
// mask) keep the states and repeat the previous output, or give zeros with
// zero_output_for_mask; go_backwards reads time in reverse and emits the
// outputs in that order, as Keras does.

func (l *convLSTM) cannotRun() string {
	if r := l.conv.legacy; r != "" {
		return r
	}
	for _, a := range []string{l.activation, l.recurrentActivation} {
		if a == "softmax" || a == "log_softmax" {
			return "its activation " + a + " is not elementwise"
		}
		if r := activationReason(a); r != "" {
			return r
		}
	}
	return ""
}

func (l *convLSTM) forward(c *call) error {
	if len(c.in) < 1 {
		return fmt.Errorf("takes an input sequence, got none")
	}
	x := c.in[0]
	if err := x.Check(); err != nil {
		return err
	}
	r := l.conv.rank
	if len(x.Shape) != r+3 {
		return fmt.Errorf("input shape %s: want rank %d", shapeString(x.Shape), r+3)
	}
	cf := l.conv.channelsFirst
	nb, steps := x.Shape[0], x.Shape[1]
	seqIn := toChannelsLast(&Tensor{Shape: append([]int{nb * steps}, x.Shape[2:]...), Data: x.Data}, cf)
	ch := seqIn.Shape[r+1]
	w, err := l.conv.window(seqIn.Shape[1 : r+1])
	if err != nil {
		return fmt.Errorf("input shape %s: %w", shapeString(x.Shape), err)
	}
	// The recurrent convolution keeps the output's spatial size.
	rc := *l.conv
	rc.strides, rc.dilation, rc.padding = repeat(1, r), repeat(1, r), "same"
	outSp := spatialOf(w.Out, r)
	rw, err := rc.window(outSp)
	if err != nil {
		return fmt.Errorf("recurrent convolution: %w", err)
	}
	f := l.conv.filters
	g4, p, kl := 4*f, w.OutLen(), w.KLen()
	if err := wantWeight(c.w, 0, kl*ch*g4, "kernel"); err != nil {
		return err
	}
	if err := wantWeight(c.w, 1, kl*f*g4, "recurrent_kernel"); err != nil {
		return err
	}
	// Every step's input convolution at once.
	xc := make([]float32, nb*steps*p*g4)
	convolve(xc, seqIn.Data, c.w[0].Data, nil, kernel.Epilogue{}, nb*steps, &w, ch, g4, 1)
	if l.useBias {
		if err := wantWeight(c.w, 2, g4, "bias"); err != nil {
			return err
		}
		kernel.AddBias(xc, c.w[2].Data)
	}

	stateShape := append(append([]int{nb}, outSp...), f)
	h, cs := NewTensor(stateShape...), NewTensor(stateShape...)
	init := c.kwarg("initial_state")
	if len(init) == 0 && len(c.in) > 1 {
		init = c.in[1:]
	}
	if len(init) > 0 {
		if len(init) != 2 {
			return fmt.Errorf("initial_state: got %d tensors, want 2 (h and c)", len(init))
		}
		for i, dst := range []*Tensor{h, cs} {
			if err := init[i].Check(); err != nil {
				return fmt.Errorf("initial_state %d: %w", i, err)
			}
			s := toChannelsLast(init[i], cf)
			if len(s.Data) != len(dst.Data) {
				return fmt.Errorf("initial_state %d: shape %s, want %s", i, shapeString(init[i].Shape), shapeString(toChannelsFirst(dst, cf).Shape))
			}
			copy(dst.Data, s.Data)
		}
	}
	var m mask
	if len(c.masks) > 0 && c.masks[0] != nil {
		m = c.masks[0]
		if len(m) != nb*steps {
			return fmt.Errorf("mask of %d flags for %d samples of %d steps", len(m), nb, steps)
		}
	}

	per := p * f
	var seq *Tensor
	if l.returnSequences {
		seq = NewTensor(append(append([]int{nb, steps}, outSp...), f)...)
	}
	z := make([]float32, nb*p*g4)  // gate pre-activations, then recurrent_activation
	za := make([]float32, nb*p*g4) // the same through activation (for the c gate)
	cn := make([]float32, nb*per)  // the new carry
	hn := make([]float32, nb*per)  // act(new carry), then the new h
	for s := 0; s < steps; s++ {
		t := s
		if l.goBackwards {
			t = steps - 1 - s
		}
		convolve(z, h.Data, c.w[1].Data, nil, kernel.Epilogue{}, nb, &rw, f, g4, 1)
		for b := 0; b < nb; b++ {
			xs := xc[(b*steps+t)*p*g4 : (b*steps+t+1)*p*g4]
			zs := z[b*p*g4 : (b+1)*p*g4]
			for i, v := range xs {
				zs[i] += v
			}
		}
		copy(za, z)
		if err := c.activate(l.recurrentActivation, &Tensor{Shape: []int{len(z)}, Data: z}); err != nil {
			return err
		}
		if err := c.activate(l.activation, &Tensor{Shape: []int{len(za)}, Data: za}); err != nil {
			return err
		}
		for q := 0; q < nb*p; q++ {
			zq, aq := z[q*g4:(q+1)*g4], za[q*g4:(q+1)*g4]
			cq, nq := cs.Data[q*f:(q+1)*f], cn[q*f:(q+1)*f]
			for j := range nq {
				nq[j] = zq[f+j]*cq[j] + zq[j]*aq[2*f+j]
			}
		}
		copy(hn, cn)
		if err := c.activate(l.activation, &Tensor{Shape: []int{len(hn)}, Data: hn}); err != nil {
			return err
		}
		for q := 0; q < nb*p; q++ {
			zq, hq := z[q*g4:(q+1)*g4], hn[q*f:(q+1)*f]
			for j := range hq {
				hq[j] *= zq[3*f+j]
			}
		}
		for b := 0; b < nb; b++ {
			keep := m != nil && !m[b*steps+t]
			if !keep {
				copy(h.Data[b*per:(b+1)*per], hn[b*per:(b+1)*per])
				copy(cs.Data[b*per:(b+1)*per], cn[b*per:(b+1)*per])
			}
			if seq != nil && !(keep && l.zeroOutputForMask) {
				copy(seq.Data[(b*steps+s)*per:(b*steps+s+1)*per], h.Data[b*per:(b+1)*per])
			}
		}
	}

	out := h
	if seq != nil {
		flat := &Tensor{Shape: append([]int{nb * steps}, seq.Shape[2:]...), Data: seq.Data}
		flat = toChannelsFirst(flat, cf)
		out = &Tensor{Shape: append([]int{nb, steps}, flat.Shape[1:]...), Data: flat.Data}
	} else {
		out = toChannelsFirst(h.Clone(), cf)
	}
	c.out = []*Tensor{out}
	c.outMasks = []mask{nil}
	if l.returnSequences {
		c.outMasks[0] = m
	}
	if l.returnState {
		c.out = append(c.out, toChannelsFirst(h, cf), toChannelsFirst(cs, cf))
		c.outMasks = append(c.outMasks, nil, nil)
	}
	return nil
}
