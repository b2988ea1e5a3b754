// Package check validates a model file against its own architecture, for
// CI: it reports every problem at once (classes that carry code or that
// kerascope does not know, weights the binding did not find or found
// different, NaN and Inf values, the caller's expectations), each with a
// stable kind.
//
// It reads weights only through the binding (package bind, by way of
// keras.File.Binding); it must not import store, summary or cmd, and it
// knows no storage paths.
package check

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/kerascope/kerascope/keras"
	"github.com/kerascope/kerascope/keras/bind"
	"github.com/kerascope/kerascope/keras/tensor"
	"github.com/tidwall/gjson"
)

// A Severity tells whether a Problem fails a check.
type Severity int

const (
	// SeverityError fails the check.
	SeverityError Severity = iota + 1
	// SeverityWarning is reported and fails the check only when strict.
	SeverityWarning
	// SeverityNote is information, such as a Lambda layer's code kind.
	SeverityNote
)

func (s Severity) String() string {
	switch s {
	case SeverityError:
		return "error"
	case SeverityWarning:
		return "warning"
	}
	return "note"
}

// A Problem is one finding of Check. Kind is a stable identifier for
// scripts ("shape-mismatch", "missing-weight", "nan", ...); Error gives the
// message, with context from the outside in.
type Problem struct {
	Severity Severity
	Kind     string
	Layer    string // the layer's name, "" for the model as a whole
	Class    string
	Weight   string // the weight concerned, if any
	Msg      string
}

