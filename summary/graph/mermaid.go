package graph

import (
	"fmt"
	"strconv"
	"strings"
)

// Mermaid returns the graph as a Mermaid flowchart, for Markdown renderers
// (GitHub, GitLab) that draw Mermaid but not DOT.
func (g *Graph) Mermaid() string {
	ids := mermaidIDs(g)
	var b strings.Builder
	fmt.Fprintf(&b, "flowchart %s\n", g.RankDir)
	// Mermaid has no caption: the legend goes in comments.
	for _, line := range g.Caption {
		b.WriteString("  %% " + strings.TrimSpace(strings.ReplaceAll(line, "\n", " ")) + "\n")
	}
	byID := make(map[string]*Node, len(g.Nodes))
	for _, n := range g.Nodes {
		byID[n.ID] = n
	}
	done := map[string]bool{}
	for _, c := range g.Clusters {
		g.mermaidCluster(&b, c, ids, byID, done, "  ")
	}
	for _, n := range g.Nodes {
		if !done[n.ID] && n.Kind != LabelNode {
			b.WriteString("  " + mermaidNode(n, ids) + "\n")
		}
	}
	styles := map[EdgeKind][]string{}
	i := 0
	for _, e := range g.Edges {
		if e.Kind == Layout {
			continue // Mermaid places nodes itself
		}
		arrow := "-->"
		switch e.Kind {
		case Recurrent, Bias:
			arrow = "-.->"
		case Flow:
			arrow = "---"
		}
		fmt.Fprintf(&b, "  %s %s %s\n", ids[e.From], arrow, ids[e.To])
		styles[e.Kind] = append(styles[e.Kind], strconv.Itoa(i))
		i++
	}
	for _, k := range []EdgeKind{Connection, Weight, Recurrent, Bias, Flow} {
		if s := mermaidEdgeStyle(k); s != "" && len(styles[k]) > 0 {
			fmt.Fprintf(&b, "  linkStyle %s %s\n", strings.Join(styles[k], ","), s)
		}
	}
	if g.units {
		classes := map[NodeKind][]string{}
		for _, n := range g.Nodes {
			if n.Kind == LabelNode {
				continue
			}
			classes[n.Kind] = append(classes[n.Kind], ids[n.ID])
		}
		for _, k := range []NodeKind{InputUnit, HiddenUnit, OutputUnit, StateUnit, GateUnit, BiasNode} {
			if len(classes[k]) == 0 {
				continue
			}
			fill, line := nodeStyle(k)
			extra := ""
			if k == StateUnit {
				extra = ",stroke-dasharray:4 3"
			}
			fmt.Fprintf(&b, "  classDef %s fill:%s,stroke:%s%s\n", kindClass[k], fill, line, extra)
			fmt.Fprintf(&b, "  class %s %s\n", strings.Join(classes[k], ","), kindClass[k])
		}
	}
	return b.String()
}

var kindClass = map[NodeKind]string{
	InputUnit: "input", HiddenUnit: "hidden", OutputUnit: "output",
	StateUnit: "state", GateUnit: "gate", BiasNode: "bias",
}

func mermaidEdgeStyle(k EdgeKind) string {
	switch k {
	case Weight:
		return "stroke:" + colWeight + ",stroke-width:1px"
	case Recurrent:
		return "stroke:" + colRecurrent + ",stroke-width:1.5px,stroke-dasharray:5 4"
	case Bias:
		return "stroke:" + colBiasLine + ",stroke-width:1px,stroke-dasharray:2 3"
	case Flow:
		return "stroke:" + colFlow + ",stroke-width:1px"
	}
	return ""
}

func (g *Graph) mermaidCluster(b *strings.Builder, c *Cluster, ids map[string]string, byID map[string]*Node, done map[string]bool, indent string) {
	lines := make([]string, len(c.Label))
	for i, l := range c.Label {
		lines[i] = mermaidText(l)
	}
	fmt.Fprintf(b, "%ssubgraph %s[\"%s\"]\n", indent, ids[clusterKey(c)], strings.Join(lines, "<br>"))
	in := indent + "  "
	for _, id := range c.Nodes {
		if n := byID[id]; n != nil && !done[id] {
			done[id] = true
			if n.Kind != LabelNode {
				b.WriteString(in + mermaidNode(n, ids) + "\n")
			}
		}
	}
	for _, sub := range c.Clusters {
		g.mermaidCluster(b, sub, ids, byID, done, in)
	}
	b.WriteString(indent + "end\n")
}

func mermaidNode(n *Node, ids map[string]string) string {
	id := ids[n.ID]
	if l := n.Box; l != nil {
		s := "<b>" + mermaidText(l.Name) + "</b> (" + mermaidText(l.Class) + ")"
		if l.Activation != "" {
			s += "<br>Activation: <b>" + mermaidText(l.Activation) + "</b>"
		}
		if l.InputShape != "" {
			s += "<br>Input shape: <b>" + mermaidText(l.InputShape) + "</b>"
		}
		s += "<br>Output shape: <b>" + mermaidText(l.OutputShape) + "</b>"
		if l.Trainable != nil {
			s += "<br>" + map[bool]string{true: "Trainable", false: "Non-trainable"}[*l.Trainable]
		}
		return id + `["` + s + `"]`
	}
	text := mermaidText(n.Text)
	switch n.Kind {
	case GateUnit, BiasNode:
		return id + `["` + text + `"]`
	}
	return id + `(("` + text + `"))`
}

// mermaidText escapes s for a quoted Mermaid label with Mermaid's own
// entity codes (#60; is <), since the label is otherwise read as HTML.
func mermaidText(s string) string {
	r := strings.NewReplacer("#", "#35;", `"`, "#34;", "<", "#60;", ">", "#62;", "&", "#38;", "\n", "<br>")
	return r.Replace(s)
}

// mermaidIDs maps every node and cluster ID to a Mermaid identifier: the
// ID with every character other than letters, digits and _ replaced by _,
// and a numeric suffix where two IDs would meet or where a Mermaid keyword
// would be taken for a node.
func mermaidIDs(g *Graph) map[string]string {
	ids := map[string]string{}
	used := map[string]bool{}
	for _, kw := range []string{"end", "graph", "flowchart", "subgraph", "style", "class", "classDef", "linkStyle", "click", "call", "href", "direction", "default"} {
		used[kw] = true
	}
	add := func(key, name string) {
		if _, ok := ids[key]; ok {
			return
		}
		var b strings.Builder
		for _, r := range name {
			if r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
				b.WriteRune(r)
			} else {
				b.WriteByte('_')
			}
		}
		base := b.String()
		if base == "" {
			base = "_"
		}
		s := base
		for i := 2; used[s]; i++ {
			s = base + "_" + strconv.Itoa(i)
		}
		used[s] = true
		ids[key] = s
	}
	var walk func(cs []*Cluster)
	walk = func(cs []*Cluster) {
		for _, c := range cs {
			add(clusterKey(c), "cluster_"+c.ID)
			walk(c.Clusters)
		}
	}
	walk(g.Clusters)
	for _, n := range g.Nodes {
		add(n.ID, n.ID)
	}
	return ids
}

// clusterKey keys a cluster in the ID map apart from any node ID.
func clusterKey(c *Cluster) string { return "\x00" + c.ID }
