//go:build !js

package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/goccy/go-graphviz"
	"github.com/kerascope/kerascope/summary/graph/internal/gvcache"
)

// go-graphviz's init has run by now, with the compilation cache in the
// user's own directory (see gvcache); the rest of the program sees TMPDIR
// as it was.
func init() { gvcache.Restore() }

// PNGScale is the pixels per point of rendered PNGs: 1.5 is 108 dpi,
// sharp on screens yet small enough for a README.
const PNGScale = 1.5

// renderMu serializes rendering: a Graphviz instance is one WebAssembly
// module, which is not safe for concurrent use.
var renderMu sync.Mutex

// Render lays out a DOT graph with Graphviz and returns it as "svg" or
// "png". SVG is Graphviz's own; PNG is drawn by this package from the
// xdot operations of the same layout (see raster.go), since go-graphviz's
// PNG renderer leaves out node outlines and edges.
func Render(ctx context.Context, dot string, format string) ([]byte, error) {
	var out string
	switch format {
	case "svg":
		out = "svg"
	case "png":
		out = "json0" // the layout with xdot drawing operations as strings
	default:
		return nil, fmt.Errorf("cannot render %q; want svg or png", format)
	}
	renderMu.Lock()
	defer renderMu.Unlock()
	gv, err := graphviz.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("graphviz: %w", err)
	}
	defer gv.Close()
	g, err := graphviz.ParseBytes([]byte(dot))
	if err != nil {
		return nil, fmt.Errorf("graphviz: parsing the graph: %w", err)
	}
	defer g.Close()
	if format == "png" {
		// Rendering xdot stores the drawing operations in the graph's
		// attributes, where the json0 output then finds them.
		if err := gv.Render(ctx, g, "xdot", io.Discard); err != nil {
			return nil, fmt.Errorf("graphviz: %w", err)
		}
		// The layout's size is known now: refuse an oversized picture
		// before laying it out a second time for json0.
		var tl *TooLargeError
		if _, _, _, _, err := pngSize(g.GetStr("bb"), PNGScale); errors.As(err, &tl) {
			return nil, err
		}
	}
	var buf bytes.Buffer
	if err := gv.Render(ctx, g, graphviz.Format(out), &buf); err != nil {
		return nil, fmt.Errorf("graphviz: %w", err)
	}
	if format == "svg" {
		return buf.Bytes(), nil
	}
	var doc xdotDoc
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		return nil, fmt.Errorf("graphviz: reading the layout: %w", err)
	}
	return rasterize(&doc, PNGScale)
}