func (p Problem) Error() string {
	var b strings.Builder
	if p.Layer != "" {
		fmt.Fprintf(&b, "layer %q (%s): ", p.Layer, p.Class)
	}
	if p.Weight != "" {
		fmt.Fprintf(&b, "weight %q: ", p.Weight)
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Options are the expectations a CI job can add to Run.
type Options struct {
	ExpectInputs  []keras.Shape // the model's input shapes; nil: not checked
	ExpectOutputs []keras.Shape
	MaxParams     int64  // 0: not checked
	KerasVersion  string // a version prefix, such as "3" or "2.15"; "": not checked
	// SkipValues skips reading the weights' values (the NaN/Inf scan).
	SkipValues bool
	// RequireNative makes layers that kerascope never runs natively
	// (Lambda, TensorFlow ops, classes it does not know) errors.
	RequireNative bool
}

// A Report is what Run found.
type Report struct {
	Layers   int   // top-level layers
	Params   int64 // every weight's elements, as Keras counts them
	Problems []Problem
}

// Failed reports whether any problem fails the check: an error, or with
// strict a warning too.
func (r *Report) Failed(strict bool) bool {
	for _, p := range r.Problems {
		if p.Severity == SeverityError || (strict && p.Severity == SeverityWarning) {
			return true
		}
	}
	return false
}

func (r *Report) add(sev Severity, kind string, layer, class, weight, format string, args ...any) {
	r.Problems = append(r.Problems, Problem{Severity: sev, Kind: kind, Layer: layer, Class: class, Weight: weight, Msg: fmt.Sprintf(format, args...)})
}

// Run verifies the file against its own architecture and reports every
// problem it finds, not only the first: layer classes kerascope cannot run
// or that carry code, every weight the architecture implies present with
// its shape and a float dtype, no stored weight left unused, no NaN or Inf
// in any weight, and the caller's expectations.
func Run(f *keras.File, opt Options) (*Report, error) {
	r := &Report{}
	if f.Model == nil {
		return nil, keras.ErrNoArchitecture
	}
	r.Layers = len(f.Model.Layers)
	for _, l := range f.Model.Layers {
		r.Params += l.Params()
	}
	r.checkClasses(f.Config)
	if f.Model.Subclassed {
		r.add(SeverityWarning, "unknown-class", "", "", "", "model class %s is a subclassed model: its layers exist only in its Python code, so kerascope lists the weights it stores", f.Model.Class)
	}
	if opt.RequireNative {
		named := make(map[string]bool)
		for i, p := range r.Problems {
			switch p.Kind {
			case "lambda", "tf-op", "unknown-class":
				r.Problems[i].Severity = SeverityError
				r.Problems[i].Msg += " (--require-native)"
				named[p.Layer] = true
			}
		}
		// The same test predict applies: known layers may still be
		// configured in a way kerascope cannot run.
		if !f.Model.Subclassed {
			for _, nr := range keras.NotRunnableLayers(f.Model) {
				if !named[nr.Name] {
					r.add(SeverityError, "not-native", nr.Name, nr.Class, "", "%s (--require-native)", nr.Reason)
				}
			}
		}
	}
	b, err := f.Binding()
	if err != nil {
		var ue *keras.UnsupportedError
		if !errors.As(err, &ue) {
			return nil, err
		}
		r.add(SeverityError, "unreadable-weights", "", "", "", "%s", ue.Msg)
	} else {
		r.checkWeights(b)
		if !opt.SkipValues {
			r.checkValues(f, b)
		}
	}
	r.checkExpectations(f, opt)
	return r, nil
}

// checkClasses names every layer class kerascope does not know, and every
// Lambda layer with the kind of code it carries, walking nested models and
// wrapped layers in the config.
func (r *Report) checkClasses(config []byte) {
	var walk func(v gjson.Result, depth int)
	walk = func(v gjson.Result, depth int) {
		if depth > maxDepth {
			return
		}
		if v.IsObject() {
			class, cfg := v.Get("class_name"), v.Get("config")
			if class.Type == gjson.String && cfg.IsObject() && cfg.Get("name").Type == gjson.String {
				name := cfg.Get("name").Str
				switch {
				case class.Str == "Lambda":
					r.add(SeverityWarning, "lambda", name, class.Str, "", "carries Python code (%s); kerascope never runs it, so the layer cannot run natively", lambdaKind(cfg.Get("function"), cfg.Get("function_type")))
				case class.Str == "TFOpLambda" || class.Str == "SlicingOpLambda":
					fn := cfg.Get("function").String()
					if keras.TFOpRuns(fn) {
						r.add(SeverityNote, "tf-op", name, class.Str, "", "the TensorFlow op tf.%s, which kerascope runs natively", fn)
					} else {
						r.add(SeverityWarning, "tf-op", name, class.Str, "", "the TensorFlow op tf.%s, which kerascope has no native implementation of: predict refuses it", fn)
					}
				case keras.BuiltinNotRunReason(class.Str) != "":
					// A note: the file is sound, only predict is limited
					// (--require-native fails on it).
					r.add(SeverityNote, "builtin-not-run", name, class.Str, "", "%s: predict refuses it", keras.BuiltinNotRunReason(class.Str))
				case !keras.KnownClass(class.Str) && !knownNonLayer(class.Str, v):
					r.add(SeverityWarning, "unknown-class", name, class.Str, "", "class %s is not a built-in Keras layer kerascope knows (custom or unsupported): its weights are counted from the file", class.Str)
				}
			}
		}
		if v.IsObject() || v.IsArray() {
			v.ForEach(func(_, c gjson.Result) bool {
				walk(c, depth+1)
				return true
			})
		}
	}
	root := gjson.ParseBytes(config)
	walk(root.Get("config"), 0)
}

// maxDepth bounds the walk of a config: models nest at most 32 deep, each
// level a few objects deep.
const maxDepth = 128

// knownNonLayer tells serialized objects that are not layers (models,
// initializers, dtype policies, regularizers, Keras 3 ops) from unknown
// layer classes.
func knownNonLayer(class string, v gjson.Result) bool {
	switch class {
	case "InputLayer", "Sequential", "Functional", "Model":
		return true
	}
	if v.Get("inbound_nodes").Exists() {
		// A node of a functional graph: a layer, or a Keras 3 operation.
		return keras.IsOpConfig(v)
	}
	// A layer has a trainable key; an initializer, constraint, dtype
	// policy or regularizer has none.
	return !v.Get("config.trainable").Exists()
}

// lambdaKind describes how a Lambda layer stores its function, without
// decoding or running it.
func lambdaKind(fn, fnType gjson.Result) string {
	switch {
	case fn.IsObject() && fn.Get("class_name").String() == "__lambda__":
		return "a marshalled Python lambda, Keras 3 __lambda__"
	case fn.IsObject():
		return "a reference to the Python function " + strconv.Quote(fn.Get("config").String())
	case fnType.String() == "lambda" || fn.IsArray():
		return "marshalled Python bytecode of a lambda"
	case fn.Type == gjson.String:
		return "a reference to the Python function " + strconv.Quote(fn.Str)
	}
	return "a function kerascope cannot identify"
}

// checkWeights reports what the binding found different between the
// architecture and the file.
func (r *Report) checkWeights(b *bind.Binding) {
	for _, fd := range b.Findings {
		sev := SeverityError
		switch fd.Kind {
		case bind.DTypeDiffers:
			sev = SeverityWarning
		case bind.Keras1Layout:
			sev = SeverityNote
		}
		var layer, class string
		if fd.Layer != nil {
			layer, class = fd.Layer.Name, fd.Layer.Class
		}
		r.add(sev, fd.Kind.String(), layer, class, fd.Weight, "%s", fd.Msg)
	}
}

// checkValues reads every stored float weight and reports NaN and Inf,
// naming the first bad element.
func (r *Report) checkValues(f *keras.File, b *bind.Binding) {
	owners := make(map[string]*bind.Layer)
	for _, bd := range b.Layers {
		if bd.Group != nil {
			owners[bd.Group.Path] = bd.Layer
		}
	}
	// A tensor whose shape is already reported wrong is not read: its
	// values mean nothing to the layer, and a file can declare it at any
	// size (a bias of 2^30 never-written floats).
	mismatched := make(map[string]bool)
	for _, fd := range b.Findings {
		if fd.Kind == bind.ShapeMismatch {
			mismatched[fd.Weight] = true
		}
	}
	for _, g := range b.Groups {
		layer, class := g.Name, "not in the architecture"
		if owner := owners[g.Path]; owner != nil {
			layer, class = owner.Name, owner.Class
		}
		for _, v := range g.Vars {
			if v.Missing || !bind.IsFloat(v.DType) || mismatched[v.Path] {
				continue
			}
			data, err := f.ReadVar(v)
			if err != nil {
				r.add(SeverityError, "unreadable", layer, class, v.Path, "%v", err)
				continue
			}
			st := tensor.Stats(data)
			if st.NaN+st.Inf == 0 {
				continue
			}
			kind := "nan"
			if st.NaN == 0 {
				kind = "inf"
			}
			r.add(SeverityError, kind, layer, class, v.Path, "%d NaN and %d Inf values, the first at index %s", st.NaN, st.Inf, index(v.Shape, st.FirstBad))
		}
	}
}

// index formats a flat row-major index as a multi-dimensional one.
func index(s []int, flat int) string {
	if len(s) == 0 {
		return "()"
	}
	idx := make([]string, len(s))
	for i := len(s) - 1; i >= 0; i-- {
		d := max(s[i], 1)
		idx[i] = strconv.Itoa(flat % d)
		flat /= d
	}
	return "(" + strings.Join(idx, ", ") + ")"
}

func (r *Report) checkExpectations(f *keras.File, opt Options) {
	m := f.Model
	shapes := func(refs []keras.TensorRef) []keras.Shape {
		out := make([]keras.Shape, len(refs))
		for i, t := range refs {
			out[i] = t.Shape()
		}
		return out
	}
	for _, e := range []struct {
		what string
		want []keras.Shape
		got  []keras.Shape
	}{{"inputs", opt.ExpectInputs, shapes(m.Inputs)}, {"outputs", opt.ExpectOutputs, shapes(m.Outputs)}} {
		if e.want == nil {
			continue
		}
		if !shapesEqual(e.got, e.want) {
			r.add(SeverityError, "expect-"+e.what, "", "", "", "model %s %s, want %s", e.what, shapeList(e.got), shapeList(e.want))
		}
	}
	if opt.MaxParams > 0 && r.Params > opt.MaxParams {
		r.add(SeverityError, "max-params", "", "", "", "%s parameters, more than the %s allowed", keras.Thousands(r.Params), keras.Thousands(opt.MaxParams))
	}
	if v := opt.KerasVersion; v != "" && f.KerasVersion != v && !strings.HasPrefix(f.KerasVersion, v+".") {
		r.add(SeverityError, "keras-version", "", "", "", "saved by Keras %q, want %s", f.KerasVersion, v)
	}
}

func shapesEqual(a, b []keras.Shape) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].Equal(b[i]) {
			return false
		}
	}
	return true
}

func shapeList(s []keras.Shape) string {
	parts := make([]string, len(s))
	for i, x := range s {
		if x == nil {
			parts[i] = "?"
		} else {
			parts[i] = x.Tuple()
		}
	}
	return strings.Join(parts, ", ")
}
