package graph

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// SVG lays the graph out with a small layered layout of this package's own
// and draws it as SVG. It exists for the browser build (GOOS=js), where
// go-graphviz does not compile (its font finder has no js port), so
// [Render] is not there; the CLI's svg and png go through Graphviz.
//
// The layout is the simplest that reads: ranks by longest path (the
// graph's Ranks kept side by side and in their order, Layout edges
// ranking but not drawn), an unrolled view's steps as aligned columns,
// layer boxes ordered by the mean position of their inputs, straight
// edges. Every drawn element carries
// its layer's name (data-layer), so a page can link a click to the layer,
// and every edge its kind (data-kind), so the count of weights can be read
// off the picture.
func (g *Graph) SVG() []byte {
	l := newLayout(g)
	return l.draw()
}

type lnode struct {
	n          *Node
	w, h       float64 // size
	rank, pos  int
	x, y       float64 // centre
	text       []string
	fill, line string
}

type layout struct {
	g       *Graph
	nodes   []*lnode
	byID    map[string]*lnode
	ranks   [][]*lnode
	lr      bool
	cluster map[*lnode]*Cluster // the innermost drawn cluster of a node
}

const (
	charW   = 7.0 // width of a character at the layout's font size, about
	lineH   = 16.0
	rankGap = 48.0
	nodeGap = 18.0
	pad     = 10.0
)

func newLayout(g *Graph) *layout {
	l := &layout{g: g, byID: map[string]*lnode{}, lr: g.RankDir == "LR" || g.RankDir == "RL"}
	for _, n := range g.Nodes {
		ln := &lnode{n: n}
		switch {
		case n.Box != nil:
			b := n.Box
			ln.text = []string{b.Name + " (" + b.Class + ")"}
			if b.Activation != "" {
				ln.text = append(ln.text, "Activation: "+b.Activation)
			}
			shapes := "Output shape: " + b.OutputShape
			if b.InputShape != "" {
				shapes = "Input shape: " + b.InputShape + " | " + shapes
			}
			if b.Trainable != nil {
				shapes += map[bool]string{true: " | Trainable", false: " | Non-trainable"}[*b.Trainable]
			}
			ln.text = append(ln.text, shapes)
			ln.fill, ln.line = "#ffffff", "#000000"
		case n.Kind == LabelNode:
			ln.text = strings.Split(n.Text, "\n")
		default:
			ln.text = []string{n.Text}
			ln.fill, ln.line = nodeStyle(n.Kind)
		}
		width := 0
		for _, t := range ln.text {
			width = max(width, len([]rune(t)))
		}
		ln.w, ln.h = float64(width)*charW+2*pad, float64(len(ln.text))*lineH+pad
		switch n.Kind {
		case InputUnit, HiddenUnit, OutputUnit, StateUnit:
			ln.w, ln.h = 34, 34
		case GateUnit:
			ln.w, ln.h = max(26, ln.w-pad), 20
		case BiasNode:
			ln.w, ln.h = max(24, ln.w-pad), 22
		}
		l.nodes = append(l.nodes, ln)
		l.byID[n.ID] = ln
	}
	l.cluster = map[*lnode]*Cluster{}
	var member func(cs []*Cluster)
	member = func(cs []*Cluster) {
		for _, c := range cs {
			if !c.Plain {
				for _, id := range c.Nodes {
					if n := l.byID[id]; n != nil {
						l.cluster[n] = c
					}
				}
			}
			member(c.Clusters)
		}
	}
	member(g.Clusters)
	l.rank()
	l.order()
	l.place()
	return l
}

// labelH is the height of a cluster's label above its nodes.
func labelH(c *Cluster) float64 {
	if c == nil || c.LabelNode != "" {
		return 0
	}
	return float64(len(c.Label)) * lineH
}

// ranked reports whether an edge takes part in ranking: an unrolled
// view's recurrent lines join steps whose order the Layout edges give.
func (l *layout) ranked(e *Edge) bool {
	return !(l.g.unrolled && e.Kind == Recurrent)
}

