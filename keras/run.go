package keras

import (
	"fmt"

	"github.com/kerascope/kerascope/keras/internal/kernel"
)

// The forward pass. Each layer family's file implements forwarder for its
// kinds next to their config decoding and shapes; this file runs a model's
// calls in dependency order and carries tensors and masks between them.

// A forwarder is a layer kind kerascope can run.
type forwarder interface {
	forward(c *call) error
}

// A masker is a layer kind that passes its input's mask on unchanged
// (Keras's supports_masking with the default compute_mask). Kinds that
// compute masks set call.outMasks themselves; other kinds drop masks.
type masker interface {
	passesMask() bool
}

// A call is one run of a layer on concrete tensors.
type call struct {
	layer *Layer
	node  *Node // nil when a wrapper runs its inner layer
	// in are the tensors passed positionally, and kwargs those passed by
	// keyword (other than mask), in the order the node lists them.
	in     []*Tensor
	kwargs map[string][]*Tensor
	// masks are the masks of in, parallel to it (nil entries: unmasked),
	// and kwargMasks those of kwargs (MultiHeadAttention's value, passed
	// by keyword in Keras 2 configs, carries its mask).
	masks      []mask
	kwargMasks map[string][]mask
	// w are the layer's weights, in Layer.Weights order.
	w   []*Tensor
	out []*Tensor
	// outMasks, when the kind sets it, gives its outputs' masks.
	outMasks []mask
	net      *Net
	// ar is the run's activation memory (arena.go); layers take their
	// outputs from it with ar.tensor (a nil arena allocates).
	ar *arena
	// impl, when set, runs instead of the layer's own kind: a call the
	// load-time plan rewrote (fuse.go).
	impl forwarder
	// donor, when set, is an input whose buffer the call may write its
	// output into: this is its last reader and nothing else holds the
	// buffer (runModel sets it for element-wise merges). A residual Add
	// then needs no third tensor beside its two inputs: ResNet50's runs
	// held three at its adds.
	donor *Tensor
}

// kwarg returns the tensors passed as a keyword argument.
func (c *call) kwarg(name string) []*Tensor { return c.kwargs[name] }

// value is a computed call's outputs and their masks.
type value struct {
	out   []*Tensor
	masks []mask
	// held: the run holds references on out's buffers (arena.go), which
	// it gives up when the value is released. A model's inputs are not
	// held: they are the caller's.
	held bool
}

