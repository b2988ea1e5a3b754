package keras

import (
	"fmt"
	"strconv"
	"strings"
)

// Explaining parameter counts. The "Param #" column of Keras's summary is a
// sum that follows from each layer's config and the shape of its input:
// for a SimpleRNN(2) on one feature, input weights 1×2 + recurrent weights
// 2×2 + biases 2 = 8. [Layer.Explain] spells that sum out in the layer's own
// terms (gates, filters, heads, moving statistics), with the model's own
// numbers.
//
// Each layer family's file explains its classes next to their build: a
// layerKind may implement explainer. The formula is computed again from the
// config and the input shape, independently of the weights build listed;
// Explain checks that both agree on the total and on the trainable part,
// and falls back to listing the weights (a generic formula) when they do
// not, or when a kind has no formula of its own.

// An Explanation tells how a layer's parameter count follows from its
// config and its input shape.
type Explanation struct {
	Layer string `json:"layer"`
	Class string `json:"class"`
	// Formula is the arithmetic on one line, in the layer's own terms:
	// "SimpleRNN(2), input dim 1: kernel 1×2 + recurrent kernel 2×2 +
	// bias 2 = 8 = 2 × (1 + 2 + 1)". Numbers have comma thousands
	// separators.
	Formula string `json:"formula"`
	// Terms are the weights the formula adds up, in the order Keras
	// creates them; their counts sum to Total.
	Terms []Term `json:"terms"`
	// Total is the layer's parameter count, Keras's "Param #"; it always
	// equals the layer's Params().
	Total int64 `json:"total"`
	// Trainable and NonTrainable split Total as Keras's layer
	// count_params does: a frozen layer's weights are all non-trainable.
	Trainable    int64 `json:"trainable"`
	NonTrainable int64 `json:"non_trainable"`
	// Calls is the number of times the model calls the layer; the calls
	// of a shared layer share its weights, counted once.
	Calls  int    `json:"calls"`
	Source Source `json:"source"`
	// Layers explains, for a nested model, each of its layers.
	Layers []Explanation `json:"layers,omitempty"`
}

// A Term is one weight (or one part of a weight) of an explanation.
type Term struct {
	Label string `json:"label"` // "kernel", "recurrent kernel", "forward bias", ...
	// Factors multiply to Count: the weight's dimensions, in the order the
	// formula names them. A scalar has none.
	Factors   []int `json:"factors"`
	Count     int64 `json:"count"`
	Trainable bool  `json:"trainable"`

	note string // shown after the factors: "(input and recurrent biases)"
}

// A Source tells where an explanation's numbers come from.
type Source string

const (
	// SourceFormula: the class's own formula, from the config and the
	// input shape ("no weights" for classes that create none).
	SourceFormula Source = "formula"
	// SourceGeneric: the weights the architecture implies, listed, for a
	// class without a formula of its own.
	SourceGeneric Source = "generic"
	// SourceFile: the weights the file stores for the layer, because its
	// config does not tell them (a custom class, or an unknown input).
	SourceFile Source = "file"
	// SourceUnknown: a layer whose weights nothing tells.
	SourceUnknown Source = "unknown"
)

// A formula is what a layer kind's explain method returns.
type formula struct {
	head   string        // the layer as configured: "LSTM(64), input dim 128"
	body   string        // the arithmetic: "kernel 128×256 + … = 49,408 = …"
	terms  []Term        // the weights, in build order, with the kind's trainable flags
	layers []Explanation // a nested model's layers
}

// explainer is implemented by the layer kinds that can explain their
// parameter count from the input shapes they were built on. class is the
// class name the config gives (legacy spellings included).
type explainer interface {
	explain(class string, in []Shape) (*formula, error)
}

// Explain tells how the layer's parameter count follows from its config
// and the shape of the input it was built on, as one line of arithmetic
// and the terms it adds up. The total always equals [Layer.Params]. A
// layer whose weights the file had to tell (an unknown class) says so.
func (l *Layer) Explain() Explanation {
	f, src := l.formula()
	e := Explanation{Layer: l.Name, Class: l.Class, Calls: len(l.Nodes), Source: src, Layers: f.layers}
	e.Terms = make([]Term, len(f.terms))
	for i, t := range f.terms {
		t.Trainable = t.Trainable && l.Trainable
		if t.Factors == nil {
			t.Factors = []int{}
		}
		e.Terms[i] = t
		e.Total += t.Count
		if t.Trainable {
			e.Trainable += t.Count
		}
	}
	e.NonTrainable = e.Total - e.Trainable
	e.Formula = f.body
	if f.head != "" {
		e.Formula = f.head + ": " + f.body
	}
	if !l.Trainable && e.Total > 0 {
		e.Formula += "; frozen (trainable=False): all " + num(e.Total) + " non-trainable"
	}
	if e.Calls > 1 {
		e.Formula += "; called " + strconv.Itoa(e.Calls) + " times"
		if e.Total > 0 {
			e.Formula += ", weights shared"
		}
	}
	return e
}

