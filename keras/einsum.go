package keras

import (
	"regexp"
	"strings"

	"github.com/tidwall/gjson"
)

// EinsumDense (keras/src/layers/core/einsum_dense.py; tf_keras
// layers/core/einsum_dense.py): a Dense layer whose contraction an einsum
// equation "input,kernel->output" spells, such as "abc,cd->abd".
//
// Weights: kernel, then bias when bias_axes is given; with Keras 3's
// lora_rank r the kernel turns non-trainable and lora_kernel_a
// (kernel[:-1]..., r) and lora_kernel_b (r, kernel[-1]) follow.
// analyzeEinsum mirrors Keras's _analyze_einsum_string: each kernel letter
// takes its size from the output shape the config gives (output_shape,
// without the batch dimension) or else from the input; the bias has the
// sizes of the bias_axes letters from the first of them in the output to
// its end, 1 for the letters between. "..." stands for dimensions of the
// input carried to the output, at the start or the end.
//
// Output shape: Keras 3 computes it from output_shape alone, so a None there
// stays None; tf.keras runs the einsum, whose shape inference takes every
// output letter's size from the input or the kernel. See tfShapes.
//
// Keys used: equation, output_shape, bias_axes, activation, lora_rank.
// Ignored: initializers, regularizers, constraints (training only),
// lora_alpha (scales values only).

type einsumDense struct {
	eq          einsumEq
	equation    string
	output      Shape   // partial output shape, without the batch dimension
	biasAxes    *string // nil: no bias
	activation  string
	loraRank    int
	inferShapes bool
}

func newEinsumDense(d *decoder) (layerKind, error) {
	l := &einsumDense{
		equation:    d.str("", "equation"),
		activation:  d.activation("linear", "activation"),
		loraRank:    d.int(0, "lora_rank"),
		inferShapes: tfShapes(d),
	}
	if d.err != nil {
		return l, nil
	}
	var ok bool
	if l.eq, ok = parseEinsum(l.equation); !ok {
		d.fail("equation", "got %q, want the form ab,bc->ac, ...ab,bc->...ac or ab...,bc->ac...", l.equation)
		return l, nil
	}
	switch r := d.cfg.Get("output_shape"); {
	case !r.Exists():
		d.fail("output_shape", "missing")
	case r.Type == gjson.Number:
		v, ok := intValue(r)
		if !ok || v < 0 {
			d.fail("output_shape", "got %s, want a size or a list of sizes", short(r.Raw))
		}
		l.output = Shape{v}
	default:
		s, err := parseShape(r)
		if err != nil {
			d.fail("output_shape", "%v", err)
		}
		l.output = s
	}
	if d.has("bias_axes") {
		b := d.str("", "bias_axes")
		l.biasAxes = &b
	}
	if d.err == nil && l.loraRank < 0 {
		d.fail("lora_rank", "got %d, want a positive integer", l.loraRank)
	}
	return l, nil
}

func (l *einsumDense) build(in []Shape) ([]WeightSpec, error) {
	if err := wantInputs(in, 1); err != nil {
		return nil, err
	}
	kernel, bias, _, err := analyzeEinsum(l.eq, l.biasAxes, in[0], l.output)
	if err != nil {
		return nil, err
	}
	w := []WeightSpec{{Name: "kernel", Shape: kernel, Trainable: l.loraRank == 0}}
	if bias != nil {
		w = append(w, WeightSpec{Name: "bias", Shape: bias, Trainable: true})
	}
	if l.loraRank > 0 {
		a := append(kernel[:len(kernel)-1].Clone(), l.loraRank)
		w = append(w,
			WeightSpec{Name: "lora_kernel_a", Shape: a, Trainable: true, DType: "float32"},
			WeightSpec{Name: "lora_kernel_b", Shape: Shape{l.loraRank, kernel[len(kernel)-1]}, Trainable: true, DType: "float32"})
	}
	return w, nil
}

func (l *einsumDense) outputShapes(in []Shape) ([]Shape, error) {
	kernel, _, out, err := analyzeEinsum(l.eq, l.biasAxes, in[0], l.output)
	if err != nil {
		return nil, err
	}
	if l.inferShapes {
		out = l.eq.inferOutput(in[0], kernel)
	}
	return []Shape{out}, nil
}