// runModel computes a model's outputs from its inputs.
func (net *Net) runModel(m *Model, in []*Tensor, inMasks []mask, ar *arena) ([]*Tensor, []mask, error) {
	if len(in) != len(m.Inputs) {
		return nil, nil, fmt.Errorf("model %q takes %d inputs, got %d", m.Name, len(m.Inputs), len(in))
	}
	vals := make(map[*Node]*value, len(net.order[m]))
	for i, r := range m.Inputs {
		n := r.Layer.Nodes[r.Node]
		v := vals[n]
		if v == nil {
			v = &value{}
			vals[n] = v
		}
		for len(v.out) <= r.Tensor {
			v.out = append(v.out, nil)
			v.masks = append(v.masks, nil)
		}
		v.out[r.Tensor] = in[i]
		if i < len(inMasks) {
			v.masks[r.Tensor] = inMasks[i]
		}
	}
	release := net.release[m]
	for step, n := range net.order[m] {
		if _, fed := vals[n]; fed {
			continue
		}
		if n.Layer.Class == "InputLayer" {
			return nil, nil, fmt.Errorf("input layer %q is not one of the model's inputs", n.Layer.Name)
		}
		if net.plan.skipped(n) {
			continue // folded into its reader, which reads its input (fuse.go)
		}
		if src, ok := net.plan.aliasOf(n); ok {
			// Folded into the call that computed src (fuse.go).
			v := vals[src]
			if v != nil && v.held {
				ar.hold(v.out)
			}
			vals[n] = v
			releaseValues(vals, release[step], ar)
			continue
		}
		c := &call{layer: n.Layer, node: n, w: net.weights[n.Layer], net: net, ar: ar}
		if f := net.plan.override(n); f != nil {
			c.impl, c.w = f, f.w
		}
		var explicitMask []*Tensor
		for i, r := range net.plan.inputsOf(n) {
			src := vals[r.Layer.Nodes[r.Node]]
			if src == nil || r.Tensor >= len(src.out) {
				return nil, nil, fmt.Errorf("layer %q (%s): input %s[%d][%d] was not computed", n.Layer.Name, n.Layer.Class, r.Layer.Name, r.Node, r.Tensor)
			}
			t := src.out[r.Tensor]
			switch arg := n.arg(i); arg {
			case "":
				c.in = append(c.in, t)
				c.masks = append(c.masks, src.masks[r.Tensor])
			case "mask":
				explicitMask = append(explicitMask, t)
			default:
				if c.kwargs == nil {
					c.kwargs = make(map[string][]*Tensor)
					c.kwargMasks = make(map[string][]mask)
				}
				c.kwargs[arg] = append(c.kwargs[arg], t)
				c.kwargMasks[arg] = append(c.kwargMasks[arg], src.masks[r.Tensor])
			}
		}
		// A mask passed explicitly (Keras 3 records them in the config)
		// replaces the propagated ones.
		for i, t := range explicitMask {
			if i < len(c.masks) {
				c.masks[i] = tensorMask(t)
			}
		}
		if ar != nil && mergesInPlace(n, c.impl) {
			c.donor = ar.donor(net.plan.inputsOf(n), c.in, release[step], func(src *Node) bool {
				// A value this run computed: a model's inputs (a
				// nested model's are its caller's values) are never
				// written over.
				v := vals[src]
				return v != nil && v.held
			})
		}
		if err := net.forward(c); err != nil {
			return nil, nil, err
		}
		vals[n] = &value{out: c.out, masks: c.outMasks, held: ar != nil}
		ar.hold(c.out)
		releaseValues(vals, release[step], ar)
	}
	outs := make([]*Tensor, len(m.Outputs))
	masks := make([]mask, len(m.Outputs))
	for i, r := range m.Outputs {
		v := vals[r.Layer.Nodes[r.Node]]
		if v == nil || r.Tensor >= len(v.out) {
			return nil, nil, fmt.Errorf("model %q: output %s[%d][%d] was not computed", m.Name, r.Layer.Name, r.Node, r.Tensor)
		}
		outs[i], masks[i] = v.out[r.Tensor], v.masks[r.Tensor]
	}
	return outs, masks, nil
}

// releaseValues lets go of the values no later step reads.
func releaseValues(vals map[*Node]*value, done []*Node, ar *arena) {
	for _, n := range done {
		if v := vals[n]; v != nil && v.held {
			ar.drop(v.out)
		}
		delete(vals, n)
	}
}

// forward runs one call and settles its output masks.
func (net *Net) forward(c *call) error {
	f, ok := c.layer.impl.(forwarder)
	if c.impl != nil {
		f, ok = c.impl, true
	}
	if !ok {
		return fmt.Errorf("layer %q (%s): %w", c.layer.Name, c.layer.Class, errNotRunnable)
	}
	// A preemption, or code outside kerascope, may have left the vector
	// registers dirty, which slows scalar float code on some CPUs.
	kernel.ClearUpper()
	if err := safeForward(f, c); err != nil {
		return fmt.Errorf("layer %q (%s): %w", c.layer.Name, c.layer.Class, err)
	}
	if c.outMasks == nil {
		c.outMasks = make([]mask, len(c.out))
		if p, ok := c.layer.impl.(masker); ok && p.passesMask() && len(c.masks) > 0 {
			for i := range c.outMasks {
				c.outMasks[i] = c.masks[0]
			}
		}
	}
	for len(c.outMasks) < len(c.out) {
		c.outMasks = append(c.outMasks, nil)
	}
	return nil
}