// rank gives every node the length of the longest path to it, nodes of one
// of the graph's Ranks the same rank. Each pass only raises ranks and
// no rank exceeds the node count, so it ends; a cycle is cut there.
func (l *layout) rank() {
	limit := len(l.nodes)
	for changed, pass := true, 0; changed && pass <= limit; pass++ {
		changed = false
		for _, e := range l.g.Edges {
			a, b := l.byID[e.From], l.byID[e.To]
			if a == nil || b == nil || a == b || !l.ranked(e) {
				continue
			}
			if b.rank < a.rank+1 && a.rank+1 <= limit {
				b.rank, changed = a.rank+1, true
			}
		}
		for _, r := range l.g.Ranks {
			top := 0
			for _, id := range r {
				if n := l.byID[id]; n != nil {
					top = max(top, n.rank)
				}
			}
			for _, id := range r {
				if n := l.byID[id]; n != nil && n.rank != top {
					n.rank, changed = top, true
				}
			}
		}
	}
	last := 0
	for _, n := range l.nodes {
		last = max(last, n.rank)
	}
	l.ranks = make([][]*lnode, last+1)
	for _, n := range l.nodes {
		l.ranks[n.rank] = append(l.ranks[n.rank], n)
	}
}

// order keeps a unit view's nodes in the order of the graph's Ranks, then
// of its node list (the order of units is meaningful), and sorts a layer view's ranks by the mean
// position of each node's sources, a few sweeps down, to cut crossings.
func (l *layout) order() {
	if l.g.units {
		// The graph's Ranks give the order within a rank (the unrolled
		// view puts each step's label before its inputs there).
		at := map[*lnode]int{}
		for _, r := range l.g.Ranks {
			for _, id := range r {
				if n := l.byID[id]; n != nil {
					if _, ok := at[n]; !ok {
						at[n] = len(at)
					}
				}
			}
		}
		for _, r := range l.ranks {
			slices.SortStableFunc(r, func(a, b *lnode) int {
				ia, oka := at[a]
				ib, okb := at[b]
				switch {
				case oka && okb:
					return ia - ib
				case oka:
					return -1
				case okb:
					return 1
				}
				return 0
			})
		}
	}
	for _, r := range l.ranks {
		for i, n := range r {
			n.pos = i
		}
	}
	if l.g.units {
		return
	}
	preds := map[*lnode][]*lnode{}
	for _, e := range l.g.Edges {
		a, b := l.byID[e.From], l.byID[e.To]
		if a != nil && b != nil && a.rank < b.rank {
			preds[b] = append(preds[b], a)
		}
	}
	for sweep := 0; sweep < 4; sweep++ {
		for _, r := range l.ranks[1:] {
			key := map[*lnode]float64{}
			for _, n := range r {
				key[n] = float64(n.pos)
				if p := preds[n]; len(p) > 0 {
					s := 0.0
					for _, m := range p {
						s += float64(m.pos)
					}
					key[n] = s / float64(len(p))
				}
			}
			slices.SortStableFunc(r, func(a, b *lnode) int {
				switch {
				case key[a] < key[b]:
					return -1
				case key[a] > key[b]:
					return 1
				}
				return 0
			})
			for i, n := range r {
				n.pos = i
			}
		}
	}
}

// place sets the centres: ranks one after the other along the rank
// direction, each rank's nodes side by side across it, centred.
func (l *layout) place() {
	cols := l.columns()
	along := 0.0
	for _, r := range l.ranks {
		// Nodes of different clusters keep the clusters' boxes apart,
		// with room for the labels, which are above the nodes: across
		// the ranks of a left-to-right layout, along those of a
		// top-to-bottom one.
		gap := func(i int) float64 {
			if i == 0 || l.cluster[r[i]] == l.cluster[r[i-1]] {
				return 0
			}
			g := 3 * pad
			if l.lr {
				g += labelH(l.cluster[r[i]])
			}
			return g
		}
		depth, span, label := 0.0, 0.0, 0.0
		for i, n := range r {
			w, h := n.w, n.h
			if l.lr {
				w, h = h, w
			}
			depth = max(depth, h)
			span += w + nodeGap + gap(i)
			label = max(label, labelH(l.cluster[n]))
		}
		if !l.lr {
			along += label
		}
		across := -span / 2
		for i, n := range r {
			w := n.w
			if l.lr {
				w = n.h
			}
			across += gap(i)
			if col, ok := cols.of[n]; ok && (i == 0 || cols.of[r[i-1]] != col) {
				// The first node of a column in this rank: the rank's
				// part of the column is centred in the column.
				across = cols.start[col] + (cols.width[col]-cols.span[col][n.rank])/2
			}
			c := across + w/2
			across += w + nodeGap
			if l.lr {
				n.x, n.y = along+depth/2, c
			} else {
				n.x, n.y = c, along+depth/2
			}
		}
		along += depth + rankGap
	}
	for _, n := range l.nodes {
		switch l.g.RankDir {
		case "BT":
			n.y = -n.y
		case "RL":
			n.x = -n.x
		}
	}
}

