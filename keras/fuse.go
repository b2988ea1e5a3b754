package keras

import (
	"fmt"

	"github.com/kerascope/kerascope/keras/internal/kernel"
)

// Load-time graph optimization. A convolution or Dense layer followed by
// BatchNormalization and an activation is, at inference, one product with
// other weights and an epilogue; running it as three layers costs two
// extra passes over the activation and two extra tensors. NewNet plans,
// once, which calls to fold (the model itself is left as decoded):
//
//   - BatchNormalization whose input is a linear (activation "linear")
//     channels-last convolution (plain, depthwise or separable) or Dense
//     call that nothing else reads, normalizing the last axis: its scale
//     multiplies the producer's kernel per output channel and its shift
//     joins the bias (bias·scale + shift);
//   - a ReLU or Activation layer (but glu, which changes the shape) whose
//     input is such a call (folded or not), or an element-wise merge (Add,
//     Multiply, ...: ResNet's Add then relu), that nothing else reads: it
//     runs in place on the producer's output, as its epilogue;
//   - Dropout, GaussianNoise and the other layers that are the identity at
//     inference (but the spatial dropouts, whose rank is checked): their
//     value is their input's;
//   - a ZeroPadding layer whose only reader is a channels-last
//     convolution (plain, depthwise or separable) or "valid" max pooling:
//     the reader reads the unpadded input and its window counts the zeros
//     in, so the padded copy is never made (MobileNet and EfficientNet pad
//     before every strided depthwise convolution, ResNet before its first
//     convolution and its first pooling).
//
// The folded call computes the same function with its multiplications
// reassociated (conv·scale becomes conv with kernel·scale), which moves
// results by rounding only; the fixtures check it against Keras, and
// TestFusedMatchesUnfused against the unfused graph.

// A plan is a Net's rewrites of its graph.
type plan struct {
	// over gives calls a replacement forward pass and weights.
	over map[*Node]*fusedCall
	// alias marks calls whose output is their input's (the folded
	// normalizations and activations): alias[n] is the call n reads.
	alias map[*Node]*Node
	// folded counts the calls folded away by layer class, and those
	// whose kernel was packed ("packed <class>", pack.go), for tests.
	folded map[string]int
	// inputs gives calls that read another call's input instead of its
	// output (the convolutions a padding was folded into); skip marks the
	// calls no one reads any more, which are not run.
	inputs map[*Node][]TensorRef
	skip   map[*Node]bool
}

// A fusedCall is a call's replacement: a copy of its layer kind with other
// settings, the weights it runs with, and an activation layer applied in
// place afterwards.
type fusedCall struct {
	impl forwarder
	w    []*Tensor
	relu *reluLayer
	// epilogue, when set, adds bias and applies relu in one pass after
	// impl, which then runs without its bias (and activation).
	epilogue epilogueKind
	bias     []float32
	// act is an Activation layer's function applied in place after an
	// element-wise merge (a product takes it as its own activation).
	act string
}

type epilogueKind int

const (
	noEpilogue    epilogueKind = iota
	biasRelu                   // the relu activation (kernel.Relu)
	biasReluLayer              // the ReLU layer without slope or threshold
)

func (f *fusedCall) forward(c *call) error {
	if e, ok := f.impl.(elemwise); ok && f.epilogue == noEpilogue && (f.relu != nil || f.act != "") {
		// The merge applies them part by part where it can.
		if applied, err := f.mergeThen(e, c); err != nil || applied {
			return err
		}
	} else if err := f.impl.forward(c); err != nil {
		return err
	}
	out := c.out[0].Data
	switch f.epilogue {
	case biasRelu:
		kernel.BiasRelu(out, f.bias)
	case biasReluLayer:
		kernel.BiasReluCap(out, f.bias, f.relu.maxValue, f.relu.hasMax)
	default:
		if f.relu != nil {
			kernel.KerasRelu(out, f.relu.slope, f.relu.maxValue, f.relu.hasMax, f.relu.threshold)
		}
	}
	if f.act != "" {
		return c.activate(f.act, c.out[0])
	}
	return nil
}

