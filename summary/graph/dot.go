package graph

import (
	"fmt"
	"slices"
	"strings"
)

// DOT returns the graph in Graphviz's DOT language. Every ID is quoted and
// every label escaped, so layer names can hold any character.
func (g *Graph) DOT() string {
	var b strings.Builder
	fmt.Fprintf(&b, "digraph %s {\n", quote(g.Name))
	if g.units {
		// Straight lines are easiest to count; an unrolled view has lines
		// that pass units of other rows, which curved lines go around.
		splines, ranksep := "line", 1.0
		if g.unrolled {
			splines, ranksep = "true", 0.7
		}
		fmt.Fprintf(&b, "  graph [rankdir=%s, fontname=\"Helvetica\", fontsize=12, nodesep=0.18, ranksep=%.1f, newrank=true, splines=%s];\n", g.RankDir, ranksep, splines)
		b.WriteString("  node [fontname=\"Helvetica\", fontsize=12, shape=circle, style=filled, width=0.45, fixedsize=true, penwidth=1.2];\n")
		b.WriteString("  edge [arrowsize=0.5];\n")
	} else {
		// plot_model's settings (model_to_dot); its concentrate=True is
		// left out: Graphviz merges edges wrongly with orthogonal splines.
		fmt.Fprintf(&b, "  graph [rankdir=%s, splines=ortho, fontname=\"Helvetica\"];\n", g.RankDir)
		b.WriteString("  node [shape=plain, fontname=\"Helvetica\", margin=0];\n")
		b.WriteString("  edge [penwidth=2];\n")
	}
	clustered := map[string]bool{}
	byID := make(map[string]*Node, len(g.Nodes))
	for _, n := range g.Nodes {
		byID[n.ID] = n
	}
	for _, c := range g.Clusters {
		if !c.Plain {
			g.writeCluster(&b, c, byID, clustered, "  ")
		}
	}
	for _, n := range g.Nodes {
		if !clustered[n.ID] {
			g.writeNode(&b, n, "  ")
		}
	}
	for _, r := range g.Ranks {
		q := make([]string, len(r))
		var free []string // the rank's nodes outside clusters
		for i, id := range r {
			q[i] = quote(id)
			if !clustered[id] {
				free = append(free, id)
			}
		}
		b.WriteString("  { rank=same; " + strings.Join(q, "; ") + ";" + g.chain(free) + " }\n")
	}
	for _, e := range g.Edges {
		attrs := edgeAttrs(e.Kind)
		if g.unrolled && e.Kind == Recurrent {
			// Recurrent lines join rows of different steps; the rows'
			// order comes from the Layout edges alone.
			attrs = strings.TrimSuffix(attrs, "]") + ", constraint=false]"
		}
		fmt.Fprintf(&b, "  %s -> %s%s;\n", quote(e.From), quote(e.To), attrs)
	}
	if len(g.Caption) > 0 {
		b.WriteString("  label=<")
		for _, line := range g.Caption {
			b.WriteString(html(line) + `<br align="left"/>`)
		}
		b.WriteString(">;\n  labelloc=b;\n  labeljust=l;\n")
	}
	b.WriteString("}\n")
	return b.String()
}

func (g *Graph) writeCluster(b *strings.Builder, c *Cluster, byID map[string]*Node, done map[string]bool, indent string) {
	fmt.Fprintf(b, "%ssubgraph %s {\n", indent, quote("cluster_"+c.ID))
	in := indent + "  "
	if c.Dashed {
		// model_to_dot(subgraph=True): dashed, labelled, label on the left.
		fmt.Fprintf(b, "%sstyle=dashed;\n%slabeljust=l;\n", in, in)
	} else {
		fmt.Fprintf(b, "%sstyle=rounded;\n%scolor=\"#b8b8b8\";\n%sfontsize=11;\n", in, in, in)
	}
	if c.LabelNode == "" {
		lines := make([]string, len(c.Label))
		for i, l := range c.Label {
			lines[i] = html(l)
		}
		fmt.Fprintf(b, "%slabel=<%s>;\n", in, strings.Join(lines, "<br/>"))
	}
	for _, id := range c.Nodes {
		if n := byID[id]; n != nil && !done[id] {
			done[id] = true
			g.writeNode(b, n, in)
		}
	}
	// The cluster's nodes of each rank, in order.
	for _, r := range g.Ranks {
		var q []string
		for _, id := range r {
			if slices.Contains(c.Nodes, id) {
				q = append(q, id)
			}
		}
		if ch := g.chain(q); ch != "" {
			b.WriteString(in + strings.TrimPrefix(ch, " ") + "\n")
		}
	}
	for _, sub := range c.Clusters {
		g.writeCluster(b, sub, byID, done, in)
	}
	fmt.Fprintf(b, "%s}\n", indent)
}