// columnSet is the unrolled view's columns, one per time step: the plain
// clusters, whose nodes line up across the ranks so that a step reads
// from bottom to top.
type columnSet struct {
	of    map[*lnode]int
	span  []map[int]float64 // per column, the width of each rank's part
	width []float64
	start []float64
}

func (l *layout) columns() columnSet {
	cs := columnSet{of: map[*lnode]int{}}
	if !l.g.unrolled {
		return cs
	}
	for _, c := range l.g.Clusters {
		if !c.Plain {
			continue
		}
		col := len(cs.span)
		cs.span = append(cs.span, map[int]float64{})
		for _, id := range c.Nodes {
			if n := l.byID[id]; n != nil {
				cs.of[n] = col
				w := n.w
				if l.lr {
					w = n.h
				}
				cs.span[col][n.rank] += w + nodeGap
			}
		}
	}
	total := 0.0
	for _, sp := range cs.span {
		w := 0.0
		for _, v := range sp {
			w = max(w, v)
		}
		cs.width = append(cs.width, w)
		total += w + 3*pad
	}
	x := -total / 2
	for _, w := range cs.width {
		cs.start = append(cs.start, x)
		x += w + 3*pad
	}
	return cs
}

type box struct{ x0, y0, x1, y1 float64 }

func (b *box) add(o box) {
	b.x0, b.y0, b.x1, b.y1 = min(b.x0, o.x0), min(b.y0, o.y0), max(b.x1, o.x1), max(b.y1, o.y1)
}

func (n *lnode) box() box { return box{n.x - n.w/2, n.y - n.h/2, n.x + n.w/2, n.y + n.h/2} }

// clusterBox is the box around a cluster's nodes and clusters, with room
// for its label above them; ok is false for an empty cluster.
func (l *layout) clusterBox(c *Cluster) (b box, ok bool) {
	for _, id := range c.Nodes {
		if n := l.byID[id]; n != nil {
			if !ok {
				b, ok = n.box(), true
			} else {
				b.add(n.box())
			}
		}
	}
	for _, s := range c.Clusters {
		if sb, sok := l.clusterBox(s); sok {
			if !ok {
				b, ok = sb, true
			} else {
				b.add(sb)
			}
		}
	}
	if ok {
		b = box{b.x0 - pad, b.y0 - pad, b.x1 + pad, b.y1 + pad}
		if c.LabelNode == "" {
			b.y0 -= float64(len(c.Label)) * lineH
		}
	}
	return b, ok
}

