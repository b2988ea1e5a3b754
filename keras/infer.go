package keras

import "fmt"

// A layerKind is the class-specific part of a layer: what its config
// implies for shapes and weights. Each layer family's file implements it
// next to its config decoding.
type layerKind interface {
	// build returns the weights the layer creates when first called on
	// inputs of these shapes (Keras builds a layer on its first call).
	build(in []Shape) ([]WeightSpec, error)
	// outputShapes returns the shapes of the tensors a call on inputs of
	// these shapes produces. A nil result with a nil error means unknown.
	outputShapes(in []Shape) ([]Shape, error)
}

// A nodeShaper is a layer kind whose output shapes depend on the call's
// recorded arguments, not only on its inputs' shapes (TF ops).
type nodeShaper interface {
	nodeOutputShapes(n *Node, in []Shape) ([]Shape, error)
}

// infer computes the output shapes of every node and builds every layer
// from its first call, in dependency order, so layers may appear in the
// config before the layers they consume (as shared layers do).
func (m *Model) infer() error {
	order, err := schedule(m)
	if err != nil {
		return err
	}
	for _, n := range order {
		if err := n.run(); err != nil {
			return fmt.Errorf("layer %q (%s): %w", n.Layer.Name, n.Layer.Class, err)
		}
	}
	m.fillFromHints()
	return nil
}

// schedule lists a model's nodes in an order in which each node's inputs
// come before it: shape inference and the forward pass both follow it.
func schedule(m *Model) ([]*Node, error) {
	var pending []*Node
	if m.Input != nil {
		pending = append(pending, m.Input.Nodes...)
	}
	for _, l := range m.Layers {
		pending = append(pending, l.Nodes...)
	}
	done := make(map[*Node]bool, len(pending))
	order := make([]*Node, 0, len(pending))
	for len(pending) > 0 {
		next := pending[:0]
		for _, n := range pending {
			ready, err := n.inputsReady(done)
			if err != nil {
				return nil, err
			}
			if !ready {
				next = append(next, n)
				continue
			}
			done[n] = true
			order = append(order, n)
		}
		if len(next) == len(pending) {
			n := next[0]
			return nil, formatErrorf("layer %q (%s): its inputs form a cycle", n.Layer.Name, n.Layer.Class)
		}
		pending = next
	}
	return order, nil
}

// fillFromHints gives the calls whose outputs kerascope could not infer
// (operations and layers it does not know) the shapes Keras 3 recorded
// where those outputs are consumed, when they cover every output.
func (m *Model) fillFromHints() {
	hints := make(map[*Node][]Shape)
	for _, l := range m.Layers {
		for _, n := range l.Nodes {
			for i, r := range n.Inputs {
				src := r.Layer.Nodes[r.Node]
				if src.Outputs != nil || i >= len(n.inputHints) || n.inputHints[i] == nil {
					continue
				}
				h := hints[src]
				for len(h) <= r.Tensor {
					h = append(h, nil)
				}
				h[r.Tensor] = n.inputHints[i]
				hints[src] = h
			}
		}
	}
	for n, h := range hints {
		complete := true
		for _, s := range h {
			complete = complete && s != nil
		}
		if complete {
			n.Outputs = h
		}
	}
}

func (n *Node) inputsReady(done map[*Node]bool) (bool, error) {
	for _, r := range n.Inputs {
		if r.Node >= len(r.Layer.Nodes) {
			return false, formatErrorf("layer %q (%s): input %s[%d][%d] names a call that layer %q does not have",
				n.Layer.Name, n.Layer.Class, r.Layer.Name, r.Node, r.Tensor, r.Layer.Name)
		}
		if !done[r.Layer.Nodes[r.Node]] {
			return false, nil
		}
	}
	return true, nil
}

// run infers the node's output shapes, building its layer first if this is
// the layer's first call with known input shapes.
func (n *Node) run() error {
	in := make([]Shape, 0, len(n.Inputs))
	for i, r := range n.Inputs {
		// A mask passed by keyword shapes nothing.
		if n.arg(i) == "mask" {
			continue
		}
		src := r.Layer.Nodes[r.Node]
		if src.Outputs != nil && r.Tensor >= len(src.Outputs) {
			return formatErrorf("input %s[%d][%d]: that call has %d outputs", r.Layer.Name, r.Node, r.Tensor, len(src.Outputs))
		}
		s := r.Shape()
		if s == nil && i < len(n.inputHints) {
			s = n.inputHints[i].Clone()
		}
		if s == nil {
			return nil // an input of unknown shape: so is every output
		}
		in = append(in, s)
	}
	l := n.Layer
	if !l.Built {
		w, err := l.impl.build(in)
		if err != nil {
			return err
		}
		for i := range w {
			if w[i].DType == "" {
				w[i].DType = l.dtype
			}
			if w[i].DType == "" {
				w[i].DType = "float32"
			}
		}
		l.Weights, l.Built = w, true
		if _, unknown := l.impl.(unknownLayer); unknown {
			l.Built = false
		}
	}
	var out []Shape
	var err error
	if ns, ok := l.impl.(nodeShaper); ok {
		out, err = ns.nodeOutputShapes(n, in)
	} else {
		out, err = l.impl.outputShapes(in)
	}
	if err != nil {
		return err
	}
	n.Outputs = out
	return nil
}

// wantInputs checks the number of inputs a call received.
func wantInputs(in []Shape, n int) error {
	if len(in) != n {
		return formatErrorf("called on %d inputs, want %d", len(in), n)
	}
	return nil
}

// wantRank checks an input's rank; min and max bound it (max < 0: no bound).
func wantRank(s Shape, min, max int) error {
	if len(s) < min || (max >= 0 && len(s) > max) {
		if min == max {
			return formatErrorf("input shape %s has rank %d, want %d", s, len(s), min)
		}
		return formatErrorf("input shape %s has rank %d, want at least %d", s, len(s), min)
	}
	return nil
}

// lastDim returns the last dimension of s, which must be known: layers such
// as Dense size their weights by it.
func lastDim(s Shape) (int, error) {
	if len(s) == 0 || s[len(s)-1] < 0 {
		return 0, formatErrorf("input shape %s: the last dimension must be known", s)
	}
	return s[len(s)-1], nil
}

// inputLayer is an InputLayer: one output, of the configured batch shape.
type inputLayer struct{ shape Shape }

func (inputLayer) build([]Shape) ([]WeightSpec, error) { return nil, nil }
func (l inputLayer) outputShapes([]Shape) ([]Shape, error) {
	return []Shape{l.shape.Clone()}, nil
}

// unknownLayer stands in for a class this tool does not know: a custom
// layer, a Lambda, or a built-in not yet covered. Its shapes are unknown.
type unknownLayer struct{}

func (unknownLayer) build([]Shape) ([]WeightSpec, error)   { return nil, nil }
func (unknownLayer) outputShapes([]Shape) ([]Shape, error) { return nil, nil }
