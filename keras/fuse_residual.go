package keras

import "github.com/kerascope/kerascope/keras/internal/kernel"

// A residual Add run inside the 1×1 convolution that is one of its
// operands (ResNet's blocks end so: conv, BatchNormalization, Add with
// the shortcut, relu; MobileNetV2's: project, BatchNormalization, Add).
// The convolution's product takes the bias, then the shortcut's values,
// then the relu folded into the Add, in registers as it completes each
// tile (kernel.Epilogue.Residual), and writes over the shortcut when the
// Add is its last reader: the Add and its relu were a pass of their own
// over three tensors (5% of ResNet50's batch).
//
// The sums are the unfused layers' (the bias before the shortcut, as the
// convolution's own bias comes before the Add; float addition commutes
// bit for bit), so the results are the same bits
// (TestResidualMatchesUnfused).

// fuseResidual plans the fusions: an Add of two inputs one of which is,
// through folded normalizations, a packed 1×1 convolution (stride 1, no
// groups, a bias and no activation of its own) that nothing else reads,
// with nothing or a plain relu folded into the Add.
func (p *plan) fuseResidual(net *Net) {
	for m, order := range net.order {
		if m.Subclassed {
			continue
		}
		readers := p.readers(net, m)
		for _, n := range order {
			if _, ok := n.Layer.impl.(elemwise); !ok || n.Layer.Class != "Add" || p.skip[n] {
				continue
			}
			in := p.inputsOf(n)
			if len(in) != 2 || n.arg(0) != "" || n.arg(1) != "" || in[0].Tensor != 0 || in[1].Tensor != 0 {
				continue
			}
			f := p.over[n]
			kind := kernel.EpiBias
			var relu *reluLayer
			if f != nil {
				switch {
				case f.act == "" && f.relu == nil:
				case f.act == "relu" && f.relu == nil:
					kind = kernel.EpiBiasRelu
				case f.act == "" && f.relu.slope == 0 && f.relu.threshold == 0:
					kind, relu = kernel.EpiBiasReluCap, f.relu
				default:
					continue
				}
			}
			for i := range 2 {
				src := in[i].Layer.Nodes[in[i].Node]
				prod := p.producer(src)
				fc := p.over[prod]
				if fc == nil || p.skip[prod] || prod == n || !p.readOnce(readers, src) || !residualConv1x1(fc) ||
					len(p.inputsOf(prod)) != 1 || prod.arg(0) != "" {
					continue
				}
				var orig forwarder = n.Layer.impl.(elemwise)
				if f != nil {
					orig = f
				}
				p.over[n] = &fusedCall{impl: &residualAdd{conv: fc, kind: kind, relu: relu, orig: orig, convAt: i}, w: fc.w}
				// The shortcut first: the run's donor is the first input
				// read for the last time, and the product may write over
				// the shortcut, not over its own input.
				p.inputs[n] = []TensorRef{in[1-i], p.inputsOf(prod)[0]}
				p.skip[prod] = true
				p.folded[prod.Layer.Class+" into Add"]++
				break
			}
		}
	}
}

// residualConv1x1 reports whether f is a convolution fuseResidual takes.
func residualConv1x1(f *fusedCall) bool {
	l, ok := f.impl.(*conv)
	if !ok || l.kind != plainConv || l.channelsFirst || len(l.packed) != 1 || l.padBefore != nil || l.useBias ||
		!linearName(l.activation) || l.epi.Kind != kernel.EpiBias || f.epilogue != noEpilogue || f.relu != nil || f.act != "" {
		return false
	}
	for i := range l.rank {
		if l.kernel[i] != 1 || l.strides[i] != 1 {
			return false
		}
	}
	return kernel.ResidualFits(l.packed[0].K, l.packed[0].K)
}

// residualAdd runs a planned convolution and the Add that reads it as one:
// c.in is the Add's other input (the shortcut), then the convolution's.
type residualAdd struct {
	conv *fusedCall
	kind kernel.EpilogueKind
	relu *reluLayer // EpiBiasReluCap's ReLU layer
	// orig is the Add as planned before (with its relu), convAt the
	// position of the convolution's output among its inputs: the
	// layers are run so, one after the other, on inputs the fused
	// product does not take.
	orig   forwarder
	convAt int
}

func (l *residualAdd) forward(c *call) error {
	s, x := c.in[0], c.in[1]
	k := l.conv.impl.(*conv)
	rank := len(x.Shape)
	if rank != k.rank+2 || x.Shape[rank-1] != k.packed[0].K || len(s.Shape) != rank || s.Shape[rank-1] != k.filters {
		return l.separately(c)
	}
	for i := range rank - 1 {
		if s.Shape[i] != x.Shape[i] {
			return l.separately(c)
		}
	}
	var out *Tensor
	if c.donor == s {
		out = &Tensor{Shape: s.Shape, Data: s.Data}
	} else {
		out = c.ar.output(s.Shape...)
		copy(out.Data, s.Data)
	}
	epi := k.epi
	epi.Kind, epi.Residual = l.kind, true
	if l.relu != nil {
		epi.Max, epi.HasMax = l.relu.maxValue, l.relu.hasMax
	}
	channels := x.Shape[rank-1]
	kernel.MulPacked(out.Data, k.filters, x.Data, channels, len(x.Data)/channels, k.packed[0], false, epi)
	c.out = []*Tensor{out}
	c.outMasks = []mask{elemwiseMask([]mask{c.masks[0], nil}, c.net.legacy)}
	return nil
}

// separately runs the convolution, then the Add as planned before.
func (l *residualAdd) separately(c *call) error {
	cc := &call{layer: c.layer, net: c.net, ar: c.ar, in: c.in[1:], w: l.conv.w}
	if err := l.conv.forward(cc); err != nil {
		return err
	}
	c.ar.hold(cc.out)
	in := []*Tensor{c.in[0], c.in[0]}
	in[l.convAt] = cc.out[0]
	masks := []mask{c.masks[0], c.masks[0]}
	masks[l.convAt] = nil
	ca := &call{layer: c.layer, node: c.node, in: in, masks: masks, net: c.net, ar: c.ar}
	err := l.orig.forward(ca)
	c.ar.drop(cc.out)
	if err != nil {
		return err
	}
	c.out, c.outMasks = ca.out, ca.outMasks
	return nil
}