// tfShapes reports whether a layer's output shapes come from TensorFlow's
// shape inference, as in tf.keras, rather than from compute_output_shape,
// as in Keras 3. Keras 3 serializes a layer's dtype as a DTypePolicy object;
// tf.keras as a name (or a Policy object for mixed precision). Keras 3.0 to
// 3.3 also wrote names and are taken for tf.keras.
func tfShapes(d *decoder) bool {
	c := d.cfg.Get("dtype.class_name")
	return c.Type != gjson.String || !strings.HasSuffix(c.Str, "DTypePolicy")
}

// An einsumEq is a parsed EinsumDense equation.
type einsumEq struct {
	input, kernel, output string
	// "..." at the start of the input and output ("...ab,bc->...ac") or at
	// their end ("ab...,bc->ac...").
	leftElided, rightElided bool
}

// The equation forms _analyze_einsum_string accepts, after it replaces
// "..." by "0". Like Python's re.match they are anchored at the start only.
var einsumForms = []*regexp.Regexp{
	regexp.MustCompile(`^([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)`),
	regexp.MustCompile(`^0([a-zA-Z]+),([a-zA-Z]+)->0([a-zA-Z]+)`),
	regexp.MustCompile(`^([a-zA-Z]{2,})0,([a-zA-Z]+)->([a-zA-Z]+)0`),
}

func parseEinsum(equation string) (einsumEq, bool) {
	s := strings.ReplaceAll(equation, "...", "0")
	for i, re := range einsumForms {
		if m := re.FindStringSubmatch(s); m != nil {
			return einsumEq{input: m[1], kernel: m[2], output: m[3], leftElided: i == 1, rightElided: i == 2}, true
		}
	}
	return einsumEq{}, false
}

// letterIndex maps each letter of a spec to its last position plus off, as
// Keras's {dim: i for i, dim in enumerate(spec)} does.
func letterIndex(spec string, off int) map[byte]int {
	m := make(map[byte]int, len(spec))
	for i := 0; i < len(spec); i++ {
		m[spec[i]] = i + off
	}
	return m
}

// analyzeEinsum is Keras's _analyze_split_string: the kernel shape, the
// bias shape (nil without bias axes) and the full output shape of the
// equation applied to an input of shape in, given the partial output shape.
func analyzeEinsum(eq einsumEq, biasAxes *string, in, partial Shape) (kernel, bias, out Shape, err error) {
	// elided counts the input dimensions "..." stands for. Without "..."
	// there must be none: Keras's formula would accept them, but the
	// einsum it then runs fails.
	elided := len(in) - len(eq.input)
	if elided < 0 || (elided > 0 && !eq.leftElided && !eq.rightElided) {
		return nil, nil, nil, formatErrorf("config.equation: input %q does not fit input shape %s", eq.input, in)
	}
	out = append(Shape{in[0]}, partial...)
	off := 0
	switch {
	case eq.leftElided:
		// Keras inserts each carried dimension at position 1, so they
		// end up reversed in the output shape it reports.
		for i := 1; i < elided; i++ {
			out = append(out[:1], append(Shape{in[i]}, out[1:]...)...)
		}
		off = elided
	case elided > 0:
		out = append(out, in[len(in)-elided:]...)
	}
	inIdx := letterIndex(eq.input, off)
	outIdx := letterIndex(eq.output, off)
	if len(eq.output)+off > len(out) {
		return nil, nil, nil, formatErrorf("config.output_shape: %s has too few dimensions for output %q", partial, eq.output)
	}
	for i := 0; i < len(eq.input); i++ {
		c := eq.input[i]
		if j, ok := outIdx[c]; ok && out[j] >= 0 && out[j] != in[inIdx[c]] {
			return nil, nil, nil, formatErrorf("config.output_shape: dimension %q is %d in the output but %s in the input", c, out[j], dimString(in[inIdx[c]]))
		}
	}
	for i := 0; i < len(eq.output); i++ {
		c := eq.output[i]
		if _, ok := inIdx[c]; !ok && strings.IndexByte(eq.kernel, c) < 0 {
			return nil, nil, nil, formatErrorf("config.equation: output dimension %q is in neither the input nor the kernel", c)
		}
	}
	kernel = make(Shape, len(eq.kernel))
	for k := 0; k < len(eq.kernel); k++ {
		c := eq.kernel[k]
		j, inOut := outIdx[c]
		i, inIn := inIdx[c]
		switch {
		// Keras 3 prefers the output's size, tf.keras the input's; they
		// agree whenever both are known.
		case inOut && (out[j] >= 0 || !inIn):
			kernel[k] = out[j]
		case inIn:
			kernel[k] = in[i]
		default:
			return nil, nil, nil, formatErrorf("config.equation: kernel dimension %q is in neither the input nor the output", c)
		}
		if kernel[k] < 0 {
			return nil, nil, nil, formatErrorf("config.output_shape: kernel dimension %q is unknown", c)
		}
	}
	if biasAxes != nil {
		if bias, err = einsumBias(eq, *biasAxes, out, outIdx, elided); err != nil {
			return nil, nil, nil, err
		}
	}
	return kernel, bias, out, nil
}