// mergeThen runs an element-wise merge with the relu and activation folded
// into it applied part by part as the merge completes them
// (elemwise.forwardThen), and reports whether they were: where they were
// not, forward applies them after it.
func (f *fusedCall) mergeThen(e elemwise, c *call) (bool, error) {
	var act func([]float32, int)
	if f.act != "" && f.act != "linear" {
		if act = activationFn(f.act, c.net.legacy); act == nil {
			return false, fmt.Errorf("activation %q: %w", f.act, errNotRunnable)
		}
	}
	return e.forwardThen(c, func(x []float32, n int) {
		if f.relu != nil {
			kernel.KerasRelu(x, f.relu.slope, f.relu.maxValue, f.relu.hasMax, f.relu.threshold)
		}
		if act != nil {
			act(x, n)
		}
	})
}

// setEpilogue moves the bias and a relu of f into one pass after the
// product, when f's product has a bias and relu follows it.
func (f *fusedCall) setEpilogue() {
	var useBias *bool
	var activation *string
	at := 1 // index of the bias among the weights
	switch k := f.impl.(type) {
	case *conv:
		useBias, activation = &k.useBias, &k.activation
		if k.kind == separableConv {
			at = 2
		}
	case *dense:
		useBias, activation = &k.useBias, &k.activation
	default:
		return
	}
	if !*useBias || at >= len(f.w) || f.w[at] == nil {
		return
	}
	switch {
	case f.relu != nil && f.relu.slope == 0 && f.relu.threshold == 0 && linearName(*activation):
		f.epilogue = biasReluLayer
	case f.relu == nil && *activation == "relu":
		f.epilogue, *activation = biasRelu, "linear"
	default:
		return
	}
	*useBias = false
	f.bias = f.w[at].Data
}

// planAtLoad turns the planning off, for tests that compare with the
// graph as decoded; fuseExpandAtLoad and fuseResidualAtLoad the fusions
// of fuse_expand.go and fuse_residual.go alone.
var planAtLoad, fuseExpandAtLoad, fuseResidualAtLoad = true, true, true

// optimize plans the rewrites of net's model and the models inside it.
func (net *Net) optimize() {
	if !planAtLoad {
		return
	}
	p := &plan{over: make(map[*Node]*fusedCall), alias: make(map[*Node]*Node), folded: make(map[string]int),
		inputs: make(map[*Node][]TensorRef), skip: make(map[*Node]bool)}
	for m := range net.order {
		p.optimizeModel(net, m)
		p.foldPadding(net, m)
		net.release[m] = releases(m, net.order[m], p)
	}
	for _, f := range p.over {
		f.setEpilogue()
	}
	p.packWeights(net)
	if fuseExpandAtLoad {
		p.fuseExpand(net)
	}
	if fuseResidualAtLoad {
		p.fuseResidual(net)
	}
	for m := range net.order {
		// Again, after the fusions that run two calls as one.
		net.release[m] = releases(m, net.order[m], p)
	}
	net.plan = p
	// The weights of layers whose every call was folded or rewritten are
	// read no more (a folded kernel is a new copy): let them go, so that
	// a model's weights are in memory once.
	for l := range net.weights {
		if len(l.Nodes) == 0 {
			continue
		}
		unused := true
		for _, n := range l.Nodes {
			if _, ok := p.alias[n]; !ok && p.over[n] == nil {
				unused = false
				break
			}
		}
		if unused {
			delete(net.weights, l)
		}
	}
}

