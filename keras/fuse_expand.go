package keras

import (
	"fmt"

	"github.com/kerascope/kerascope/keras/internal/kernel"
)

// An expanding 1×1 convolution run inside the 3×3 depthwise convolution
// that reads it (MobileNetV2's and EfficientNet's inverted residual
// blocks: expand, depthwise, project). The expanded tensor is the largest
// of those networks (112×112×96 floats, 4.8 MB, for one sample of
// MobileNetV2), and written whole and read back it comes from memory: the
// two layers ran at a third of the speed they reach on data in cache.
// Here the expanded rows are computed when the depthwise loop first needs
// them, eight at a time, into a buffer of ten rows that stays in cache
// (kernel.Depthwise3x3Rows's RowSource), on maps 28 wide or more.
//
// Each expanded row is the same product with the same epilogue and
// activation as the unfused layer's, and the depthwise loop the same, so
// the results are the same bits (TestExpandDepthwiseMatchesUnfused).

// fuseExpand plans the fusions: a depthwise call (3×3, depth multiplier
// 1, channels-last, 2D) whose input is, through folded normalizations and
// activations, the output of a packed 1×1 convolution (stride 1, no
// groups) that nothing else reads.
func (p *plan) fuseExpand(net *Net) {
	for m, order := range net.order {
		if m.Subclassed {
			continue
		}
		readers := p.readers(net, m)
		for _, n := range order {
			f := p.over[n]
			if f == nil || p.skip[n] {
				continue
			}
			d, ok := f.impl.(*conv)
			if !ok || d.kind != depthwiseConv || d.rank != 2 || d.channelsFirst || d.depthMultiplier != 1 ||
				d.kernel[0] != 3 || d.kernel[1] != 3 || d.dilation[0] != 1 || d.dilation[1] != 1 || len(f.w) == 0 || f.w[0] == nil {
				continue
			}
			in := p.inputsOf(n)
			if len(in) != 1 || n.arg(0) != "" || in[0].Tensor != 0 {
				continue
			}
			src := in[0].Layer.Nodes[in[0].Node]
			prod := p.producer(src)
			fe := p.over[prod]
			if fe == nil || p.skip[prod] || !p.readOnce(readers, src) {
				continue
			}
			e, ok := fe.impl.(*conv)
			if !ok || e.kind != plainConv || e.rank != 2 || e.channelsFirst || e.packed == nil || len(e.packed) != 1 ||
				e.kernel[0] != 1 || e.kernel[1] != 1 || e.strides[0] != 1 || e.strides[1] != 1 || e.padBefore != nil || e.useBias ||
				e.filters != f.w[0].Shape[len(f.w[0].Shape)-2] {
				continue
			}
			p.over[n] = &fusedCall{impl: &expandDW{expand: fe, dw: f}, w: f.w}
			p.inputs[n] = p.inputsOf(prod)
			p.skip[prod] = true
			p.folded["Conv2D into DepthwiseConv2D"]++
		}
	}
}

// minExpandWidth is the narrowest input the fused loop takes. On
// narrower maps the expanded tensor of a sample stays in cache anyway
// (14×14×576 floats: 450 KB), and a product of a few rows at a time reads
// the whole packed kernel for each (MobileNetV2's 14×14 blocks ran 5-10%
// slower fused); from 28 wide the fused loop is as fast or faster on
// one sample and 1.1-1.8 times as fast on a batch of 8.
var minExpandWidth = 28 // a variable for the tests, whose models are small

// expandChunk is the most expanded rows computed in one product.
const expandChunk = 8

// expandDW runs the planned expand call and depthwise call as one.
type expandDW struct {
	expand, dw *fusedCall
}

func (l *expandDW) forward(c *call) error {
	e, d := l.expand.impl.(*conv), l.dw.impl.(*conv)
	x := c.in[0]
	if len(x.Shape) != 4 || x.Shape[3] != e.packed[0].K {
		return l.separately(c)
	}
	n, h, wd, cin := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	ce := e.filters
	w, err := d.window([]int{h, wd})
	if err != nil {
		return fmt.Errorf("input shape %s: %w", shapeString(x.Shape), err)
	}
	if !kernel.Depthwise3x3Applies(&w, 1) || d.useBias || wd < minExpandWidth {
		return l.separately(c)
	}
	act := activationFn(e.activation, c.net.legacy)
	if act == nil && !linearName(e.activation) {
		return fmt.Errorf("activation %q: %w", e.activation, errNotRunnable)
	}
	out := c.ar.output(n, w.Out[1], w.Out[2], ce)
	rows, inRow, expRow := w.Out[1], wd*cin, wd*ce
	per := max(1, w.Out[2]*9*ce+3*wd*cin*ce) // a row's multiply-adds, about
	kernel.Parallel(n*rows, max(1, minParallelMACs/per), func(lo, hi int) {
		sp := getScratch((expandChunk + 2) * expRow)
		defer putScratch(sp)
		buf := *sp
		for r := lo; r < hi; {
			b := r / rows
			end := min(hi, (b+1)*rows)
			xb := x.Data[b*h*inRow : (b+1)*h*inRow]
			// buf holds the expanded rows [base, base+held): a request
			// past them keeps the two rows before it, moved to the
			// front, and expands the next rows after them in one
			// product, expandChunk at most (a product per row of 56
			// positions ran a tenth of its rows through a tile of six).
			base, held := 0, 0
			src := func(i int) []float32 {
				if i >= base && i < base+held {
					return buf[(i-base)*expRow : (i-base+1)*expRow]
				}
				// The window's rows from i-2 on; those held move to
				// the front.
				from, keep := max(0, i-2), 0
				if from >= base && from < base+held {
					keep = base + held - from
					copy(buf, buf[(from-base)*expRow:held*expRow])
				}
				base = from
				next := base + keep
				last := min(h, base+expandChunk+2)
				rowsOut := buf[keep*expRow : (last-base)*expRow]
				kernel.MulPacked(rowsOut, ce, xb[next*inRow:last*inRow], cin, (last-next)*wd, e.packed[0], false, e.epi)
				if act != nil {
					act(rowsOut, ce)
				}
				held = last - base
				return buf[(i-base)*expRow : (i-base+1)*expRow]
			}
			kernel.Depthwise3x3Rows(out.Data[b*rows*w.Out[2]*ce:(b+1)*rows*w.Out[2]*ce], src, l.dw.w[0].Data, &w, ce, r-b*rows, end-b*rows, d.epi)
			r = end
		}
	})
	if err := c.activate(d.activation, out); err != nil {
		return err
	}
	c.out = []*Tensor{out}
	return nil
}

// separately runs the two calls one after the other, for inputs the
// fused loop does not take.
func (l *expandDW) separately(c *call) error {
	ce := &call{layer: c.layer, net: c.net, ar: c.ar, in: c.in, w: l.expand.w}
	if err := l.expand.forward(ce); err != nil {
		return err
	}
	c.ar.hold(ce.out)
	cd := &call{layer: c.layer, net: c.net, ar: c.ar, in: ce.out, w: l.dw.w}
	err := l.dw.forward(cd)
	c.ar.drop(ce.out)
	if err != nil {
		return err
	}
	c.out = cd.out
	return nil
}
