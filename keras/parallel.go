package keras

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"

	"github.com/kerascope/kerascope/keras/internal/kernel"
)

// minPartSamples is the smallest part of a batch worth a goroutine of its
// own when the model's work per sample is unknown or small: below it, the
// per-layer overhead of a second pass outweighs the second core.
const minPartSamples = 8

// splitMACs is the least work (multiply-adds) of one part of a split
// batch: about a dozen microseconds of products on one core, well above
// the cost of a second goroutine and arena. A batch of 8 224×224 images
// (MobileNetV2, 300 M multiply-adds a sample) then runs as two parts of
// 4 rather than as one batch whose products alone split: the element-wise
// work between them (depthwise layers, activations, im2col) is then on
// both cores too: 1.6× the throughput on MobileNetV2 and 1.75× on
// EfficientNetB0 (BenchmarkPredictLarge, alternating runs).
const splitMACs = 1 << 20

// minPart is the smallest part of a batch worth its own goroutine for a
// model doing macs multiply-adds per sample (perSampleMACs), from 1 for
// large models to minPartSamples.
func minPart(macs int64) int {
	if macs <= 0 {
		return minPartSamples
	}
	return int(min(int64(minPartSamples), max(1, (splitMACs+macs-1)/macs)))
}

// perSampleMACs estimates the multiply-adds of one sample through m and
// the models inside it, from the shapes the config gives: each call's
// output elements times the fan-in its kernels imply (Dense: the input
// features; a convolution: its taps times input channels), and for a
// recurrent layer every kernel once per step. A free
// dimension other than the batch counts as 1, so unknown lengths
// underestimate, and a split stays conservative; the shapes come from an
// untrusted file, so the arithmetic saturates. Only the size of the split
// depends on it, never a result.
func (net *Net) perSampleMACs(m *Model) int64 {
	var total int64
	for _, n := range net.order[m] {
		if n.Layer.Model != nil {
			total += net.perSampleMACs(n.Layer.Model)
			continue
		}
		var kernel int64
		recurrent := false
		for _, w := range n.Layer.Weights {
			if strings.HasSuffix(w.Name, "kernel") {
				s, _ := w.Shape.Size()
				kernel = satAdd(kernel, max(s, 0))
				recurrent = recurrent || w.Name == "recurrent_kernel"
			}
		}
		if recurrent && len(n.Inputs) > 0 {
			// Every step multiplies the input and the state by all the
			// kernels, whatever the layer returns.
			if s := n.Inputs[0].Shape(); len(s) == 3 {
				total = satAdd(total, satMul(int64(max(s[1], 1)), kernel))
				continue
			}
		}
		for _, s := range n.Outputs {
			if len(s) < 2 {
				continue
			}
			elems := int64(1)
			for _, d := range s[1:] {
				elems = satMul(elems, int64(max(d, 1)))
			}
			fanIn := int64(1)
			if last := int64(max(s[len(s)-1], 1)); kernel > last {
				fanIn = kernel / last
			}
			total = satAdd(total, satMul(elems, fanIn))
		}
	}
	return total
}

// satMul and satAdd are a·b and a+b for non-negative a and b, at most
// math.MaxInt64.
func satMul(a, b int64) int64 {
	if a != 0 && b > math.MaxInt64/a {
		return math.MaxInt64
	}
	return a * b
}

func satAdd(a, b int64) int64 {
	if b > math.MaxInt64-a {
		return math.MaxInt64
	}
	return a + b
}

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
//
// A part larger than the model's chunk runs as chunks of about that many
// samples, one after the other, each through the whole model.
func (net *Net) runSplit(inputs []*Tensor, batch int) ([]*Tensor, error) {
	type part struct {
		lo  int
		out []*Tensor
		err error
	}
	var mu sync.Mutex
	var parts []part
	kernel.Parallel(batch, net.minPart, func(lo, hi int) {
		var ar *arena
		if arenaAtRun {
			ar = net.arenas.get()
			defer net.arenas.put(ar)
		}
		chunks := 1
		if net.chunk > 0 {
			chunks = (hi - lo + net.chunk - 1) / net.chunk
		}
		for c := range chunks {
			clo, chi := lo+(hi-lo)*c/chunks, lo+(hi-lo)*(c+1)/chunks
			out, err := net.runChunk(inputs, batch, clo, chi, ar)
			mu.Lock()
			parts = append(parts, part{clo, out, err})
			mu.Unlock()
			if err != nil {
				return
			}
		}
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

// runChunk runs the model on samples [lo, hi) of the batch, with the
// activations from ar (nil: allocated), and returns outputs that the
// caller owns.
func (net *Net) runChunk(inputs []*Tensor, batch, lo, hi int, ar *arena) (out []*Tensor, err error) {
	in := inputs
	if lo != 0 || hi != batch {
		in = make([]*Tensor, len(inputs))
		for i, t := range inputs {
			in[i] = t.View(lo, hi)
		}
	}
	if ar != nil {
		inFloats := 0
		for _, t := range in {
			inFloats += len(t.Data)
		}
		ar.reserve(net.liveEstimate(hi-lo, inFloats))
		defer func() { ar.finish(out) }()
	}
	out, _, err = net.runModel(net.Model, in, nil, ar)
	return out, err
}

// chunkBytes is the activation memory a chunk of a batch's part is sized
// to (Net.chunk): half the 2 MB L2 cache of a core of the Xeon we
// benchmark on, and the L2 of most x86 cores of the last years. A layer's
// output then stays in the core's cache for the next layer: the MNIST
// CNN's batch of 64 ran as two parts of 32 samples whose 2.8 MB
// activations went out to memory and back between layers; in chunks of 8
// it runs 1.1-1.15 times as fast.
const chunkBytes = 1 << 20

// minChunk is the smallest chunk worth splitting a part into. Models
// whose one sample's activations already overflow the cache (224×224
// images) run their part whole: by samples one at a time, MobileNetV2's
// batch of 8 ran 9% slower, its small products less efficient and its
// weights read once a sample.
const minChunk = 4

// batchChunk returns the chunk of a model that holds live floats of
// activations at once per sample, or 0 for parts run whole. Only models
// with spatial maps (a layer output of rank 4 or more: convolutional
// networks) are chunked. The transformer's batch ran 1.2 times slower in
// chunks of 8: its attention and einsum layers allocate their results
// outside the arena, and with the smaller heap of chunks the collector
// ran twice as often (117 collections against 50 over the same calls).
func batchChunk(live int, spatial bool) int {
	if live <= 0 || !spatial {
		return 0
	}
	if c := chunkBytes / (4 * live); c >= minChunk {
		return c
	}
	return 0
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

// hasSpatialMaps reports whether a layer of m, or of a model inside it,
// outputs a tensor of rank 4 or more (batch, spatial axes, channels).
func (net *Net) hasSpatialMaps(m *Model) bool {
	for _, n := range net.order[m] {
		if n.Layer.Model != nil && net.hasSpatialMaps(n.Layer.Model) {
			return true
		}
		for _, s := range n.Outputs {
			if len(s) >= 4 {
				return true
			}
		}
	}
	return false
}
