package graph

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/kerascope/kerascope/keras"
)

// Units draws every unit and weight of a small model of Dense and
// recurrent layers: one edge per weight and one per bias element, so that
// each layer's edges add up to its parameter count.
//
// The picture is laid out in columns: a layer's inputs, its previous state
// and its biases in one column, its gates (LSTM, GRU) in the next and its
// units after them. Each cluster holds nodes of one column only and carries
// its label as a node at the top, which lines route around, so clusters
// stack neatly and no line crosses a label.
func Units(m *keras.Model, opt UnitOptions) (*Graph, error) {
	plan, err := planUnits(m)
	if err != nil {
		return nil, err
	}
	if opt.Unroll {
		return unroll(m, plan, opt)
	}
	b := &unitBuilder{g: newGraph(m.Name, orDefault(opt.RankDir, "LR"), true), col: map[string]int{}, cluster: map[string]int{}, kinds: map[EdgeKind]bool{}}
	ids := map[*unitLayer][]string{}
	cols := map[*unitLayer]int{}
	var parts []string
	total := 0
	for _, u := range plan {
		name := u.l.Name
		if u.src == nil {
			c := b.newCluster(name, 0, name+": InputLayer", inputDescription(u))
			for i := 1; i <= u.units; i++ {
				ids[u] = append(ids[u], b.node(c, 0, unitID(u, "x", i), "x"+strconv.Itoa(i), InputUnit, name))
			}
			continue
		}
		in := cols[u.src]
		var state, biases []string
		if u.recurrent {
			sc := b.newCluster(name+"/state", in, name+" state,", "previous step")
			for k := 1; k <= u.units; k++ {
				state = append(state, b.node(sc, in, unitID(u, "h", k)+"(t-1)", "h"+strconv.Itoa(k)+"\n(t-1)", StateUnit, name))
			}
		}
		for r := range u.biasRows {
			// The layer's name is in the text: a bias sits outside its
			// layer's cluster, in the column of the layer's inputs.
			id, text := name+"/bias", name+"\nbias"
			if u.biasRows == 2 {
				kind := []string{"input", "recurrent"}[r]
				id, text = name+"/"+kind+" bias", name+"\n"+kind+" bias"
			}
			biases = append(biases, b.node(nil, in, id, text, BiasNode, name))
		}
		head := []string{fmt.Sprintf("%s: %s(%d)", name, u.l.Class, u.units), formula(u)}
		for _, t := range u.then {
			head = append(head, "then "+t+": no weights, each unit passes on")
		}
		switch {
		case u.recurrent && u.seq:
			head = append(head, "return_sequences=True: h goes on at every step")
		case u.recurrent:
			head = append(head, "return_sequences=False: only the last h goes on")
		case u.seq:
			head = append(head, "the same weights at every time step")
		}
		cols[u] = in + 1
		if u.gates > 1 {
			cols[u] = in + 2
		}
		// targets are what the weights feed: the units, or each unit's
		// gates, which get a cluster (and column) of their own.
		var targets [][]string
		unit, kind := unitName(u)
		if u.gates > 1 {
			gc := b.newCluster(name+"/gates", in+1, name+" gates")
			for j := 1; j <= u.units; j++ {
				var gates []string
				for _, gname := range gateNames[u.gates] {
					gates = append(gates, b.node(gc, in+1, unitID(u, gname, j), gname+strconv.Itoa(j), GateUnit, name))
				}
				targets = append(targets, gates)
			}
		}
		c := b.newCluster(name, cols[u], head...)
		for j := 1; j <= u.units; j++ {
			h := b.node(c, cols[u], unitID(u, unit, j), unit+strconv.Itoa(j), kind, name)
			ids[u] = append(ids[u], h)
			if u.gates == 1 {
				targets = append(targets, []string{h})
				continue
			}
			for _, t := range targets[j-1] {
				b.edge(t, h, Flow, name)
			}
		}
		for _, ts := range targets {
			for _, t := range ts {
				for _, x := range ids[u.src] {
					b.edge(x, t, Weight, name)
				}
				for _, s := range state {
					b.edge(s, t, Recurrent, name)
				}
				for _, bias := range biases {
					b.edge(bias, t, Bias, name)
				}
			}
		}
		total += u.params()
		parts = append(parts, strconv.Itoa(u.params()))
	}
	g := b.g
	if n := g.Count("", Weight, Recurrent, Bias); n > MaxEdges {
		return nil, fmt.Errorf("the unit view of %q would draw %d weights, more than %d", m.Name, n, MaxEdges)
	}
	b.ranks()
	g.Caption = legend(b.kinds, plan)
	if len(parts) > 0 {
		sum := strings.Join(parts, " + ")
		if len(parts) > 1 {
			sum += " = " + strconv.Itoa(total)
		}
		g.Caption = append(g.Caption, "Total params: "+sum)
	}
	return g, nil
}

// A unitBuilder adds nodes to a unit view and remembers their columns.
type unitBuilder struct {
	g       *Graph
	col     map[string]int
	cluster map[string]int // index of the cluster that holds each node
	kinds   map[EdgeKind]bool
}

func (b *unitBuilder) node(c *Cluster, col int, id, text string, k NodeKind, layer string) string {
	b.g.addNode(&Node{ID: id, Kind: k, Text: text, Layer: layer})
	b.col[id] = col
	b.cluster[id] = -1
	if c != nil {
		c.Nodes = append(c.Nodes, id)
		b.cluster[id] = slices.Index(b.g.Clusters, c)
	}
	return id
}

func (b *unitBuilder) edge(from, to string, k EdgeKind, layer string) {
	b.g.Edges = append(b.g.Edges, &Edge{From: from, To: to, Kind: k, Layer: layer})
	b.kinds[k] = true
}

// newCluster adds a cluster whose label is a node in column col.
func (b *unitBuilder) newCluster(id string, col int, label ...string) *Cluster {
	c := &Cluster{ID: id, Label: label, LabelNode: id + "/label"}
	b.g.Clusters = append(b.g.Clusters, c)
	b.node(c, col, c.LabelNode, strings.Join(label, "\n"), LabelNode, "")
	return c
}

// ranks makes each column a rank. Top to bottom: the biases, whose lines
// then run down to the units, then each cluster's nodes in the order they
// were added with the cluster's label at the bottom, under its units,
// where the lines coming in from the left and above do not cross it.
func (b *unitBuilder) ranks() {
	last := 0
	for _, c := range b.col {
		last = max(last, c)
	}
	cols := make([][]string, last+1)
	for _, n := range b.g.Nodes {
		c := b.col[n.ID]
		cols[c] = append(cols[c], n.ID)
	}
	kind := map[string]NodeKind{}
	for _, n := range b.g.Nodes {
		kind[n.ID] = n.Kind
	}
	key := func(id string) [3]int {
		switch {
		case kind[id] == BiasNode:
			return [3]int{0, 0, 0}
		case kind[id] == LabelNode:
			return [3]int{1, b.cluster[id], 1}
		}
		return [3]int{1, b.cluster[id], 0}
	}
	for _, col := range cols {
		slices.SortStableFunc(col, func(x, y string) int {
			kx, ky := key(x), key(y)
			return slices.Compare(kx[:], ky[:])
		})
	}
	b.g.Ranks = cols
}
