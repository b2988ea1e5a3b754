package main

import (
	"fmt"
	"io"

	"github.com/kerascope/kerascope/keras"
)

const explainHelp = `Explains every layer's parameter count, the "Param #" column of the
summary, as the arithmetic that gives it, in the layer's own terms and with
the model's own numbers: input weights + recurrent weights + biases for a
recurrent layer, filters × (window × channels + 1) for a convolution, the
four per-feature vectors of a batch normalization, and so on. One line per
layer, "name (Class): formula", then the totals as Keras's summary counts
them. The formulas come from each layer's config and input shape, and
always add up to the summary's count. Layers of nested models follow their
model's line, indented. Layers whose weights only the file tells (custom
classes) list what the file stores.`

// ExplainSchema names the version of the JSON document explain --json
// writes. Fields are only ever added under the same version.
const ExplainSchema = "kerascope.explain/v1"

type explainOptions struct {
	json bool
}

func explainFlags(out io.Writer) (*pflagSet, *explainOptions) {
	opts := &explainOptions{}
	fs := newFlagSet("explain", out)
	fs.BoolVar(&opts.json, "json", false, "print the explanation as JSON (schema "+ExplainSchema+")")
	return fs, opts
}

// explainDoc is the JSON form of an explanation.
type explainDoc struct {
	Schema       string              `json:"schema"`
	File         string              `json:"file"`
	Format       string              `json:"format"`
	KerasVersion string              `json:"keras_version,omitempty"`
	Model        string              `json:"model"`
	Class        string              `json:"class"`
	Layers       []keras.Explanation `json:"layers"`
	Params       explainParams       `json:"params"`
}

// explainParams are the totals of the summary: Total is Trainable +
// NonTrainable, plus Optimizer when Keras 3's summary counts the
// optimizer's variables.
type explainParams struct {
	Total        int64  `json:"total"`
	Trainable    int64  `json:"trainable"`
	NonTrainable int64  `json:"non_trainable"`
	Optimizer    *int64 `json:"optimizer,omitempty"`
}

func runExplain(args []string, stdout, stderr io.Writer) error {
	fs, opts := explainFlags(stderr)
	path, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	f, err := openModel(path)
	if err != nil {
		return err
	}
	defer f.Close()

	layers, params, err := explainModel(f, f.IsKeras3())
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	d := explainDoc{
		Schema: ExplainSchema, File: path, Format: f.Format.ID(), KerasVersion: f.KerasVersion,
		Model: f.Model.Name, Class: f.Model.Class, Layers: layers, Params: params,
	}
	return writeOutput(stdout, opts.json, d, func(w io.Writer) { writeExplanation(w, layers, params) })
}

// explainModel explains the file's model and adds up its totals as
// Keras's summary does: a frozen model's weights are all non-trainable,
// and Keras 3's summary (keras3) adds a built optimizer's variables to the
// total.
func explainModel(f *keras.File, keras3 bool) ([]keras.Explanation, explainParams, error) {
	m := f.Model
	layers := m.Explain()
	var p explainParams
	for _, e := range layers {
		p.Total += e.Total
		if m.Trainable {
			p.Trainable += e.Trainable
		}
	}
	p.NonTrainable = p.Total - p.Trainable
	if keras3 {
		vars, built, err := f.Keras3Optimizer()
		if err != nil {
			return nil, p, fmt.Errorf("optimizer state: %w", err)
		}
		if built {
			var n int64
			for _, v := range vars {
				n += v.Elements()
			}
			p.Optimizer = &n
			p.Total += n
		}
	}
	return layers, p, nil
}

// writeExplanation prints one line per layer, "name (Class): formula",
// with the layers of nested models indented under their model's line,
// then the totals line.
func writeExplanation(w io.Writer, layers []keras.Explanation, p explainParams) {
	var write func(layers []keras.Explanation, indent string)
	write = func(layers []keras.Explanation, indent string) {
		for _, e := range layers {
			fmt.Fprintf(w, "%s%s (%s): %s\n", indent, e.Layer, e.Class, e.Formula)
			write(e.Layers, indent+"  ")
		}
	}
	write(layers, "")
	line := "Total params: " + keras.Thousands(p.Trainable) + " trainable + " + keras.Thousands(p.NonTrainable) + " non-trainable"
	if p.Optimizer != nil {
		line += " + " + keras.Thousands(*p.Optimizer) + " optimizer"
	}
	fmt.Fprintf(w, "%s = %s\n", line, keras.Thousands(p.Total))
}
