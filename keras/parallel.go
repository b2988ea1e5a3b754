package keras

import (
	"fmt"
	"runtime"
	"sync"
)

// minPartSamples is the smallest part of a batch worth a goroutine of its
// own: below it, the per-layer overhead of a second pass outweighs the
// second core.
const minPartSamples = 8

// runSplit runs the model on a batch split into parts, one per available
// CPU, in parallel, and joins the parts' outputs. No layer mixes samples at
// inference (normalization uses stored statistics), so the parts are
// independent; the element-wise work between matrix products (pooling,
// activations, recurrent gates, im2col), which runs on one core within a
// call, then uses every core.
func (net *Net) runSplit(inputs []*Tensor, batch int) ([]*Tensor, error) {
	parts := min(runtime.GOMAXPROCS(0), batch/minPartSamples)
	if parts <= 1 {
		out, _, err := net.runModel(net.Model, inputs, nil)
		return out, err
	}
	outs := make([][]*Tensor, parts)
	errs := make([]error, parts)
	var wg sync.WaitGroup
	for p := range parts {
		lo, hi := p*batch/parts, (p+1)*batch/parts
		wg.Go(func() {
			in := make([]*Tensor, len(inputs))
			for i, t := range inputs {
				in[i] = t.View(lo, hi)
			}
			outs[p], _, errs[p] = net.runModel(net.Model, in, nil)
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
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