func (g *Graph) writeNode(b *strings.Builder, n *Node, indent string) {
	if n.Box != nil {
		fmt.Fprintf(b, "%s%s [label=<%s>];\n", indent, quote(n.ID), n.Box.html())
		return
	}
	if n.Kind == LabelNode {
		group := ""
		if n.Group != "" {
			group = ", group=" + quote(n.Group)
		}
		fmt.Fprintf(b, "%s%s [label=%s, shape=plaintext, style=solid, fixedsize=false, fontsize=%d%s];\n", indent, quote(n.ID), quote(n.Text), map[bool]int{true: 13, false: 11}[g.unrolled], group)
		return
	}
	fill, line := nodeStyle(n.Kind)
	attrs := fmt.Sprintf("label=%s, fillcolor=%q, color=%q", quote(n.Text), fill, line)
	if n.Group != "" {
		attrs += ", group=" + quote(n.Group)
	}
	switch n.Kind {
	case StateUnit:
		attrs += `, style="filled,dashed", fontsize=10`
	case GateUnit:
		attrs += ", shape=box, width=0.32, height=0.26, fontsize=10"
	case BiasNode:
		attrs += ", shape=box, fixedsize=false, width=0.3, height=0.3, margin=\"0.06,0.03\", fontsize=10"
	}
	fmt.Fprintf(b, "%s%s [%s];\n", indent, quote(n.ID), attrs)
}

// chain returns invisible edges that keep nodes of one rank in order,
// which Graphviz would otherwise shuffle to save crossings. A flat edge
// puts its head right of its tail, which is above it once LR turns the
// layout, so LR chains run backwards. Within a rank=same block the chain
// holds only for nodes of the same cluster, so clusters get their own.
func (g *Graph) chain(ids []string) string {
	if len(ids) < 2 {
		return ""
	}
	q := make([]string, len(ids))
	for i, id := range ids {
		q[i] = quote(id)
	}
	if g.RankDir == "LR" || g.RankDir == "RL" {
		slices.Reverse(q)
	}
	return " " + strings.Join(q, " -> ") + " [style=invis];"
}

// edgeAttrs styles an edge by kind: a recurrent weight is the one dashed
// red line, biases are grey and dotted, plain weights dark and thin.
func edgeAttrs(k EdgeKind) string {
	switch k {
	case Weight:
		return fmt.Sprintf(" [color=%q]", colWeight)
	case Recurrent:
		return fmt.Sprintf(" [color=%q, style=dashed, penwidth=1.3]", colRecurrent)
	case Bias:
		return fmt.Sprintf(" [color=%q, style=dotted, penwidth=1.2]", colBiasLine)
	case Flow:
		return fmt.Sprintf(" [color=%q, arrowhead=none]", colFlow)
	case Layout:
		return " [style=invis]"
	}
	return ""
}

// html returns the HTML-like label of a layer box, laid out as
// model_to_dot's make_layer_label: a black title row with the name and
// class, a row for the activation, then a row with the shapes and the
// trainable flag.
func (l *LayerBox) html() string {
	var cols []string
	if l.InputShape != "" {
		cols = append(cols, `<td bgcolor="white"><font point-size="14">Input shape: <b>`+html(l.InputShape)+`</b></font></td>`)
	}
	cols = append(cols, `<td bgcolor="white"><font point-size="14">Output shape: <b>`+html(l.OutputShape)+`</b></font></td>`)
	if l.Trainable != nil {
		if *l.Trainable {
			cols = append(cols, `<td bgcolor="forestgreen"><font point-size="14" color="white"><b>Trainable</b></font></td>`)
		} else {
			cols = append(cols, `<td bgcolor="firebrick"><font point-size="14" color="white"><b>Non-trainable</b></font></td>`)
		}
	}
	span := fmt.Sprintf(` colspan="%d"`, len(cols))
	var b strings.Builder
	b.WriteString(`<table border="0" cellborder="1" bgcolor="black" cellpadding="10">`)
	b.WriteString(`<tr><td` + span + ` bgcolor="black"><font point-size="16" color="white"><b>` + html(l.Name) + `</b> (` + html(l.Class) + `)</font></td></tr>`)
	if l.Activation != "" {
		b.WriteString(`<tr><td` + span + ` bgcolor="white"><font point-size="14">Activation: <b>` + html(l.Activation) + `</b></font></td></tr>`)
	}
	b.WriteString("<tr>" + strings.Join(cols, "") + "</tr></table>")
	return b.String()
}

// quote makes s a DOT quoted string. DOT's only escape is \"; a backslash
// is doubled so that Graphviz does not read \n or \N in a name as its own
// label escapes.
func quote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", "")
	return `"` + r.Replace(s) + `"`
}

// html escapes s for an HTML-like label.
func html(s string) string {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "\n", "<br/>")
	return r.Replace(s)
}
