package keras

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

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

// CheckOptions are the expectations a CI job can add to Check.
type CheckOptions struct {
	ExpectInputs  []Shape // the model's input shapes; nil: not checked
	ExpectOutputs []Shape
	MaxParams     int64  // 0: not checked
	KerasVersion  string // a version prefix, such as "3" or "2.15"; "": not checked
	// SkipValues skips reading the weights' values (the NaN/Inf scan).
	SkipValues bool
	// RequireNative makes layers that kerascope never runs natively
	// (Lambda, TensorFlow ops, classes it does not know) errors.
	RequireNative bool
}

// A Report is what Check found.
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

func (r *Report) add(sev Severity, kind string, l *Layer, weight, format string, args ...any) {
	p := Problem{Severity: sev, Kind: kind, Weight: weight, Msg: fmt.Sprintf(format, args...)}
	if l != nil {
		p.Layer, p.Class = l.Name, l.Class
	}
	r.Problems = append(r.Problems, p)
}

// Check verifies the file against its own architecture and reports every
// problem it finds, not only the first: layer classes kerascope cannot run
// or that carry code, every weight the architecture implies present with
// its shape and a float dtype, no stored weight left unused, no NaN or Inf
// in any weight, and the caller's expectations.
func (f *File) Check(opt CheckOptions) (*Report, error) {
	r := &Report{}
	if f.Model == nil {
		return nil, ErrNoArchitecture
	}
	r.Layers = len(f.Model.Layers)
	for _, l := range f.Model.Layers {
		r.Params += l.Params()
	}
	r.checkClasses(f.Config)
	if f.Model.Subclassed {
		r.add(SeverityWarning, "unknown-class", nil, "", "model class %s is a subclassed model: its layers exist only in its Python code, so kerascope lists the weights it stores", f.Model.Class)
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
			for _, nr := range notRunnable(f.Model, nil) {
				if !named[nr.Name] {
					r.add(SeverityError, "not-native", &Layer{Name: nr.Name, Class: nr.Class}, "", "%s (--require-native)", nr.Reason)
				}
			}
		}
	}
	stored, err := f.StoredLayers()
	if err != nil {
		var ue *UnsupportedError
		if !errors.As(err, &ue) {
			return nil, err
		}
		r.add(SeverityError, "unreadable-weights", nil, "", "%s", ue.Msg)
	}
	owners := r.checkWeights(f, stored)
	if !opt.SkipValues {
		r.checkValues(f, stored, owners)
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
		if depth > 4*maxNesting {
			return
		}
		if v.IsObject() {
			class, cfg := v.Get("class_name"), v.Get("config")
			if class.Type == gjson.String && cfg.IsObject() && cfg.Get("name").Type == gjson.String {
				l := &Layer{Name: cfg.Get("name").Str, Class: class.Str}
				switch {
				case class.Str == "Lambda":
					r.add(SeverityWarning, "lambda", l, "", "carries Python code (%s); kerascope never runs it, so the layer cannot run natively", lambdaKind(cfg.Get("function"), cfg.Get("function_type")))
				case class.Str == "TFOpLambda" || class.Str == "SlicingOpLambda":
					r.add(SeverityWarning, "tf-op", l, "", "calls the TensorFlow function %s, which kerascope does not run", cfg.Get("function").String())
				case registry[class.Str] == nil && !knownNonLayer(class.Str, v):
					r.add(SeverityWarning, "unknown-class", l, "", "class %s is not a built-in Keras layer kerascope knows (custom or unsupported): its weights are counted from the file", class.Str)
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
		return isOp(layerEntry{obj: v, cfg: v.Get("config")})
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

// checkWeights compares, layer by layer, the weights the architecture
// implies with those the file stores. It returns the model layer each
// stored group belongs to, by the group's path.
func (r *Report) checkWeights(f *File, stored []StoredLayer) map[string]*Layer {
	owners := make(map[string]*Layer)
	groups, used := f.storedGroups(stored)
	for _, l := range f.Model.Layers {
		s, ok := groups[l]
		if ok {
			owners[s.Path] = l
		}
		if l.WeightsFromFile {
			continue // nothing to compare: these came from the file
		}
		want := legacyOrder(l)
		if !ok {
			if len(want) > 0 {
				r.add(SeverityError, "missing-layer", l, "", "the file stores no weights for the layer, want %d", len(want))
			}
			continue
		}
		r.compareLayer(l, want, s, f.Format == FormatH5, f.KerasVersion)
	}
	for _, s := range stored {
		if !used[s.Path] && len(s.Weights) > 0 {
			r.add(SeverityError, "unused-layer", nil, "", "the file stores %d weights under %s for a layer the architecture does not have", len(s.Weights), s.Path)
		}
	}
	return owners
}

// storedGroups finds the stored group of each of the model's layers: by
// layer name in a legacy .h5, by the group Keras 3 names after the layer's
// class in a weights store. It also reports which groups (by path) some
// layer claimed.
func (f *File) storedGroups(stored []StoredLayer) (map[*Layer]StoredLayer, map[string]bool) {
	paths := storePaths(f.Model.Layers)
	legacy := f.Format == FormatH5
	byKey := make(map[string]StoredLayer, len(stored))
	byPath := make(map[string]string, len(stored))
	for _, s := range stored {
		byKey[storedKey(s, legacy)] = s
		byPath[s.Path] = storedKey(s, legacy)
	}
	groups := make(map[*Layer]StoredLayer)
	used := make(map[string]bool)
	for i, l := range f.Model.Layers {
		key := l.Name
		if !legacy {
			key = paths[i]
		}
		if l.stored != "" {
			key = byPath[l.stored]
		}
		if s, ok := byKey[key]; ok {
			groups[l] = s
			used[s.Path] = true
		}
	}
	return groups, used
}

func storedKey(s StoredLayer, legacy bool) string {
	if legacy {
		return s.Name
	}
	return baseName(s.Path)
}

// legacyOrder lists a layer's weights in the order Keras stores them in a
// legacy .h5: trainable weights first, then non-trainable, each in
// creation order (Keras's _legacy_weights).
func legacyOrder(l *Layer) []WeightSpec {
	idx := legacyIndex(l)
	out := make([]WeightSpec, len(idx))
	for i, j := range idx {
		out[i] = l.Weights[j]
	}
	return out
}

// legacyIndex gives, for each position of a legacy .h5 weight list, the
// index of that weight in l.Weights.
func legacyIndex(l *Layer) []int {
	var tr, nt []int
	for i, w := range l.Weights {
		if w.Trainable && l.Trainable {
			tr = append(tr, i)
		} else {
			nt = append(nt, i)
		}
	}
	return append(tr, nt...)
}

func (r *Report) compareLayer(l *Layer, want []WeightSpec, s StoredLayer, ordered bool, kerasVersion string) {
	got := s.Weights
	var wantN, gotN int64
	for _, w := range want {
		n, _ := w.Shape.Size()
		wantN += n
	}
	for _, v := range got {
		gotN += v.Elements()
	}
	// Keras 1 stored recurrent layers' weights split per gate, and
	// Theano-ordered kernels transposed; Keras 2's loader converts both
	// (preprocess_weights_for_loading), as kerascope does.
	if strings.HasPrefix(kerasVersion, "1") && gotN == wantN && !sameShapes(want, got) {
		r.add(SeverityNote, "keras1-layout", l, "", "weights stored in Keras 1's layout (%d tensors for %d)", len(got), len(want))
		return
	}
	if !ordered && len(want) == len(got) {
		// Keras 3 stores sublayers in groups named after attributes, which
		// HDF5 lists in name order (MultiHeadAttention's _key_dense before
		// _query_dense): the same shapes in another order are no problem.
		sw, sg := sortedWant(want), sortedGot(got)
		if sameShapes(sw, sg) {
			want, got = sw, sg
		}
	}
	for i := 0; i < len(want) || i < len(got); i++ {
		switch {
		case i < len(got) && got[i].Missing:
			what := "a weight the architecture does not have"
			if i < len(want) {
				what = want[i].Name + " " + want[i].Shape.Tuple()
			}
			r.add(SeverityError, "missing-weight", l, got[i].Path, "listed in weight_names but not stored (%s)", what)
		case i >= len(got):
			r.add(SeverityError, "missing-weight", l, want[i].Name, "not stored, want shape %s", want[i].Shape.Tuple())
		case i >= len(want):
			r.add(SeverityError, "unused-weight", l, got[i].Path, "stored with shape %s, but the architecture has no such weight", got[i].Shape.Tuple())
		case !got[i].Shape.Equal(want[i].Shape):
			r.add(SeverityError, "shape-mismatch", l, got[i].Path, "shape %s, want %s (%s)", got[i].Shape.Tuple(), want[i].Shape.Tuple(), want[i].Name)
		case isFloatDType(want[i].DType) && !isFloatDType(got[i].DType):
			r.add(SeverityError, "dtype", l, got[i].Path, "dtype %s, want a float type", got[i].DType)
		case !isFloatDType(want[i].DType) && got[i].DType != want[i].DType:
			r.add(SeverityError, "dtype", l, got[i].Path, "dtype %s, want %s", got[i].DType, want[i].DType)
		case got[i].DType != want[i].DType:
			r.add(SeverityWarning, "dtype", l, got[i].Path, "stored as %s; the layer computes in %s", got[i].DType, want[i].DType)
		}
	}
}

func sameShapes(want []WeightSpec, got []StoredVar) bool {
	if len(want) != len(got) {
		return false
	}
	for i := range want {
		if !want[i].Shape.Equal(got[i].Shape) {
			return false
		}
	}
	return true
}

func sortedWant(w []WeightSpec) []WeightSpec {
	out := append([]WeightSpec(nil), w...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Shape.String() < out[j].Shape.String() })
	return out
}

func sortedGot(g []StoredVar) []StoredVar {
	out := append([]StoredVar(nil), g...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Shape.String() < out[j].Shape.String() })
	return out
}

func isFloatDType(d string) bool {
	switch d {
	case "float16", "bfloat16", "float32", "float64":
		return true
	}
	return false
}

// checkValues reads every stored float weight and reports NaN and Inf,
// naming the first bad element.
func (r *Report) checkValues(f *File, stored []StoredLayer, owners map[string]*Layer) {
	for _, s := range stored {
		owner := owners[s.Path]
		if owner == nil {
			owner = &Layer{Name: s.Name, Class: "not in the architecture"}
		}
		for _, v := range s.Weights {
			if v.Missing || !isFloatDType(v.DType) {
				continue
			}
			data, err := f.ReadVar(v)
			if err != nil {
				r.add(SeverityError, "unreadable", owner, v.Path, "%v", err)
				continue
			}
			st := Stats(data)
			if st.NaN+st.Inf == 0 {
				continue
			}
			kind := "nan"
			if st.NaN == 0 {
				kind = "inf"
			}
			r.add(SeverityError, kind, owner, v.Path, "%d NaN and %d Inf values, the first at index %s", st.NaN, st.Inf, index(v.Shape, st.FirstBad))
		}
	}
}

// index formats a flat row-major index as a multi-dimensional one.
func index(s Shape, flat int) string {
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

func (r *Report) checkExpectations(f *File, opt CheckOptions) {
	m := f.Model
	shapes := func(refs []TensorRef) []Shape {
		out := make([]Shape, len(refs))
		for i, t := range refs {
			out[i] = t.Shape()
		}
		return out
	}
	for _, e := range []struct {
		what string
		want []Shape
		got  []Shape
	}{{"inputs", opt.ExpectInputs, shapes(m.Inputs)}, {"outputs", opt.ExpectOutputs, shapes(m.Outputs)}} {
		if e.want == nil {
			continue
		}
		if !shapesEqual(e.got, e.want) {
			r.add(SeverityError, "expect-"+e.what, nil, "", "model %s %s, want %s", e.what, shapeList(e.got), shapeList(e.want))
		}
	}
	if opt.MaxParams > 0 && r.Params > opt.MaxParams {
		r.add(SeverityError, "max-params", nil, "", "%s parameters, more than the %s allowed", num(r.Params), num(opt.MaxParams))
	}
	if v := opt.KerasVersion; v != "" && f.KerasVersion != v && !strings.HasPrefix(f.KerasVersion, v+".") {
		r.add(SeverityError, "keras-version", nil, "", "saved by Keras %q, want %s", f.KerasVersion, v)
	}
}

func shapesEqual(a, b []Shape) bool {
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

func shapeList(s []Shape) string {
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

// ParseShape parses a shape as Keras prints it: "(None, 3, 1)", "(None,)",
// "[None, 3]" or "None,3".
func ParseShape(s string) (Shape, error) {
	t := strings.TrimSpace(s)
	t = strings.TrimPrefix(strings.TrimPrefix(t, "("), "[")
	t = strings.TrimSuffix(strings.TrimSuffix(t, ")"), "]")
	var out Shape
	for _, f := range strings.Split(t, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if strings.EqualFold(f, "none") || f == "?" || f == "-1" {
			out = append(out, None)
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("shape %q: %q is not a dimension", s, f)
		}
		out = append(out, n)
	}
	return out, nil
}
