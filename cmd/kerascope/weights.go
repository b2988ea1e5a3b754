package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/kerascope/kerascope/keras"
	"github.com/kerascope/kerascope/keras/bind"
	"github.com/kerascope/kerascope/keras/tensor"
)

const weightsHelp = `Lists every tensor the file stores for its layers under its Keras name
(kernel, recurrent_kernel, gamma, ...), with where the file stores it, its
shape, dtype, element count and min/max/mean/std, grouped by layer, with
totals. Works on weights-only files too, where the names are the file's.
Give layer names to list only those layers.`

// WeightsSchema names the JSON document of kerascope weights --json.
const WeightsSchema = "kerascope.weights/v1"

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
	Schema       string         `json:"schema"`
	File         string         `json:"file"`
	Format       string         `json:"format"`
	KerasVersion string         `json:"keras_version,omitempty"`
	Layers       []weightsLayer `json:"layers"`
	Tensors      int            `json:"tensors"`
	Elements     int64          `json:"elements"`
	Bytes        int64          `json:"bytes"`
}

type weightsLayer struct {
	Name string `json:"name"`
	// Class is the layer's class; empty for a group that belongs to no
	// layer of the architecture (or when there is none).
	Class   string          `json:"class,omitempty"`
	Path    string          `json:"path"`
	Tensors []weightsTensor `json:"tensors"`
}

type weightsTensor struct {
	// Name is the weight's Keras name where the architecture tells it,
	// else the name the file gives the tensor.
	Name      string   `json:"name"`
	Path      string   `json:"path"`
	Shape     []int    `json:"shape"`
	DType     string   `json:"dtype"`
	Trainable *bool    `json:"trainable,omitempty"`
	Elements  int64    `json:"elements"`
	Min       *float64 `json:"min,omitempty"`
	Max       *float64 `json:"max,omitempty"`
	Mean      *float64 `json:"mean,omitempty"`
	Std       *float64 `json:"std,omitempty"`
	NaN       int      `json:"nan"`
	Inf       int      `json:"inf"`
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
	b, err := f.Binding()
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	doc := weightsDoc{Schema: WeightsSchema, File: path, Format: f.Format.ID(), KerasVersion: f.KerasVersion, Layers: []weightsLayer{}}
	want := make(map[string]bool, len(names))
	for _, n := range names {
		want[n] = true
	}
	found := make(map[string]bool)
	for i := range b.Groups {
		g := &b.Groups[i]
		owner, tensors := b.Tensors(g)
		wl := weightsLayer{Name: g.Name, Path: g.Path, Tensors: []weightsTensor{}}
		if owner != nil {
			wl.Name, wl.Class = owner.Name, owner.Class
		}
		if len(want) > 0 && !want[wl.Name] {
			continue
		}
		found[wl.Name] = true
		for _, v := range tensors {
			t := weightsTensor{Name: v.Name, Path: v.Path, Shape: v.Shape, DType: v.DType, Elements: v.Elements(), Missing: v.Missing}
			if owner != nil && v.Want.Name != "" {
				t.Trainable = &v.Trainable
			}
			if v.Missing {
				t.DType = "missing"
			} else if bind.IsFloat(v.DType) {
				data, err := f.ReadVar(v.Var)
				if err != nil {
					return fmt.Errorf("%s: %w", path, err)
				}
				s := tensor.Stats(data)
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

func writeWeightsText(w io.Writer, d weightsDoc) {
	fmt.Fprintf(w, "%s: %s", d.File, d.Format)
	if d.KerasVersion != "" {
		fmt.Fprintf(w, ", Keras %s", d.KerasVersion)
	}
	fmt.Fprintln(w)
	for _, l := range d.Layers {
		if l.Class != "" {
			fmt.Fprintf(w, "\n%s (%s)  %s\n", l.Name, l.Class, l.Path)
		} else {
			fmt.Fprintf(w, "\n%s  %s\n", l.Name, l.Path)
		}
		if len(l.Tensors) == 0 {
			fmt.Fprintln(w, "  (no weights)")
			continue
		}
		// The path column is relative to the layer's group, which the
		// heading names.
		rows := [][]string{{"weight", "path", "shape", "dtype", "elements", "min", "max", "mean", "std"}}
		for _, t := range l.Tensors {
			rel := strings.TrimPrefix(strings.TrimPrefix(t.Path, l.Path), "/")
			rows = append(rows, []string{t.Name, rel, keras.Shape(t.Shape).Tuple(), t.DType,
				strconv.FormatInt(t.Elements, 10), num(t.Min), num(t.Max), num(t.Mean), num(t.Std)})
			if t.NaN+t.Inf > 0 {
				rows = append(rows, []string{"", "", fmt.Sprintf("%d NaN, %d Inf", t.NaN, t.Inf)})
			}
		}
		writeColumns(w, rows, 4)
	}
	fmt.Fprintf(w, "\nTotal: %s, %s elements, %s\n", plural(d.Tensors, "tensor"), keras.Thousands(d.Elements), humanBytes(d.Bytes))
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
