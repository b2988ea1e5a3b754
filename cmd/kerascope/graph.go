package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/kerascope/kerascope/summary/graph"
	"golang.org/x/term"
)

const graphHelp = `Draws the model as a graph.

By default it draws the layer graph as Keras's plot_model does: one box
per layer with its name, class, activation, input and output shapes and
trainable flag, and one edge per connection between layers.

With --units it draws a small model of Dense and recurrent layers unit by
unit: every input, hidden unit and bias, and one line per weight, so that
each layer's lines and biases add up to its Param #. Recurrent weights from
the previous step are dashed and red. --unroll draws a recurrent layer once
per time step, which shows what return_sequences changes.

The format is --format, else the extension of -o (.dot, .gv, .mmd, .svg,
.png; any other is refused), else dot. dot and mermaid go to stdout
without -o. svg and png are rendered inside kerascope (Graphviz compiled to
WebAssembly, no install needed); they are never written to a terminal. A
PNG past 16384 pixels on a side or 16 Mpixels is refused: write SVG.
Layers without weights that keep their input's shape (Dropout, Activation)
are drawn through in the unit view.`

type graphOptions struct {
	format, rankdir, output    string
	expandNested, units, unrol bool
}

func graphFlags(out io.Writer) (*pflagSet, *graphOptions) {
	opts := &graphOptions{}
	fs := newFlagSet("graph", out)
	fs.StringVar(&opts.format, "format", "", "dot, mermaid, svg or png (default: from -o's extension, else dot)")
	fs.StringVar(&opts.rankdir, "rankdir", "", "direction: TB, LR, BT or RL (default TB; LR with --units; BT, time left to right, with --unroll)")
	fs.BoolVar(&opts.expandNested, "expand-nested", false, "draw nested models as clusters of their layers")
	fs.BoolVar(&opts.units, "units", false, "draw every unit and weight of a small Dense/RNN model")
	fs.BoolVar(&opts.unrol, "unroll", false, "draw recurrent layers once per time step (implies --units)")
	fs.StringVarP(&opts.output, "output", "o", "", "write to `FILE` instead of stdout")
	return fs, opts
}

var (
	graphFormats = []string{"dot", "mermaid", "svg", "png"}
	rankDirs     = []string{"TB", "LR", "BT", "RL"}
)

// formatByExt maps -o's extension to a format.
var formatByExt = map[string]string{
	".dot": "dot", ".gv": "dot", ".mmd": "mermaid", ".mermaid": "mermaid", ".svg": "svg", ".png": "png",
}

func runGraph(args []string, stdout, stderr io.Writer) error {
	fs, opts := graphFlags(stderr)
	path, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	format, err := graphFormat(opts, stdout)
	if err != nil {
		return err
	}
	rankdir := strings.ToUpper(opts.rankdir)
	if rankdir != "" && !slices.Contains(rankDirs, rankdir) {
		return usagef("graph: --rankdir %q: want %s", opts.rankdir, orList(rankDirs))
	}
	if opts.unrol {
		opts.units = true
	}
	if opts.units && opts.expandNested {
		return usagef("graph: --expand-nested is for the layer view; --units draws no nested models")
	}

	f, err := openModel(path)
	if err != nil {
		return err
	}
	defer f.Close()

	var g *graph.Graph
	if opts.units {
		if g, err = graph.Units(f.Model, graph.UnitOptions{RankDir: rankdir, Unroll: opts.unrol}); err != nil {
			return fmt.Errorf("%s: --units: %w", path, err)
		}
	} else {
		g = graph.Layers(f.Model, graph.Options{RankDir: rankdir, ExpandNested: opts.expandNested, Config: f.Config})
	}
	// Render fully before writing, so an error never leaves half a file.
	var out []byte
	switch format {
	case "dot":
		out = []byte(g.DOT())
	case "mermaid":
		out = []byte(g.Mermaid())
	default:
		// Laying out and painting a large model takes seconds.
		p := startProgress(stderr, "rendering "+strings.ToUpper(format))
		out, err = renderGraph(g, format)
		p.stop()
		var tl *graph.TooLargeError
		if errors.As(err, &tl) {
			return fmt.Errorf("%s: %w (-o %s)", path, err, svgName(opts.output))
		}
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	if opts.output != "" {
		return os.WriteFile(opts.output, out, 0o644)
	}
	_, err = stdout.Write(out)
	return err
}

// graphFormat picks the output format and refuses an image for a terminal.
func graphFormat(opts *graphOptions, stdout io.Writer) (string, error) {
	format := strings.ToLower(opts.format)
	switch {
	case format == "mmd":
		format = "mermaid"
	case format == "gv":
		format = "dot"
	case format != "":
	case opts.output == "":
		format = "dot"
	default:
		ext := strings.ToLower(filepath.Ext(opts.output))
		if format = formatByExt[ext]; format == "" {
			return "", usagef("graph: -o %q: unknown extension %q; name the file .dot, .gv, .mmd, .svg or .png, or give --format %s", opts.output, ext, strings.Join(graphFormats, "|"))
		}
	}
	switch format {
	case "dot", "mermaid":
	case "svg", "png":
		if f, ok := stdout.(*os.File); ok && opts.output == "" && term.IsTerminal(int(f.Fd())) {
			return "", usagef("graph: not writing %s to a terminal; use -o FILE or redirect stdout", strings.ToUpper(format))
		}
	default:
		return "", usagef("graph: --format %q: want %s", opts.format, orList(graphFormats))
	}
	return format, nil
}

// svgName is the SVG file a refused PNG could be instead.
func svgName(output string) string {
	if output == "" {
		return "graph.svg"
	}
	return strings.TrimSuffix(output, filepath.Ext(output)) + ".svg"
}
