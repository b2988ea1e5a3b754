package keras

import "github.com/kerascope/kerascope/keras/internal/kernel"

// Load-time packing of the convolutions' kernels. A convolution's product
// (patches or input × kernel) runs fastest with the kernel in the order
// the micro-kernel reads it (kernel.Pack); the kernel is the same at every
// call, so it is packed once, when the Net is made, and the unpacked copy
// is dropped: the model's weights stay in memory once.
//
// Packed are the channels-last plain convolutions (each group's matrix
// when a group has enough filters), the pointwise stage of separable ones
// and Dense layers (whose kernel is kept as it is too, for single
// samples), on CPUs where the packed product is the fast one
// (kernel.PackedProducts). Their results differ from the BLAS path's by
// rounding only; TestFusedMatchesUnfused compares them.

// packWaste is the most the padding to whole panels of 16 columns may add
// to a product: grouped convolutions with 8 filters a group (RegNet) or a
// Dense layer of 10 units would do 1.6 to 2 times the work packed, and
// stay with BLAS. (A plain convolution packs whatever its filters: its
// kernel is dropped for the packed one.)
const packWaste = 1.25

// wasteful reports whether packing n columns pads them past packWaste.
func wasteful(n int) bool { return float64((n+15)/16*16) > packWaste*float64(n) }

// packWeights packs the kernels of the plan's convolutions (see above),
// making a replacement call for those that have none yet.
func (p *plan) packWeights(net *Net) {
	if !kernel.PackedProducts {
		return
	}
	// A kernel shared by several calls (a layer called twice) is packed
	// once.
	done := make(map[*Tensor][]*kernel.Packed)
	var scratch []float32 // packKernel's copy of a kernel packed in place
	for m, order := range net.order {
		if m.Subclassed {
			continue
		}
		for _, n := range order {
			if p.skip[n] {
				continue
			}
			f := p.over[n]
			d, _ := n.Layer.impl.(*dense)
			if f != nil {
				d, _ = f.impl.(*dense)
			}
			if d != nil {
				p.packDense(net, n, f, d, done)
				continue
			}
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
			case depthwiseConv:
				// Nothing to pack, but the bias and relu go into
				// the depthwise loop (kernel.Ring3x3 applies them in
				// registers).
				if f != nil && len(f.w) > 0 && f.w[0] != nil && len(f.w[0].Shape) >= 2 {
					sh := f.w[0].Shape // (…, channels, multiplier)
					f.moveEpilogue(&l.epi, &l.useBias, sh[len(sh)-2]*sh[len(sh)-1], 1)
				}
				continue
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
			if groups > 1 && wasteful(fg) {
				continue
			}
			kern := w[at].Data
			if len(kern) == 0 || len(kern)%l.filters != 0 {
				continue
			}
			rows := len(kern) / l.filters // kernel positions × channels of a group
			packs, ok := done[w[at]]
			if !ok {
				packs = packKernel(kern, rows, fg, groups, l.filters, len(n.Layer.Nodes) == 1, &scratch)
				done[w[at]] = packs
			}
			if f == nil {
				f = &fusedCall{impl: l}
				p.over[n] = f
			}
			l.packed = packs
			p.folded["packed "+n.Layer.Class]++
			f.w = append([]*Tensor(nil), w...)
			f.w[at] = nil
			f.moveEpilogue(&l.epi, &l.useBias, l.filters, at+1)
		}
	}
}

// packKernel packs a convolution's kernel (rows × filters, groups of fg
// filters), one matrix per group. A layer called once has no other use
// for its kernel, so when packing adds no padding (fg a multiple of 16)
// the kernel is packed in place, from a copy in scratch (reused, the size
// of the largest kernel): the weights stay in memory once, at load too
// (ResNet50's peak RSS rose by 70 MB with a packed copy beside each).
func packKernel(kern []float32, rows, fg, groups, filters int, inPlace bool, scratch *[]float32) []*kernel.Packed {
	per := kernel.PackedLen(rows, fg)
	src, dst := kern, []float32(nil)
	if inPlace && per*groups == len(kern) {
		if cap(*scratch) < len(kern) {
			*scratch = make([]float32, len(kern))
		}
		src, dst = (*scratch)[:len(kern)], kern
		copy(src, kern)
	} else {
		dst = make([]float32, per*groups)
	}
	packs := make([]*kernel.Packed, groups)
	for g := range groups {
		packs[g] = kernel.Pack(dst[g*per:(g+1)*per], src[g*fg:], rows, fg, filters)
	}
	return packs
}

// denseMaxPacked is the largest Dense kernel (in values) packed where a
// Dense layer keeps its kernel as it is too, for single samples (BLAS's
// matrix-vector product): packing then costs memory, which stays bounded
// (4 MB a layer).
const denseMaxPacked = 1 << 20

// packDense packs the kernel of Dense call n (its replacement f, made if
// nil) next to the kernel as it is; see dense.
func (p *plan) packDense(net *Net, n *Node, f *fusedCall, d *dense, done map[*Tensor][]*kernel.Packed) {
	if d.packed != nil {
		return
	}
	w := net.weights[n.Layer]
	if f != nil {
		w = f.w
	}
	if len(w) == 0 || w[0] == nil || d.units <= 0 {
		return
	}
	kern := w[0].Data
	// Where one row runs packed (kernel.PackedRows), every batch does and
	// the kernel as it is is read no more: any size is packed, and the
	// copy dropped.
	rowsToo := kernel.PackedRows
	if len(kern) == 0 || len(kern)%d.units != 0 || !rowsToo && len(kern) > denseMaxPacked || wasteful(d.units) {
		return
	}
	packs, ok := done[w[0]]
	if !ok {
		in := len(kern) / d.units
		packs = []*kernel.Packed{kernel.Pack(make([]float32, kernel.PackedLen(in, d.units)), kern, in, d.units, d.units)}
		done[w[0]] = packs
	}
	if f == nil {
		k := *d
		d = &k
		f = &fusedCall{impl: d, w: w}
		p.over[n] = f
	}
	d.packed = packs[0]
	p.folded["packed "+n.Layer.Class]++
	if rowsToo {
		f.w = append([]*Tensor(nil), f.w...)
		f.w[0] = nil
	}
	f.moveEpilogue(&d.epi, &d.useBias, d.units, 1)
}

// moveEpilogue hands the bias and relu that f (or its product, whose
// epilogue epi and useBias are) would apply in a pass of their own after
// the product to the packed product, which applies them to its tiles as
// it completes them; biasAt is the index of the bias among f's weights,
// units its length.
func (f *fusedCall) moveEpilogue(epi *kernel.Epilogue, useBias *bool, units, biasAt int) {
	switch f.epilogue {
	case biasRelu:
		*epi = kernel.Epilogue{Kind: kernel.EpiBiasRelu, Bias: f.bias}
	case biasReluLayer:
		*epi = kernel.Epilogue{Kind: kernel.EpiBiasReluCap, Bias: f.bias, Max: f.relu.maxValue, HasMax: f.relu.hasMax}
		f.relu = nil
	default:
		if !*useBias || biasAt >= len(f.w) || f.w[biasAt] == nil || len(f.w[biasAt].Data) != units {
			return
		}
		*epi = kernel.Epilogue{Kind: kernel.EpiBias, Bias: f.w[biasAt].Data}
		*useBias = false
	}
	f.epilogue, f.bias = noEpilogue, nil
}
