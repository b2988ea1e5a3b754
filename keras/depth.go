package keras

// NodeDepths returns the depth of every node that leads to the model's
// outputs, as Keras's functional graph map computes it (keras/src/ops/
// function.py map_graph; tf_keras engine/functional.py
// _map_graph_network): output nodes have depth 0, a node's inputs are one
// deeper than the deepest node that consumes them, and every call of a
// shared layer gets that layer's deepest depth. Nodes that do not lead to
// an output are not in the map. Keras's summaries use it to tell
// sequential-like models from branched ones and to list connections.
func (m *Model) NodeDepths() map[*Node]int {
	order := m.nodesInDecreasingDepth()
	depths := make(map[*Node]int, len(order))
	layerDepths := make(map[*Layer]int)
	for i := len(order) - 1; i >= 0; i-- {
		n := order[i]
		d := max(depths[n], layerDepths[n.Layer])
		layerDepths[n.Layer] = d
		depths[n] = d
		for _, in := range n.Inputs {
			p := in.Layer.Nodes[in.Node]
			depths[p] = max(depths[p], d+1)
		}
	}
	return depths
}

// nodesInDecreasingDepth lists the nodes that lead to the outputs, each
// after the nodes it consumes (Keras's _build_map: a depth-first walk from
// each output, appending a node once all its inputs are listed).
func (m *Model) nodesInDecreasingDepth() []*Node {
	var order []*Node
	done := make(map[*Node]bool)
	var walk func(n *Node)
	walk = func(n *Node) {
		if done[n] {
			return
		}
		done[n] = true // the graph was checked acyclic by infer
		for _, in := range n.Inputs {
			walk(in.Layer.Nodes[in.Node])
		}
		order = append(order, n)
	}
	for _, out := range m.Outputs {
		if out.Node < len(out.Layer.Nodes) {
			walk(out.Layer.Nodes[out.Node])
		}
	}
	return order
}

// SequentialLike reports whether Keras's summary shows the model as a plain
// stack of layers, without a "Connected to" column: a Sequential model, or a
// functional one in which no depth holds two nodes, no node takes several
// tensors and no layer is called twice.
func (m *Model) SequentialLike() bool {
	if m.Class == "Sequential" {
		return true
	}
	depths := m.NodeDepths()
	perDepth := make(map[int]int)
	for n, d := range depths {
		perDepth[d]++
		if perDepth[d] > 1 || len(n.Inputs) > 1 {
			return false
		}
	}
	for _, l := range m.Layers {
		calls := 0
		for _, n := range l.Nodes {
			if _, ok := depths[n]; ok {
				calls++
			}
		}
		if calls > 1 {
			return false
		}
	}
	return true
}