func (p *plan) optimizeModel(net *Net, m *Model) {
	if m.Subclassed {
		return
	}
	readers := p.readers(net, m)
	for _, n := range net.order[m] {
		// A product with its own relu gets the one-pass epilogue too.
		if p.over[n] == nil {
			if f := p.epilogue(net, n); f == nil {
				if f := reluProduct(net, n); f != nil {
					p.over[n] = f
				}
			}
		}
		if len(n.Inputs) != 1 || n.arg(0) != "" || n.Inputs[0].Tensor != 0 {
			continue
		}
		r := n.Inputs[0]
		src := r.Layer.Nodes[r.Node]
		// The producer of the value the call reads, through earlier
		// folds.
		prod := p.producer(src)
		if l, ok := n.Layer.impl.(passThrough); ok && !l.many && l.rank == 0 && !p.skip[src] && src.Layer.Class != "InputLayer" {
			// Dropout, GaussianNoise and the like are the identity at
			// inference: their value is their input's, which the
			// folds below and in fuse_residual.go then see through
			// (EfficientNet's Dropout between a block's projection and
			// its residual Add). Not on a model's input, which is the
			// caller's: the layer's output must be a copy of it.
			p.alias[n] = src
			p.folded[n.Layer.Class]++
			continue
		}
		if !p.readOnce(readers, src) {
			continue
		}
		switch l := n.Layer.impl.(type) {
		case *batchNorm:
			if prod != src || p.over[prod] != nil {
				continue // a normalization after an activation is no fold
			}
			if f := foldBatchNorm(net, prod, n, l); f != nil {
				p.over[prod] = f
				p.alias[n] = src
				p.folded[n.Layer.Class]++
			}
		case *reluLayer:
			if f := p.epilogue(net, prod); f != nil && f.relu == nil {
				f.relu = l
				p.over[prod] = f
				p.alias[n] = src
				p.countFold(n, prod)
			}
		case activationLayer:
			if l.fn == "glu" {
				continue
			}
			if f := p.epilogue(net, prod); f != nil && f.relu == nil {
				switch k := f.impl.(type) {
				case *conv:
					k.activation = l.fn
				case *dense:
					k.activation = l.fn
				case elemwise:
					f.act = l.fn
				}
				p.over[prod] = f
				p.alias[n] = src
				p.countFold(n, prod)
			}
		}
	}
}

// countFold counts a fold of call n into prod: by n's class, and by
// "<class> after <merge>" when prod is an element-wise merge.
func (p *plan) countFold(n, prod *Node) {
	if _, ok := prod.Layer.impl.(elemwise); ok {
		p.folded[n.Layer.Class+" after "+prod.Layer.Class]++
		return
	}
	p.folded[n.Layer.Class]++
}

// foldPadding folds each ZeroPadding call whose one reader is a
// channels-last convolution or "valid" max pooling into that reader (see
// the top of the file).
func (p *plan) foldPadding(net *Net, m *Model) {
	if m.Subclassed {
		return
	}
	readers := p.readers(net, m)
	for _, n := range net.order[m] {
		in := p.inputsOf(n)
		if len(in) != 1 || n.arg(0) != "" || in[0].Tensor != 0 {
			continue
		}
		// The reader's rank, and where its copy keeps the padding.
		var rank int
		var before, after *[]int
		f := p.over[n]
		switch l := n.Layer.impl.(type) {
		case *conv:
			if l.channelsFirst || l.kind == transposeConv {
				continue
			}
			if f == nil {
				k := *l
				f = &fusedCall{impl: &k, w: net.weights[n.Layer]}
			}
			k := f.impl.(*conv)
			rank, before, after = l.rank, &k.padBefore, &k.padAfter
		case *pool:
			// A max pooling over the zeros (ResNet's first pooling);
			// an average would count them, which its kernel does not.
			if !l.max || l.channelsFirst || l.padding != "valid" || f != nil {
				continue
			}
			k := *l
			f = &fusedCall{impl: &k}
			rank, before, after = l.rank, &k.padBefore, &k.padAfter
		default:
			continue
		}
		zp := in[0].Layer.Nodes[in[0].Node]
		pad, ok := zp.Layer.impl.(*spatialResize)
		if !ok || !pad.pad || pad.channelsFirst || pad.rank != rank || readers[zp] != 1 ||
			p.over[zp] != nil || len(zp.Inputs) != 1 || zp.arg(0) != "" || p.skip[zp] {
			continue
		}
		if _, folded := p.alias[zp]; folded {
			continue
		}
		if *before != nil {
			continue
		}
		*before, *after = make([]int, rank), make([]int, rank)
		for i := range rank {
			(*before)[i] = pad.before[i]
			(*after)[i] = pad.grow[i] - pad.before[i]
		}
		p.over[n] = f
		p.inputs[n] = zp.Inputs
		p.skip[zp] = true
		p.folded[zp.Layer.Class]++
	}
}

