package keras

import (
	"fmt"
	"slices"
	"sync"

	"github.com/kerascope/kerascope/keras/internal/kernel"
)

// minPartSamples is the smallest part of a batch worth a goroutine of its
// own: below it, the per-layer overhead of a second pass outweighs the
// second core.
const minPartSamples = 8

// arenaAtRun turns the activation arenas off, for tests that measure what
// they save.
var arenaAtRun = true

// runSplit runs the model on a batch split into parts, one per spare CPU
// (kernel.Parallel), in parallel, and joins the parts' outputs. No layer
// mixes samples at inference (normalization uses stored statistics), so
// the parts are independent; the element-wise work between matrix products
// (pooling, activations, recurrent gates, im2col), which runs on one core
// within a call, then uses every core. The parts hold the spare CPUs while
// they run, so their products do not split again; a batch too small to
// split leaves them to the products and convolutions of its layers.
func (net *Net) runSplit(inputs []*Tensor, batch int) ([]*Tensor, error) {
	type part struct {
		lo  int
		out []*Tensor
		err error
	}
	var mu sync.Mutex
	var parts []part
	kernel.Parallel(batch, minPartSamples, func(lo, hi int) {
		in := inputs
		if lo != 0 || hi != batch {
			in = make([]*Tensor, len(inputs))
			for i, t := range inputs {
				in[i] = t.View(lo, hi)
			}
		}
		var ar *arena
		if arenaAtRun {
			ar = net.arenas.get()
			defer net.arenas.put(ar)
			defer ar.finish()
		}
		out, _, err := net.runModel(net.Model, in, nil, ar)
		mu.Lock()
		parts = append(parts, part{lo, out, err})
		mu.Unlock()
	})
	slices.SortFunc(parts, func(a, b part) int { return a.lo - b.lo })
	outs := make([][]*Tensor, len(parts))
	for i, p := range parts {
		if p.err != nil {
			return nil, p.err
		}
		outs[i] = p.out
	}
	if len(outs) == 1 {
		return outs[0], nil
	}
	return joinBatches(outs)
}

// joinBatches concatenates, output by output, the parts' results along the
// batch axis.
func joinBatches(parts [][]*Tensor) ([]*Tensor, error) {
	out := make([]*Tensor, len(parts[0]))
	for i := range out {
		first := parts[0][i]
		if len(first.Shape) == 0 {
			return nil, fmt.Errorf("output %d has no batch axis", i)
		}
		n, size := 0, 0
		for _, p := range parts {
			t := p[i]
			if len(t.Shape) != len(first.Shape) || !Shape(t.Shape[1:]).Equal(first.Shape[1:]) {
				return nil, fmt.Errorf("output %d: parts of the batch gave shapes %v and %v", i, first.Shape, t.Shape)
			}
			n += t.Shape[0]
			size += len(t.Data)
		}
		joined := &Tensor{Shape: append([]int{n}, first.Shape[1:]...), Data: make([]float32, 0, size)}
		for _, p := range parts {
			joined.Data = append(joined.Data, p[i].Data...)
		}
		out[i] = joined
	}
	return out, nil
}
