//go:build js

package main

import (
	"fmt"

	"github.com/kerascope/kerascope/summary/graph"
)

// renderGraph draws g in the browser build, where Graphviz (go-graphviz)
// does not compile: SVG from the graph package's own layered layout, and
// no PNG.
func renderGraph(g *graph.Graph, format string) ([]byte, error) {
	if format == "svg" {
		return g.SVG(), nil
	}
	return nil, fmt.Errorf("--format %s needs Graphviz, which the browser build leaves out; use svg, dot or mermaid", format)
}
