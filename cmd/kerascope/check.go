package main

import (
	"fmt"
	"io"

	"github.com/kerascope/kerascope/keras"
	"github.com/kerascope/kerascope/keras/check"
)

const checkHelp = `Checks an exported model against its own architecture and reports every
problem at once: layer classes kerascope does not know or that carry Python
code, weights missing, unused, of the wrong shape or dtype, NaN or Inf
values, and the expectations given as flags. Exit code 0 when every check
passes, 1 when any fails, 2 for usage errors, 3 when the file is not a
Keras model. Warnings fail the check only with --strict.`

// CheckSchema names the version of the JSON document check --json writes.
const CheckSchema = "kerascope.check/v1"

type checkOptions struct {
	json          bool
	strict        bool
	skipValues    bool
	requireNative bool
	expectInputs  []string
	expectOutputs []string
	maxParams     int64
	kerasVersion  string
}

func checkFlags(out io.Writer) (*pflagSet, *checkOptions) {
	opts := &checkOptions{}
	fs := newFlagSet("check", out)
	fs.BoolVar(&opts.json, "json", false, "print the report as JSON (schema "+CheckSchema+")")
	fs.BoolVar(&opts.strict, "strict", false, "fail on warnings too")
	fs.BoolVar(&opts.skipValues, "skip-values", false, "do not read weight values (no NaN/Inf scan)")
	fs.BoolVar(&opts.requireNative, "require-native", false, "fail if a layer can never run natively (Lambda, TensorFlow ops, custom classes)")
	fs.StringArrayVar(&opts.expectInputs, "expect-inputs", nil, `expected input shape, e.g. "(None, 28, 28, 1)"; repeat for each input`)
	fs.StringArrayVar(&opts.expectOutputs, "expect-outputs", nil, "expected output shape; repeat for each output")
	fs.Int64Var(&opts.maxParams, "max-params", 0, "fail when the model has more parameters")
	fs.StringVar(&opts.kerasVersion, "expect-keras-version", "", `expected Keras version or prefix, e.g. "3" or "2.15"`)
	return fs, opts
}

// checkDoc is the JSON form of a check report.
type checkDoc struct {
	Schema       string         `json:"schema"`
	File         string         `json:"file"`
	Format       string         `json:"format"`
	KerasVersion string         `json:"keras_version,omitempty"`
	OK           bool           `json:"ok"`
	Layers       int            `json:"layers"`
	Params       int64          `json:"params"`
	Errors       int            `json:"errors"`
	Warnings     int            `json:"warnings"`
	Problems     []checkProblem `json:"problems"`
}

type checkProblem struct {
	Severity string `json:"severity"`
	Kind     string `json:"kind"`
	Layer    string `json:"layer,omitempty"`
	Class    string `json:"class,omitempty"`
	Weight   string `json:"weight,omitempty"`
	Message  string `json:"message"`
}

// errCheckFailed is returned when the check ran and found problems: the
// report is the output, so nothing more is printed.
var errCheckFailed = &silentError{code: exitError}

func runCheck(args []string, stdout, stderr io.Writer) error {
	fs, opts := checkFlags(stderr)
	path, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	co := check.Options{MaxParams: opts.maxParams, KerasVersion: opts.kerasVersion,
		SkipValues: opts.skipValues, RequireNative: opts.requireNative}
	for _, e := range []struct {
		flag string
		in   []string
		out  *[]keras.Shape
	}{{"--expect-inputs", opts.expectInputs, &co.ExpectInputs}, {"--expect-outputs", opts.expectOutputs, &co.ExpectOutputs}} {
		for _, s := range e.in {
			shape, err := keras.ParseShape(s)
			if err != nil {
				return usagef("check: %s: %v", e.flag, err)
			}
			*e.out = append(*e.out, shape)
		}
	}
	if opts.maxParams < 0 {
		return usagef("check: --max-params must not be negative")
	}

	f, err := openModel(path)
	if err != nil {
		return err
	}
	defer f.Close()
	rep, err := check.Run(f, co)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	doc := checkDoc{Schema: CheckSchema, File: path, Format: f.Format.ID(), KerasVersion: f.KerasVersion,
		OK: !rep.Failed(opts.strict), Layers: rep.Layers, Params: rep.Params, Problems: []checkProblem{}}
	for _, p := range rep.Problems {
		switch p.Severity {
		case check.SeverityError:
			doc.Errors++
		case check.SeverityWarning:
			doc.Warnings++
		}
		doc.Problems = append(doc.Problems, checkProblem{Severity: p.Severity.String(), Kind: p.Kind,
			Layer: p.Layer, Class: p.Class, Weight: p.Weight, Message: p.Error()})
	}
	if err := writeOutput(stdout, opts.json, doc, func(w io.Writer) { writeCheckText(w, doc) }); err != nil {
		return err
	}
	if !doc.OK {
		return errCheckFailed
	}
	return nil
}

func writeCheckText(w io.Writer, d checkDoc) {
	fmt.Fprintf(w, "%s: %s", d.File, d.Format)
	if d.KerasVersion != "" {
		fmt.Fprintf(w, ", Keras %s", d.KerasVersion)
	}
	fmt.Fprintf(w, ", %s, %s parameters\n", plural(d.Layers, "layer"), keras.Thousands(d.Params))
	for _, p := range d.Problems {
		fmt.Fprintf(w, "%s: %s\n", p.Severity, p.Message)
	}
	status := "ok"
	if !d.OK {
		status = "FAILED"
	}
	fmt.Fprintf(w, "%s: %s, %s\n", status, plural(d.Errors, "error"), plural(d.Warnings, "warning"))
}
