package graph

import (
	"encoding/xml"
	"regexp"
	"strings"
	"testing"
)

// TestSVG checks the browser build's layout on unit and layer views: the
// picture is well-formed XML, it draws one line per edge that is not a
// Layout edge, of the edge's kind and layer, a node for every node, and
// names that would break the markup are escaped.
func TestSVG(t *testing.T) {
	m := sequential(t, "[null, 3, 2]",
		layer("SimpleRNN", `rnn<&"'>`, `, "units": 2, "return_sequences": true`),
		layer("LSTM", "lstm", `, "units": 2`),
		layer("Dense", "out", `, "units": 1`))
	units, err := Units(m, UnitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	unrolled, err := Units(m, UnitOptions{Unroll: true})
	if err != nil {
		t.Fatal(err)
	}
	for name, g := range map[string]*Graph{
		"units":    units,
		"unrolled": unrolled,
		"layers":   Layers(m, Options{RankDir: "TB"}),
		"LR":       Layers(m, Options{RankDir: "LR"}),
	} {
		svg := string(g.SVG())
		dec := xml.NewDecoder(strings.NewReader(svg))
		kinds := map[string]int{}
		layers := map[string]int{}
		nodes := 0
		for {
			tok, err := dec.Token()
			if err != nil {
				if err.Error() != "EOF" {
					t.Fatalf("%s: not well-formed: %v", name, err)
				}
				break
			}
			se, ok := tok.(xml.StartElement)
			if !ok {
				continue
			}
			attr := map[string]string{}
			for _, a := range se.Attr {
				attr[a.Name.Local] = a.Value
			}
			switch attr["class"] {
			case "edge":
				kinds[attr["data-kind"]]++
				layers[attr["data-layer"]]++
			case "node":
				nodes++
			}
		}
		for kind, k := range map[string]EdgeKind{"connection": Connection, "weight": Weight, "recurrent": Recurrent, "bias": Bias, "flow": Flow} {
			if kinds[kind] != g.Count("", k) {
				t.Errorf("%s: %d %s lines, %d edges", name, kinds[kind], kind, g.Count("", k))
			}
		}
		if g.units {
			for _, l := range m.Layers {
				if n := g.Count(l.Name, Weight, Recurrent, Bias, Flow); layers[l.Name] < n {
					t.Errorf("%s: %d lines of layer %q, %d edges", name, layers[l.Name], l.Name, n)
				}
			}
		}
		if nodes != len(g.Nodes) {
			t.Errorf("%s: %d nodes drawn, %d in the graph", name, nodes, len(g.Nodes))
		}
		if regexp.MustCompile(`NaN|Inf`).MatchString(svg) {
			t.Errorf("%s: a coordinate is not a number", name)
		}
		if string(g.SVG()) != svg {
			t.Errorf("%s: two layouts of one graph differ", name)
		}
	}
}