// readers counts the reads of each call's outputs in m by the calls that
// run, after the plan's rewrites so far; a model output counts as one
// more, so that it is never folded into something else.
func (p *plan) readers(net *Net, m *Model) map[*Node]int {
	readers := make(map[*Node]int)
	for _, n := range net.order[m] {
		if p.skip[n] {
			continue // not run: folded into its reader
		}
		for _, r := range p.inputsOf(n) {
			readers[r.Layer.Nodes[r.Node]]++
		}
	}
	for _, r := range m.Outputs {
		readers[r.Layer.Nodes[r.Node]]++
	}
	return readers
}

// inputsOf returns the tensors call n reads, after the plan's rewrites.
func (p *plan) inputsOf(n *Node) []TensorRef {
	if p != nil {
		if in, ok := p.inputs[n]; ok {
			return in
		}
	}
	return n.Inputs
}

// skipped reports whether the plan leaves call n out.
func (p *plan) skipped(n *Node) bool { return p != nil && p.skip[n] }

// readOnce reports whether n's output, and that of every call n's output
// is an alias of, has one reader only: then the producer's output may take
// a new meaning.
func (p *plan) readOnce(readers map[*Node]int, n *Node) bool {
	for {
		if readers[n] != 1 {
			return false
		}
		a, ok := p.alias[n]
		if !ok {
			return true
		}
		n = a
	}
}

// epilogue returns the call's replacement (made now if it has none) when
// the call is a linear channels-last convolution or Dense, whose output an
// activation may then transform in place; nil otherwise.
func (p *plan) epilogue(net *Net, n *Node) *fusedCall {
	if f := p.over[n]; f != nil {
		if f.act == "" && linear(f.impl) {
			return f
		}
		return nil
	}
	switch l := n.Layer.impl.(type) {
	case *conv:
		if l.channelsFirst || l.kind == transposeConv || !linearName(l.activation) {
			return nil
		}
		k := *l
		return &fusedCall{impl: &k, w: net.weights[n.Layer]}
	case *dense:
		if !linearName(l.activation) {
			return nil
		}
		k := *l
		return &fusedCall{impl: &k, w: net.weights[n.Layer]}
	case elemwise:
		// A merge's output is always a new tensor (mergeElemwise).
		return &fusedCall{impl: l, w: net.weights[n.Layer]}
	}
	return nil
}

// reluProduct returns a replacement of a channels-last convolution or
// Dense call with the relu activation (which setEpilogue then fuses with
// its bias), or nil.
func reluProduct(net *Net, n *Node) *fusedCall {
	switch l := n.Layer.impl.(type) {
	case *conv:
		if l.channelsFirst || l.kind == transposeConv || l.activation != "relu" {
			return nil
		}
		k := *l
		return &fusedCall{impl: &k, w: net.weights[n.Layer]}
	case *dense:
		if l.activation != "relu" {
			return nil
		}
		k := *l
		return &fusedCall{impl: &k, w: net.weights[n.Layer]}
	}
	return nil
}