// einsumBias computes the bias shape of analyzeEinsum: the output from the
// first bias letter on, with the bias letters' sizes and 1 elsewhere, and a
// 1 for each dimension "..." stands for at the end.
func einsumBias(eq einsumEq, axes string, out Shape, outIdx map[byte]int, elided int) (Shape, error) {
	if axes == "" {
		return nil, formatErrorf("config.bias_axes: empty")
	}
	first := len(eq.output)
	for i := 0; i < len(axes); i++ {
		j := strings.IndexByte(eq.output, axes[i])
		if j < 0 {
			return nil, formatErrorf("config.bias_axes: %q is not in the output %q", axes[i], eq.output)
		}
		first = min(first, j)
	}
	var bias Shape
	for i := first; i < len(eq.output); i++ {
		n := 1
		if c := eq.output[i]; strings.IndexByte(axes, c) >= 0 {
			if n = out[outIdx[c]]; n < 0 {
				return nil, formatErrorf("config.bias_axes: dimension %q is unknown", c)
			}
		}
		bias = append(bias, n)
	}
	if !eq.leftElided {
		for range elided {
			bias = append(bias, 1)
		}
	}
	return bias, nil
}

// inferOutput is the output shape TensorFlow's einsum infers: the input's
// dimensions "..." stands for, in order, and each output letter's size
// from the input, or from the kernel where the input's is unknown.
func (eq einsumEq) inferOutput(in, kernel Shape) Shape {
	elided := len(in) - len(eq.input)
	off := 0
	if eq.leftElided {
		off = elided
	}
	var out Shape
	if eq.leftElided {
		out = append(out, in[:elided]...)
	}
	for i := 0; i < len(eq.output); i++ {
		c, n := eq.output[i], None
		if j := strings.LastIndexByte(eq.input, c); j >= 0 {
			n = in[j+off]
		}
		if j := strings.LastIndexByte(eq.kernel, c); n < 0 && j >= 0 {
			n = kernel[j]
		}
		out = append(out, n)
	}
	if eq.rightElided {
		out = append(out, in[len(in)-elided:]...)
	}
	return out
}

// explain: the kernel has a dimension for each letter of the equation's
// kernel part, sized by the input or the output shape; the bias one for
// each bias axis (1 for the output letters between them).
func (l *einsumDense) explain(class string, in []Shape) (*formula, error) {
	if err := wantInputs(in, 1); err != nil {
		return nil, err
	}
	kernel, bias, _, err := analyzeEinsum(l.eq, l.biasAxes, in[0], l.output)
	if err != nil {
		return nil, err
	}
	head := class + "(\"" + l.equation + "\"), input " + in[0].String()
	terms := []Term{newTerm("kernel", l.loraRank == 0, kernel...).noted(l.eq.kernel)}
	if bias != nil {
		terms = append(terms, newTerm("bias", true, bias...).noted(*l.biasAxes))
	}
	if l.loraRank == 0 {
		return &formula{head: head, body: equation(terms), terms: terms}, nil
	}
	terms = append(terms,
		newTerm("lora kernel a", true, append(kernel[:len(kernel)-1].Clone(), l.loraRank)...),
		newTerm("lora kernel b", true, l.loraRank, kernel[len(kernel)-1]))
	return &formula{
		head:  head + ", lora_rank " + num(l.loraRank),
		body:  equation(terms) + ", of which " + num(terms[0].Count) + " non-trainable (the kernel LoRA freezes)",
		terms: terms,
	}, nil
}
