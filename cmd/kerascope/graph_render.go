//go:build !js

package main

import (
	"context"

	"github.com/kerascope/kerascope/summary/graph"
)

// renderGraph lays g out with Graphviz as svg or png.
func renderGraph(g *graph.Graph, format string) ([]byte, error) {
	return graph.Render(context.Background(), g.DOT(), format)
}
