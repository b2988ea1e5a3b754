package graph

// A Graph is a drawing to be: nodes, edges and clusters, in a fixed order so
// that every output is deterministic.
type Graph struct {
	Name    string
	RankDir string   // "TB", "LR", "BT" or "RL"
	Caption []string // lines under the picture
	Nodes   []*Node
	Edges   []*Edge
	// Clusters group nodes in boxes; a node not in any cluster is drawn at
	// the top level.
	Clusters []*Cluster
	// Ranks lists groups of nodes to draw side by side (Graphviz's
	// rank=same) in the given order, which keeps a unit view's columns
	// straight and its units in order.
	Ranks [][]string

	units    bool // a unit view: circles and weights rather than layer boxes
	unrolled bool // a unit view over time: recurrent lines leave the ranks alone
	ids      map[string]bool
}

// A NodeKind tells what a node stands for.
type NodeKind int

const (
	LayerNode  NodeKind = iota // a layer box of the layer view
	InputUnit                  // one feature of a model input
	HiddenUnit                 // one unit of a layer
	OutputUnit                 // one unit of a layer that is a model output
	StateUnit                  // one unit of a recurrent layer's previous state h(t-1)
	GateUnit                   // one gate of one LSTM or GRU unit
	BiasNode                   // a layer's bias vector
	LabelNode                  // the label of a cluster, drawn as a node that lines avoid
)

// A Node is one box or circle.
type Node struct {
	ID   string // unique; derived from layer names
	Kind NodeKind
	// Text is the label of a unit view's node.
	Text string
	// Box is the label of a layer view's node.
	Box *LayerBox
	// Layer names the layer the node belongs to ("" for none).
	Layer string
	// Group names a column of nodes that Graphviz keeps straight (DOT's
	// group attribute).
	Group string
}

// A LayerBox is what plot_model writes in a layer's box.
type LayerBox struct {
	Name, Class string
	Activation  string // "" when the layer has none
	// InputShape and OutputShape are Python-formatted shapes, "?" when
	// unknown; InputShape is "" for an InputLayer, which has no input.
	InputShape, OutputShape string
	// Trainable is nil for a layer without weights, which plot_model
	// leaves unmarked.
	Trainable *bool
}

// An EdgeKind tells what an edge stands for; the unit view's counts rely
// on it.
type EdgeKind int

const (
	Connection EdgeKind = iota // a tensor passed from one layer to another
	Weight                     // one element of a kernel
	Recurrent                  // one element of a recurrent kernel
	Bias                       // one element of a bias
	Flow                       // a value passed on without a weight: gate to unit
	Layout                     // no line: keeps a node above another in DOT
)

// An Edge is one arrow.
type Edge struct {
	From, To string
	Kind     EdgeKind
	// Layer names the layer whose weight the edge is, for Weight,
	// Recurrent and Bias edges.
	Layer string
}

// A Cluster is a labelled box around nodes.
type Cluster struct {
	ID       string
	Label    []string
	Nodes    []string
	Clusters []*Cluster
	// Dashed draws the box dashed, as plot_model draws a nested model.
	Dashed bool
	// LabelNode is the ID of a LabelNode that shows the label in DOT;
	// Mermaid shows Label as the subgraph's title.
	LabelNode string
	// Plain clusters are drawn without a box in DOT, their nodes at the
	// top level: Graphviz lays out lines between clusters of one rank
	// badly (doubled, or nodes out of order). Mermaid draws them.
	Plain bool
}

func newGraph(name, rankdir string, units bool) *Graph {
	return &Graph{Name: name, RankDir: rankdir, units: units, ids: map[string]bool{}}
}

// addNode adds n unless a node with its ID exists, and returns the node
// the graph holds under that ID.
func (g *Graph) addNode(n *Node) *Node {
	if g.ids[n.ID] {
		for _, m := range g.Nodes {
			if m.ID == n.ID {
				return m
			}
		}
	}
	g.ids[n.ID] = true
	g.Nodes = append(g.Nodes, n)
	return n
}

// Count returns the number of edges of the given kinds, for one layer
// or, with layer "", for all.
func (g *Graph) Count(layer string, kinds ...EdgeKind) int {
	n := 0
	for _, e := range g.Edges {
		if layer != "" && e.Layer != layer {
			continue
		}
		for _, k := range kinds {
			if e.Kind == k {
				n++
				break
			}
		}
	}
	return n
}

// The unit view's colours: one hue per role, so that the picture can be
// read without the legend; the recurrent red is the one strong colour.
const (
	colInput     = "#dbe9f6"
	colInputLine = "#4a78a8"
	colHidden    = "#fde9c9"
	colHidLine   = "#c9822b"
	colOutput    = "#d5ecd4"
	colOutLine   = "#4d8b4a"
	colState     = "#fbe3e0"
	colRecurrent = "#c0392b"
	colGate      = "#eeeeee"
	colBias      = "#f4f4f4"
	colBiasLine  = "#8c8c8c"
	colWeight    = "#4d4d4d"
	colFlow      = "#a0a0a0"
)

// nodeStyle returns the fill and line colours of a unit view's node.
func nodeStyle(k NodeKind) (fill, line string) {
	switch k {
	case InputUnit:
		return colInput, colInputLine
	case OutputUnit:
		return colOutput, colOutLine
	case StateUnit:
		return colState, colRecurrent
	case GateUnit:
		return colGate, colFlow
	case BiasNode:
		return colBias, colBiasLine
	}
	return colHidden, colHidLine
}
