//go:build js

package graph

import (
	"context"
	"errors"
)

// errNoGraphviz is Render's answer in the browser build: go-graphviz does
// not compile for GOOS=js, so there the picture is [Graph.SVG]'s.
var errNoGraphviz = errors.New("Graphviz is not part of the WebAssembly build; use the layered SVG (Graph.SVG)")

// Render is not available in the browser build; see [Graph.SVG].
func Render(ctx context.Context, dot string, format string) ([]byte, error) {
	return nil, errNoGraphviz
}