// tensorMask reads a boolean tensor (stored as 0 and 1) as a mask.
func tensorMask(t *Tensor) mask {
	m := make(mask, len(t.Data))
	for i, v := range t.Data {
		m[i] = v != 0
	}
	return m
}

// sub runs a layer kind inside a wrapper (TimeDistributed, Bidirectional)
// on the given inputs and weights.
func (c *call) sub(impl layerKind, in []*Tensor, masks []mask, w []*Tensor) ([]*Tensor, []mask, error) {
	f, ok := impl.(forwarder)
	if !ok {
		return nil, nil, errNotRunnable
	}
	s := &call{layer: c.layer, in: in, masks: masks, w: w, net: c.net, kwargs: c.kwargs, ar: c.ar}
	if err := f.forward(s); err != nil {
		return nil, nil, err
	}
	return s.out, s.outMasks, nil
}

// outputLike returns a tensor of x's shape with the last dimension set
// to last, from the run's arena, with unspecified contents: for a layer
// that writes all of it.
func (c *call) outputLike(x *Tensor, last int) *Tensor {
	shape := append([]int(nil), x.Shape...)
	shape[len(shape)-1] = last
	return c.ar.output(shape...)
}

// newLike returns a zero tensor of x's shape with the last dimension set
// to last.
func newLike(x *Tensor, last int) *Tensor {
	shape := append([]int(nil), x.Shape...)
	shape[len(shape)-1] = last
	return NewTensor(shape...)
}

// activate applies a named activation function to t in place, in the
// definition of the Keras version that saved the model.
func (c *call) activate(name string, t *Tensor) error {
	if name == "linear" || name == "" {
		return nil
	}
	f := activationFn(name, c.net.legacy)
	if f == nil {
		return fmt.Errorf("activation %q: %w", name, errNotRunnable)
	}
	m, n := rows(t)
	if n > 0 {
		// Whole rows split over spare CPUs when there are many: an
		// activation is element-wise or row-wise, so the parts are
		// independent and give the same bits as one pass. At a batch of
		// one, EfficientNet's swish after every convolution otherwise
		// runs on one core while the other waits.
		kernel.Parallel(m, max(1, parallelActElems/n), func(lo, hi int) {
			f(t.Data[lo*n:hi*n], n)
		})
	}
	return nil
}

// parallelActElems is the least number of values of one part of an
// activation split over CPUs: about ten microseconds of swish.
const parallelActElems = 1 << 15

// arg names the keyword argument input i was passed in, "" if positional.
func (n *Node) arg(i int) string {
	if i < len(n.args) {
		return n.args[i]
	}
	return ""
}

// safeForward runs a forward pass, turning a panic into an error. Every
// layer checks its inputs, but a file can describe combinations no test
// has seen; a service calling Predict should get an error naming the
// layer, not a crash.
func safeForward(f forwarder, c *call) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("internal error (a kerascope bug; please report it with the model): %v", r)
		}
	}()
	return f.forward(c)
}

// mergesInPlace reports whether call n (run by impl when set) is an
// element-wise merge, which can write its output over an input (a
// residual Add fused with a convolution too: fuse_residual.go).
func mergesInPlace(n *Node, impl forwarder) bool {
	if f, ok := impl.(*fusedCall); ok {
		impl = f.impl
	}
	if impl != nil {
		switch impl.(type) {
		case elemwise, *residualAdd:
			return true
		}
		return false
	}
	_, ok := n.Layer.impl.(elemwise)
	return ok
}

// sameData returns a tensor of x's shape and values for a layer that only
// relabels them (Reshape, Flatten): a view of x when x is the run's own
// (the run holds its buffer for as long as either is read, and an output
// leaves the arena as a copy), else a copy, so that no output shares
// memory with the caller's inputs.
func (c *call) sameData(x *Tensor) *Tensor {
	if c.ar.owner(x) != nil {
		return &Tensor{Shape: append([]int(nil), x.Shape...), Data: x.Data}
	}
	return x.Clone()
}
