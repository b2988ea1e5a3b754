package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/kerascope/kerascope/summary"
	"github.com/spf13/pflag"
)

const summaryHelp = `Prints the model's summary exactly as Keras's model.summary() prints it.
The style follows the Keras version that saved the file: Keras 3's table
for files saved by Keras 3, tf.keras's plain table for older files.`

type summaryOptions struct {
	style         string
	lineLength    int
	expandNested  bool
	showTrainable bool
	json          bool
	explain       bool
}

func summaryFlags(out io.Writer) (*pflag.FlagSet, *summaryOptions) {
	opts := &summaryOptions{}
	fs := newFlagSet("summary", out)
	fs.StringVar(&opts.style, "style", "", "summary style: keras3 or keras2 (default: the style of the Keras that saved the file)")
	fs.IntVar(&opts.lineLength, "line-length", 0, "total width of the table (default: Keras's default)")
	fs.BoolVar(&opts.expandNested, "expand-nested", false, "list the layers of nested models")
	fs.BoolVar(&opts.showTrainable, "show-trainable", false, "add a Trainable column")
	fs.BoolVar(&opts.json, "json", false, "print the summary as JSON (schema "+summary.JSONSchema+")")
	fs.BoolVar(&opts.explain, "explain", false, "after the summary, explain each layer's parameter count (see kerascope explain)")
	return fs, opts
}

func runSummary(args []string, stdout, stderr io.Writer) error {
	fs, opts := summaryFlags(stderr)
	path, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	var style summary.Style
	if opts.style != "" {
		if style, err = summary.ParseStyle(opts.style); err != nil {
			return usagef("summary: --style: %v", err)
		}
	}
	if opts.explain && opts.json {
		return usagef("summary: --explain has no JSON form here; run kerascope explain --json")
	}
	if fs.Changed("line-length") && opts.lineLength < 10 {
		return usagef("summary: --line-length %d is too narrow; a table needs at least 10 columns", opts.lineLength)
	}

	f, err := openModel(path)
	if err != nil {
		return err
	}
	defer f.Close()
	// Keras prints no summary of a model whose weights it cannot load.
	if err := f.Loadable(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}

	if style == 0 {
		style = summary.Keras2
		if f.IsKeras3() {
			style = summary.Keras3
		}
	}
	o := summary.Options{
		Style:         style,
		LineLength:    opts.lineLength,
		ExpandNested:  opts.expandNested,
		ShowTrainable: opts.showTrainable,
	}
	if o.LineLength == 0 {
		o.LineLength = summary.DefaultLineLength(f.Model, o, terminalColumns(stdout))
	}
	// Keras 3 adds the optimizer's variables when the loaded model is
	// compiled with a built optimizer.
	if style == summary.Keras3 {
		vars, built, err := f.Keras3Optimizer()
		if err != nil {
			return fmt.Errorf("%s: optimizer state: %w", path, err)
		}
		if built {
			o.Optimizer = vars
		}
	}
	// Render fully before writing, so an error never leaves half a table.
	var buf bytes.Buffer
	if opts.json {
		// The document describes the file: the optimizer state it stores,
		// whatever a Keras version would make of it.
		vars, err := f.OptimizerVars()
		if err != nil {
			return fmt.Errorf("%s: optimizer state: %w", path, err)
		}
		d := summary.NewDocument(f.Model, vars)
		d.File, d.Format, d.KerasVersion, d.Backend = path, f.Format.ID(), f.KerasVersion, f.Backend
		if err := summary.WriteJSON(&buf, d); err != nil {
			return err
		}
	} else if err := summary.Write(&buf, f.Model, o); err != nil {
		var ne *summary.NarrowError
		if errors.As(err, &ne) && fs.Changed("line-length") {
			return usagef("summary: --line-length %d is too narrow for this model's table", opts.lineLength)
		}
		return fmt.Errorf("%s: %w", path, err)
	}
	if opts.explain {
		layers, params, err := explainModel(f, style == summary.Keras3)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		buf.WriteString("\n")
		writeExplanation(&buf, layers, params)
	}
	_, err = stdout.Write(buf.Bytes())
	return err
}