func linear(f forwarder) bool {
	switch k := f.(type) {
	case *conv:
		return linearName(k.activation)
	case *dense:
		return linearName(k.activation)
	case elemwise:
		return true
	}
	return false
}

func linearName(fn string) bool { return fn == "" || fn == "linear" }

// foldBatchNorm returns the producer's call with bn folded into it, or nil
// when it cannot be folded.
func foldBatchNorm(net *Net, prod, n *Node, bn *batchNorm) *fusedCall {
	if len(n.Outputs) != 1 || n.Outputs[0] == nil {
		return nil
	}
	rank := len(n.Outputs[0])
	axes, err := sortedAxes(bn.axes, rank)
	if err != nil || len(axes) != 1 || axes[0] != rank-1 {
		return nil
	}
	ch := n.Outputs[0][rank-1]
	if ch <= 0 {
		return nil
	}
	scale, shift, err := bn.scaleShift(net.weights[n.Layer], ch)
	if err != nil {
		return nil
	}
	w := net.weights[prod.Layer]
	for _, t := range w {
		if t == nil {
			return nil
		}
	}
	// kernelAt is the index of the weight whose output channels are the
	// last axis (scaled), biasAt where the bias is or goes.
	var kernelAt, biasAt int
	var useBias bool
	var impl forwarder
	switch l := prod.Layer.impl.(type) {
	case *conv:
		if l.channelsFirst || !linearName(l.activation) {
			return nil
		}
		switch l.kind {
		case plainConv, depthwiseConv:
			kernelAt, biasAt = 0, 1
		case separableConv:
			kernelAt, biasAt = 1, 2
		default:
			return nil
		}
		k := *l
		useBias, k.useBias = l.useBias, true
		impl = &k
	case *dense:
		if !linearName(l.activation) {
			return nil
		}
		kernelAt, biasAt = 0, 1
		k := *l
		useBias, k.useBias = l.useBias, true
		impl = &k
	default:
		return nil
	}
	if len(w) < biasAt || useBias && len(w) < biasAt+1 {
		return nil
	}
	kern := w[kernelAt].Data
	if len(kern) == 0 || len(kern)%ch != 0 {
		return nil
	}
	if useBias && len(w[biasAt].Data) != ch {
		return nil
	}
	// Keras's kernels keep the output channel innermost: (…, ch) for
	// plain and pointwise kernels and Dense, (…, channels, multiplier)
	// for depthwise ones, whose output channel c·multiplier+m is that
	// same index.
	// A layer called once has no other use for its kernel: fold it in
	// place, so that the model's weights are in memory once, at load too.
	folded := kern
	if len(prod.Layer.Nodes) != 1 {
		folded = make([]float32, len(kern))
	}
	for i, v := range kern {
		folded[i] = v * scale[i%ch]
	}
	bias := make([]float32, ch)
	for j := range bias {
		var b float32
		if useBias {
			b = w[biasAt].Data[j]
		}
		bias[j] = b*scale[j] + shift[j]
	}
	nw := append([]*Tensor(nil), w[:biasAt]...)
	nw[kernelAt] = &Tensor{Shape: append([]int(nil), w[kernelAt].Shape...), Data: folded}
	nw = append(nw, &Tensor{Shape: []int{ch}, Data: bias})
	return &fusedCall{impl: impl, w: nw}
}

// producer returns the call that computes n's output: n, or the call n
// was folded into, through every fold.
func (p *plan) producer(n *Node) *Node {
	for {
		a, ok := p.alias[n]
		if !ok {
			return n
		}
		n = a
	}
}

// aliasOf returns the call whose output is n's, when n was folded into it.
func (p *plan) aliasOf(n *Node) (*Node, bool) {
	if p == nil {
		return nil, false
	}
	src, ok := p.alias[n]
	return src, ok
}

// override returns n's replacement, or nil.
func (p *plan) override(n *Node) *fusedCall {
	if p == nil {
		return nil
	}
	return p.over[n]
}