// Explain explains every layer of the model, in the order of its Layers.
func (m *Model) Explain() []Explanation {
	out := make([]Explanation, len(m.Layers))
	for i, l := range m.Layers {
		out[i] = l.Explain()
	}
	return out
}

// formula returns the layer's formula and where it comes from.
func (l *Layer) formula() (*formula, Source) {
	_, unknown := l.impl.(unknownLayer)
	switch {
	case l.Op:
		return noWeights("a Keras operation"), SourceFormula
	case l.WeightsFromFile:
		return fileFormula(l, unknown), SourceFile
	case !l.Built && unknown:
		return &formula{body: "custom layer: weights unknown (the file stores none for it)"}, SourceUnknown
	case !l.Built:
		return &formula{body: "not built: its input shape is unknown"}, SourceUnknown
	}
	if x, ok := l.impl.(explainer); ok {
		if in := l.buildInputs(); in != nil {
			if f := safeExplain(x, l.Class, in); f != nil && agrees(f.terms, l.Weights) {
				return f, SourceFormula
			}
		}
	}
	return genericFormula(l.Weights), SourceGeneric
}

// safeExplain runs a kind's explain method, turning a failure (which a
// malformed config could cause) into no formula.
func safeExplain(x explainer, class string, in []Shape) (f *formula) {
	defer func() {
		if recover() != nil {
			f = nil
		}
	}()
	f, err := x.explain(class, in)
	if err != nil {
		return nil
	}
	return f
}

// agrees reports whether a formula's terms add up to the weights the
// layer's build listed, in total and in their trainable part.
func agrees(terms []Term, weights []WeightSpec) bool {
	var total, trainable int64
	for _, t := range terms {
		n, ok := Shape(t.Factors).Size()
		if !ok || n != t.Count {
			return false
		}
		total += t.Count
		if t.Trainable {
			trainable += t.Count
		}
	}
	for _, w := range weights {
		n, _ := w.Shape.Size()
		total -= n
		if w.Trainable {
			trainable -= n
		}
	}
	return total == 0 && trainable == 0
}

// buildInputs returns the input shapes of the layer's first call whose
// inputs are all known, the call that built the layer, as Node.run sees
// them; nil if there is none.
func (l *Layer) buildInputs() []Shape {
	for _, n := range l.Nodes {
		in := make([]Shape, len(n.Inputs))
		for i, r := range n.Inputs {
			in[i] = r.Shape()
			if in[i] == nil && i < len(n.inputHints) {
				in[i] = n.inputHints[i]
			}
			if in[i] == nil {
				in = nil
				break
			}
		}
		if in != nil {
			return in
		}
	}
	return nil
}

// genericFormula lists weights: "kernel 3×4 + bias 4 = 16".
func genericFormula(weights []WeightSpec) *formula {
	if len(weights) == 0 {
		return noWeights("")
	}
	terms := make([]Term, len(weights))
	for i, w := range weights {
		terms[i] = newTerm(strings.ReplaceAll(w.Name, "_", " "), w.Trainable, w.Shape...)
	}
	return &formula{body: equation(terms), terms: terms}
}

// fileFormula lists the weights the file stores for a layer.
func fileFormula(l *Layer, unknown bool) *formula {
	head := "input shape unknown"
	if unknown {
		head = "custom layer"
	}
	if len(l.Weights) == 0 {
		return &formula{head: head, body: "the file stores no weights for it"}
	}
	terms := make([]Term, len(l.Weights))
	for i, w := range l.Weights {
		label := strings.TrimSuffix(w.Name, ":0")
		if _, err := strconv.Atoi(label); err == nil {
			// Keras 3 numbers the variables of each of a layer's
			// objects from 0: number them across the layer instead.
			label = "weight " + strconv.Itoa(i+1)
		}
		terms[i] = newTerm(label, w.Trainable, w.Shape...)
	}
	return &formula{head: head, body: "weights stored in the file: " + equation(terms), terms: terms}
}

