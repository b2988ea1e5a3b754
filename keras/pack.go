package keras

import "github.com/kerascope/kerascope/keras/internal/kernel"

// Load-time packing of the convolutions' kernels. A convolution's product
// (patches or input × kernel) runs fastest with the kernel in the order
// the micro-kernel reads it (kernel.Pack); the kernel is the same at every
// call, so it is packed once, when the Net is made, and the unpacked copy
// is dropped: the model's weights stay in memory once.
//
// Packed are the channels-last plain convolutions (each group's matrix
// when a group has enough filters) and the pointwise stage of separable
// ones, on CPUs where the packed product is the fast one
// (kernel.PackedProducts). Their results differ from the BLAS path's by
// rounding only; TestFusedMatchesUnfused compares them.

// packGroupWaste is the most a group's padding to whole panels may add to
// its product: grouped convolutions with 8 filters a group (RegNet) would
// do twice the work packed, and stay with BLAS.
const packGroupWaste = 1.25

// packWeights packs the kernels of the plan's convolutions (see above),
// making a replacement call for those that have none yet.
func (p *plan) packWeights(net *Net) {
	if !kernel.PackedProducts {
		return
	}
	// A kernel shared by several calls (a layer called twice) is packed
	// once.
	done := make(map[*Tensor][]*kernel.Packed)
	for m, order := range net.order {
		if m.Subclassed {
			continue
		}
		for _, n := range order {
			if p.skip[n] {
				continue
			}
			f := p.over[n]
			var l *conv
			if f != nil {
				l, _ = f.impl.(*conv)
			} else if c, ok := n.Layer.impl.(*conv); ok {
				k := *c
				l = &k
			}
			if l == nil || l.channelsFirst || l.legacy != "" || l.packed != nil {
				continue
			}
			at, groups := 0, max(l.groups, 1)
			switch l.kind {
			case plainConv:
			case separableConv:
				at, groups = 1, 1
			default:
				continue
			}
			w := net.weights[n.Layer]
			if f != nil {
				w = f.w
			}
			if at >= len(w) || w[at] == nil || l.filters <= 0 || l.filters%groups != 0 {
				continue
			}
			fg := l.filters / groups
			if float64((fg+15)/16*16) > packGroupWaste*float64(fg) {
				continue
			}
			kern := w[at].Data
			if len(kern) == 0 || len(kern)%l.filters != 0 {
				continue
			}
			rows := len(kern) / l.filters // kernel positions × channels of a group
			packs, ok := done[w[at]]
			if !ok {
				for g := range groups {
					buf := make([]float32, kernel.PackedLen(rows, fg))
					packs = append(packs, kernel.Pack(buf, kern[g*fg:], rows, fg, l.filters))
				}
				done[w[at]] = packs
			}
			if f == nil {
				f = &fusedCall{impl: l}
				p.over[n] = f
			}
			l.packed = packs
			f.w = append([]*Tensor(nil), w...)
			f.w[at] = nil
			f.moveEpilogue(l, at+1)
		}
	}
}

// moveEpilogue hands the bias and relu that f (or its convolution l)
// would apply in a pass of their own after the product to the packed
// product, which applies them to its rows as it completes them; biasAt
// is the index of the bias among f's weights.
func (f *fusedCall) moveEpilogue(l *conv, biasAt int) {
	switch f.epilogue {
	case biasRelu:
		l.epi = kernel.Epilogue{Kind: kernel.EpiBiasRelu, Bias: f.bias}
	case biasReluLayer:
		l.epi = kernel.Epilogue{Kind: kernel.EpiBiasReluCap, Bias: f.bias, Max: f.relu.maxValue, HasMax: f.relu.hasMax}
		f.relu = nil
	default:
		if !l.useBias || biasAt >= len(f.w) || f.w[biasAt] == nil || len(f.w[biasAt].Data) != l.filters {
			return
		}
		l.epi = kernel.Epilogue{Kind: kernel.EpiBias, Bias: f.w[biasAt].Data}
		l.useBias = false
	}
	f.epilogue, f.bias = noEpilogue, nil
}
