package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/kerascope/kerascope/keras"
)

const weightsHelp = `Lists every tensor the file stores for its layers: path, shape, dtype,
element count and min/max/mean/std, grouped by layer, with totals. Works on
weights-only files too. Give layer names to list only those layers.`

type weightsOptions struct {
	json bool
}

func weightsFlags(out io.Writer) (*pflagSet, *weightsOptions) {
	opts := &weightsOptions{}
	fs := newFlagSet("weights", out)
	fs.BoolVar(&opts.json, "json", false, "print the listing as JSON")
	return fs, opts
}

// weightsDoc is the JSON form of the listing.
type weightsDoc struct {
	File         string         `json:"file"`
	Format       string         `json:"format"`
	KerasVersion string         `json:"keras_version,omitempty"`
	Layers       []weightsLayer `json:"layers"`
	Tensors      int            `json:"tensors"`
	Elements     int64          `json:"elements"`
	Bytes        int64          `json:"bytes"`
}

type weightsLayer struct {
	Name    string          `json:"name"`
	Path    string          `json:"path"`
	Tensors []weightsTensor `json:"tensors"`
}

type weightsTensor struct {
	Path     string   `json:"path"`
	Shape    []int    `json:"shape"`
	DType    string   `json:"dtype"`
	Elements int64    `json:"elements"`
	Min      *float64 `json:"min,omitempty"`
	Max      *float64 `json:"max,omitempty"`
	Mean     *float64 `json:"mean,omitempty"`
	Std      *float64 `json:"std,omitempty"`
	NaN      int      `json:"nan"`
	Inf      int      `json:"inf"`
	// Missing marks a weight the file lists but does not store.
	Missing bool `json:"missing,omitempty"`
}

func runWeights(args []string, stdout, stderr io.Writer) error {
	fs, opts := weightsFlags(stderr)
	path, names, err := parseFileAndNames(fs, args)
	if err != nil {
		return err
	}
	f, err := keras.Open(path)
	if err != nil && !errors.Is(err, keras.ErrNoArchitecture) {
		return err
	}
	defer f.Close()
	stored, err := f.StoredLayers()
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	doc := weightsDoc{File: path, Format: f.Format.ID(), KerasVersion: f.KerasVersion}
	want := make(map[string]bool, len(names))
	for _, n := range names {
		want[n] = true
	}
	found := make(map[string]bool)
	for _, sl := range stored {
		if len(want) > 0 && !want[sl.Name] {
			continue
		}
		found[sl.Name] = true
		wl := weightsLayer{Name: sl.Name, Path: sl.Path, Tensors: []weightsTensor{}}
		for _, v := range sl.Weights {
			t := weightsTensor{Path: v.Path, Shape: v.Shape, DType: v.DType, Elements: v.Elements(), Missing: v.Missing}
			if v.Missing {
				t.DType = "missing"
			} else if isFloat(v.DType) {
				data, err := f.ReadVar(v)
				if err != nil {
					return fmt.Errorf("%s: %w", path, err)
				}
				s := keras.Stats(data)
				t.NaN, t.Inf = s.NaN, s.Inf
				if !math.IsNaN(s.Mean) {
					t.Min, t.Max, t.Mean, t.Std = &s.Min, &s.Max, &s.Mean, &s.Std
				}
			}
			doc.Tensors++
			doc.Elements += t.Elements
			doc.Bytes += t.Elements * int64(keras.DTypeSize(v.DType))
			wl.Tensors = append(wl.Tensors, t)
		}
		doc.Layers = append(doc.Layers, wl)
	}
	for _, n := range names {
		if !found[n] {
			return fmt.Errorf("%s: no stored layer named %q", path, n)
		}
	}
	return writeOutput(stdout, opts.json, doc, func(w io.Writer) { writeWeightsText(w, doc) })
}

func isFloat(dtype string) bool {
	switch dtype {
	case "float16", "bfloat16", "float32", "float64":
		return true
	}
	return false
}

func writeWeightsText(w io.Writer, d weightsDoc) {
	fmt.Fprintf(w, "%s: %s", d.File, d.Format)
	if d.KerasVersion != "" {
		fmt.Fprintf(w, ", Keras %s", d.KerasVersion)
	}
	fmt.Fprintln(w)
	for _, l := range d.Layers {
		fmt.Fprintf(w, "\n%s\n", l.Name)
		if len(l.Tensors) == 0 {
			fmt.Fprintln(w, "  (no weights)")
			continue
		}
		rows := [][]string{{"path", "shape", "dtype", "elements", "min", "max", "mean", "std"}}
		for _, t := range l.Tensors {
			rows = append(rows, []string{t.Path, keras.Shape(t.Shape).Tuple(), t.DType,
				strconv.FormatInt(t.Elements, 10), num(t.Min), num(t.Max), num(t.Mean), num(t.Std)})
			if t.NaN+t.Inf > 0 {
				rows = append(rows, []string{"", fmt.Sprintf("%d NaN, %d Inf", t.NaN, t.Inf)})
			}
		}
		writeColumns(w, rows, 3)
	}
	fmt.Fprintf(w, "\nTotal: %s, %s elements, %s\n", plural(d.Tensors, "tensor"), thousands(d.Elements), humanBytes(d.Bytes))
}

// writeColumns prints rows as aligned columns, indented by two spaces: the
// first left columns left-aligned (text), the rest right-aligned (numbers).
func writeColumns(w io.Writer, rows [][]string, left int) {
	var widths []int
	for _, r := range rows {
		for i, c := range r {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], len(c))
		}
	}
	for _, r := range rows {
		var b strings.Builder
		b.WriteString("  ")
		for i, c := range r {
			if i > 0 {
				b.WriteString("  ")
			}
			pad := strings.Repeat(" ", widths[i]-len(c))
			if i < left {
				b.WriteString(c + pad)
			} else {
				b.WriteString(pad + c)
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}

func num(p *float64) string {
	if p == nil {
		return "-"
	}
	return strconv.FormatFloat(*p, 'g', 6, 64)
}

func humanBytes(n int64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	v := float64(n)
	for _, u := range units {
		if v < 1024 || u == units[len(units)-1] {
			if u == "B" {
				return strconv.FormatInt(n, 10) + " B"
			}
			return strconv.FormatFloat(v, 'f', 2, 64) + " " + u
		}
		v /= 1024
	}
	return ""
}

// parseFileAndNames parses flags, then a FILE and optional names.
func parseFileAndNames(fs *pflagSet, args []string) (string, []string, error) {
	if err := fs.Parse(args); err != nil {
		return "", nil, flagError(fs, err)
	}
	if fs.NArg() == 0 {
		return "", nil, usagef("%s: missing FILE", fs.Name())
	}
	return fs.Arg(0), fs.Args()[1:], nil
}