func (l *layout) draw() []byte {
	var body strings.Builder
	var all box
	first := true
	grow := func(b box) {
		if first {
			all, first = b, false
		} else {
			all.add(b)
		}
	}
	var clusters func(cs []*Cluster)
	clusters = func(cs []*Cluster) {
		for _, c := range cs {
			if b, ok := l.clusterBox(c); ok && !c.Plain {
				grow(b)
				dash := ""
				if c.Dashed {
					dash = ` stroke-dasharray="5,3"`
				}
				fmt.Fprintf(&body, `<g class="cluster" data-id="%s"><rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" rx="4" fill="none" stroke="#999999"%s/>`, xmlEsc(c.ID), b.x0, b.y0, b.x1-b.x0, b.y1-b.y0, dash)
				if c.LabelNode == "" {
					for i, t := range c.Label {
						fmt.Fprintf(&body, `<text x="%.1f" y="%.1f" font-size="11">%s</text>`, b.x0+pad/2, b.y0+float64(i+1)*lineH-3, xmlEsc(t))
					}
				}
				body.WriteString("</g>\n")
			}
			clusters(c.Clusters)
		}
	}
	clusters(l.g.Clusters)
	for _, e := range l.g.Edges {
		a, b := l.byID[e.From], l.byID[e.To]
		if e.Kind == Layout || a == nil || b == nil {
			continue
		}
		x0, y0 := clip(a, b.x, b.y)
		x1, y1 := clip(b, a.x, a.y)
		style := edgeStyle(e.Kind)
		marker := ` marker-end="url(#arrow)"`
		if e.Kind == Flow {
			marker = ""
		}
		layer := e.Layer
		if layer == "" {
			layer = b.n.Layer
		}
		fmt.Fprintf(&body, `<line class="edge" data-kind="%s" data-layer="%s" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" %s%s/>`+"\n",
			edgeKindName(e.Kind), xmlEsc(layer), x0, y0, x1, y1, style, marker)
	}
	for _, n := range l.nodes {
		b := n.box()
		grow(b)
		fmt.Fprintf(&body, `<g class="node" data-id="%s" data-layer="%s">`, xmlEsc(n.n.ID), xmlEsc(n.n.Layer))
		switch n.n.Kind {
		case LabelNode:
		case InputUnit, HiddenUnit, OutputUnit, StateUnit:
			dash := ""
			if n.n.Kind == StateUnit {
				dash = ` stroke-dasharray="3,2"`
			}
			fmt.Fprintf(&body, `<circle cx="%.1f" cy="%.1f" r="%.1f" fill="%s" stroke="%s" stroke-width="1.2"%s/>`, n.x, n.y, n.w/2, n.fill, n.line, dash)
		default:
			fmt.Fprintf(&body, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s" stroke="%s"/>`, b.x0, b.y0, n.w, n.h, n.fill, n.line)
			if n.n.Box != nil {
				fmt.Fprintf(&body, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#000000"/>`, b.x0, b.y0, n.w, lineH+pad/2)
			}
		}
		size := 12
		if n.n.Kind == StateUnit || n.n.Kind == GateUnit || n.n.Kind == BiasNode {
			size = 10
		}
		top := n.y - float64(len(n.text))*lineH/2 + lineH*0.75
		for i, t := range n.text {
			fill := "#000000"
			if n.n.Box != nil && i == 0 {
				fill = "#ffffff"
			}
			fmt.Fprintf(&body, `<text x="%.1f" y="%.1f" text-anchor="middle" font-size="%d" fill="%s">%s</text>`, n.x, top+float64(i)*lineH, size, fill, xmlEsc(t))
		}
		body.WriteString("</g>\n")
	}
	if first {
		all = box{0, 0, 10, 10}
	}
	bottom := all.y1
	for i, t := range l.g.Caption {
		y := bottom + float64(i+1)*lineH + pad
		fmt.Fprintf(&body, `<text x="%.1f" y="%.1f" font-size="12">%s</text>`+"\n", all.x0, y, xmlEsc(t))
		all.x1 = max(all.x1, all.x0+float64(len([]rune(t)))*charW)
		all.y1 = max(all.y1, y+pad/2)
	}
	all = box{all.x0 - pad, all.y0 - pad, all.x1 + pad, all.y1 + pad}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="%.1f %.1f %.1f %.1f" width="%.0f" height="%.0f" font-family="Helvetica, Arial, sans-serif">`+"\n",
		all.x0, all.y0, all.x1-all.x0, all.y1-all.y0, all.x1-all.x0, all.y1-all.y0)
	b.WriteString(`<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#444444"/></marker></defs>` + "\n")
	fmt.Fprintf(&b, "<title>%s</title>\n", xmlEsc(l.g.Name))
	b.WriteString(body.String())
	b.WriteString("</svg>\n")
	return []byte(b.String())
}

// clip returns where the line from n's centre towards (x, y) leaves n.
func clip(n *lnode, x, y float64) (float64, float64) {
	dx, dy := x-n.x, y-n.y
	if dx == 0 && dy == 0 {
		return n.x, n.y
	}
	switch n.n.Kind {
	case InputUnit, HiddenUnit, OutputUnit, StateUnit:
		d := math.Hypot(dx, dy)
		return n.x + dx/d*n.w/2, n.y + dy/d*n.w/2
	}
	t := math.Inf(1)
	if dx != 0 {
		t = min(t, n.w/2/math.Abs(dx))
	}
	if dy != 0 {
		t = min(t, n.h/2/math.Abs(dy))
	}
	return n.x + dx*t, n.y + dy*t
}

// edgeStyle is edgeAttrs's style in SVG.
func edgeStyle(k EdgeKind) string {
	switch k {
	case Weight:
		return `stroke="` + colWeight + `"`
	case Recurrent:
		return `stroke="` + colRecurrent + `" stroke-dasharray="5,3" stroke-width="1.3"`
	case Bias:
		return `stroke="` + colBiasLine + `" stroke-dasharray="2,2" stroke-width="1.2"`
	case Flow:
		return `stroke="` + colFlow + `"`
	}
	return `stroke="#000000" stroke-width="2"`
}

func edgeKindName(k EdgeKind) string {
	switch k {
	case Weight:
		return "weight"
	case Recurrent:
		return "recurrent"
	case Bias:
		return "bias"
	case Flow:
		return "flow"
	}
	return "connection"
}

// xmlEscaper is built once: building a Replacer costs more than using it,
// and a graph escapes thousands of names.
var xmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;")

func xmlEsc(s string) string { return xmlEscaper.Replace(s) }