// noWeights is the formula of a layer that creates no weights.
func noWeights(why string) *formula {
	if why != "" {
		return &formula{body: "no weights (" + why + ")"}
	}
	return &formula{body: "no weights"}
}

// The input layer and the model's inputs: nothing to learn.
func (inputLayer) explain(string, []Shape) (*formula, error) {
	return noWeights("model input"), nil
}

// newTerm makes a term of the given factors.
func newTerm(label string, trainable bool, factors ...int) Term {
	n, ok := Shape(factors).Size()
	if !ok {
		n = -1 // never agrees with the weights: the generic formula is used
	}
	return Term{Label: label, Factors: append([]int{}, factors...), Count: n, Trainable: trainable}
}

// noted returns t with a note shown after its factors.
func (t Term) noted(note string) Term {
	t.note = note
	return t
}

// prefixed returns the terms with their labels prefixed.
func prefixed(prefix string, terms []Term) []Term {
	out := make([]Term, len(terms))
	for i, t := range terms {
		t.Label = prefix + t.Label
		out[i] = t
	}
	return out
}

// sumTerms adds up the terms' counts.
func sumTerms(terms []Term) int64 {
	var n int64
	for _, t := range terms {
		n += t.Count
	}
	return n
}

// nonTrainable adds up the counts of the terms that are not trainable.
func nonTrainable(terms []Term) int64 {
	var n int64
	for _, t := range terms {
		if !t.Trainable {
			n += t.Count
		}
	}
	return n
}

// termsText writes terms as a sum: "kernel 1×2 + recurrent kernel 2×2 +
// bias 2".
func termsText(terms []Term) string {
	parts := make([]string, len(terms))
	for i, t := range terms {
		parts[i] = t.Label + " " + dims(t.Factors...)
		if t.note != "" {
			parts[i] += " (" + t.note + ")"
		}
	}
	return strings.Join(parts, " + ")
}

// equation writes terms as a sum and its total, followed by other ways of
// writing the total: "kernel 64×10 + bias 10 = 650 = 10 × (64 + 1)".
func equation(terms []Term, also ...string) string {
	s := termsText(terms) + " = " + num(sumTerms(terms))
	for _, a := range also {
		if a != "" {
			s += " = " + a
		}
	}
	return s
}

// Thousands formats n with comma thousands separators, as Keras's summary
// prints parameter counts: 1,234,567.
func Thousands(n int64) string { return num(n) }

// num formats n with comma thousands separators, as Keras's summary does.
func num[T int | int64](n T) string {
	s := strconv.FormatInt(int64(n), 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// plural writes n and a noun, in the plural unless n is 1: "1 channel",
// "3 channels".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return num(n) + " " + noun + "s"
}

// dims writes factors as a product: "3×3×3×32"; a scalar is 1.
func dims(factors ...int) string {
	if len(factors) == 0 {
		return "1"
	}
	parts := make([]string, len(factors))
	for i, f := range factors {
		parts[i] = num(f)
	}
	return strings.Join(parts, "×")
}

// axesText writes an axis argument as the config gives it: "-1", "[1, 3]",
// or "None".
func axesText(axes []int) string {
	switch len(axes) {
	case 0:
		return "None"
	case 1:
		return strconv.Itoa(axes[0])
	}
	parts := make([]string, len(axes))
	for i, a := range axes {
		parts[i] = strconv.Itoa(a)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// sizeText writes the size of a weight shaped s: "64", or "4×6 = 24" when
// several dimensions are above 1.
func sizeText(s Shape) string {
	var big []int
	for _, d := range s {
		if d != 1 {
			big = append(big, d)
		}
	}
	n, _ := s.Size()
	if len(big) <= 1 {
		return num(n)
	}
	return dims(big...) + " = " + num(n)
}

// nameList joins names as English does: "a", "a and b", "a, b and c".
func nameList(names []string) string {
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// explainLayer explains a layer held inside another (a wrapper's inner
// layer) as if built on in.
func explainLayer(l *Layer, in []Shape) (*formula, error) {
	x, ok := l.impl.(explainer)
	if !ok {
		return nil, fmt.Errorf("no formula for %s", l.Class)
	}
	return x.explain(l.Class, in)
}
