package keras

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/kerascope/kerascope/keras/internal/kernel"
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
// Keys used: equation, output_shape, bias_axes, activation, lora_rank,
// lora_alpha. Ignored: initializers, regularizers, constraints (training
// only).

type einsumDense struct {
	eq          einsumEq
	equation    string
	output      Shape   // partial output shape, without the batch dimension
	biasAxes    *string // nil: no bias
	activation  string
	loraRank    int
	loraAlpha   float64
	inferShapes bool
}

func newEinsumDense(d *decoder) (layerKind, error) {
	l := &einsumDense{
		equation:    d.str("", "equation"),
		activation:  d.activation("linear", "activation"),
		loraRank:    d.int(0, "lora_rank"),
		inferShapes: tfShapes(d),
	}
	l.loraAlpha = d.float(float64(l.loraRank), "lora_alpha")
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

// The forward pass computes the einsum as one matrix product per batch
// letter, after transposing. Each letter falls in one class: in the input,
// the kernel and the output (batch, B); in the input and the output (free
// input dimensions, M, with those "..." stands for); in the input and the
// kernel only (contracted, K); in the kernel and the output (free kernel
// dimensions, N). The input is laid out as (B, M, K), the kernel as
// (B, K, N), their product is (B, M, N), and a last transpose gives the
// output's order. The bias, shaped to broadcast against the output's
// trailing dimensions, is added, then the activation applied.

// einsumPlan is an equation fitted to an input rank.
type einsumPlan struct {
	in, kernel, out []byte // labels, elided dimensions as bytes 1, 2, ...
	b, m, k, n      []byte // the classes, each in the order used
}

func (eq einsumEq) plan(rank int) (*einsumPlan, error) {
	elided := rank - len(eq.input)
	if elided < 0 || (elided > 0 && !eq.leftElided && !eq.rightElided) {
		return nil, fmt.Errorf("equation %q does not fit an input of rank %d", eq.input, rank)
	}
	var dots []byte
	for i := 0; i < elided; i++ {
		dots = append(dots, byte(i+1))
	}
	p := &einsumPlan{kernel: []byte(eq.kernel)}
	switch {
	case eq.leftElided:
		p.in = append(slices.Clone(dots), eq.input...)
		p.out = append(slices.Clone(dots), eq.output...)
	default:
		p.in = append([]byte(eq.input), dots...)
		p.out = append([]byte(eq.output), dots...)
	}
	has := func(s []byte, c byte) bool { return slices.Contains(s, c) }
	for _, c := range p.out {
		inIn, inK := has(p.in, c), has(p.kernel, c)
		switch {
		case inIn && inK:
			p.b = append(p.b, c)
		case inIn:
			p.m = append(p.m, c)
		case inK:
			p.n = append(p.n, c)
		default:
			return nil, fmt.Errorf("output dimension %q is in neither the input nor the kernel", c)
		}
	}
	for _, c := range p.in {
		if !has(p.out, c) {
			if !has(p.kernel, c) {
				return nil, fmt.Errorf("input dimension %q is summed alone, which kerascope does not compute", c)
			}
			p.k = append(p.k, c)
		}
	}
	for _, c := range p.kernel {
		if !has(p.out, c) && !has(p.in, c) {
			return nil, fmt.Errorf("kernel dimension %q is summed alone, which kerascope does not compute", c)
		}
	}
	for _, s := range [][]byte{p.in, p.kernel, p.out} {
		for i, c := range s {
			if slices.Contains(s[i+1:], c) {
				return nil, fmt.Errorf("dimension %q repeats within one operand", c)
			}
		}
	}
	return p, nil
}

// permFor returns the permutation taking labels from to the concatenation
// of groups.
func permFor(from []byte, groups ...[]byte) []int {
	var perm []int
	for _, g := range groups {
		for _, c := range g {
			perm = append(perm, slices.Index(from, c))
		}
	}
	return perm
}

func isIdentity(perm []int) bool {
	for i, p := range perm {
		if i != p {
			return false
		}
	}
	return true
}

// transposed returns data of the given shape with its axes permuted, and
// the new shape; data itself when the permutation changes nothing.
func transposed(data []float32, shape, perm []int) ([]float32, []int) {
	if isIdentity(perm) {
		return data, shape
	}
	out := make([]float32, len(data))
	kernel.Transpose(out, data, shape, perm)
	return out, permuted(shape, perm)
}

// einsum computes the product of x and a kernel by the plan.
func (p *einsumPlan) einsum(x *Tensor, w *Tensor) (*Tensor, error) {
	if len(w.Shape) != len(p.kernel) {
		return nil, fmt.Errorf("kernel of shape %s does not fit %q", shapeString(w.Shape), string(p.kernel))
	}
	size := map[byte]int{}
	for i, c := range p.in {
		size[c] = x.Shape[i]
	}
	for i, c := range p.kernel {
		if d, ok := size[c]; ok && d != w.Shape[i] {
			return nil, fmt.Errorf("input shape %s does not fit kernel shape %s", shapeString(x.Shape), shapeString(w.Shape))
		}
		size[c] = w.Shape[i]
	}
	prod := func(g []byte) int {
		n := 1
		for _, c := range g {
			n *= size[c]
		}
		return n
	}
	nb, m, k, n := prod(p.b), prod(p.m), prod(p.k), prod(p.n)
	xd, _ := transposed(x.Data, x.Shape, permFor(p.in, p.b, p.m, p.k))
	wd, _ := transposed(w.Data, w.Shape, permFor(p.kernel, p.b, p.k, p.n))
	var mid []int
	for _, g := range [][]byte{p.b, p.m, p.n} {
		for _, c := range g {
			mid = append(mid, size[c])
		}
	}
	res := make([]float32, nb*m*n)
	for b := 0; b < nb; b++ {
		kernel.MatMul(res[b*m*n:(b+1)*m*n], xd[b*m*k:(b+1)*m*k], wd[b*k*n:(b+1)*k*n], m, k, n, false)
	}
	midLabels := append(append(slices.Clone(p.b), p.m...), p.n...)
	perm := permFor(midLabels, p.out)
	data, shape := transposed(res, mid, perm)
	return &Tensor{Shape: slices.Clone(shape), Data: data}, nil
}

// addBias adds a bias shaped to broadcast against out's trailing
// dimensions.
func addBias(out, bias *Tensor) error {
	r, br := len(out.Shape), len(bias.Shape)
	if br > r {
		return fmt.Errorf("bias of shape %s does not fit output shape %s", shapeString(bias.Shape), shapeString(out.Shape))
	}
	trail := out.Shape[r-br:]
	for i, d := range bias.Shape {
		if d != 1 && d != trail[i] {
			return fmt.Errorf("bias of shape %s does not fit output shape %s", shapeString(bias.Shape), shapeString(out.Shape))
		}
	}
	full := make([]float32, shapeLen(trail))
	if len(full) == 0 {
		return nil
	}
	if br == 0 {
		full[0] = bias.Data[0]
	} else {
		kernel.Broadcast(full, bias.Data, bias.Shape, trail)
	}
	kernel.AddBias(out.Data, full)
	return nil
}

func (l *einsumDense) cannotRun() string { return activationReason(l.activation) }

func (l *einsumDense) forward(c *call) error {
	x := c.in[0]
	p, err := l.eq.plan(len(x.Shape))
	if err != nil {
		return err
	}
	w := c.w[0]
	if l.loraRank > 0 {
		if w, err = loraKernel(w, c.w[len(c.w)-2], c.w[len(c.w)-1], l.loraAlpha/float64(l.loraRank)); err != nil {
			return err
		}
	}
	out, err := p.einsum(x, w)
	if err != nil {
		return err
	}
	if l.biasAxes != nil {
		if err := addBias(out, c.w[1]); err != nil {
			return err
		}
	}
	c.out = []*Tensor{out}
	return c.activate(l.activation, out)
}

// loraKernel is Keras 3's LoRA kernel: kernel + scale·(a·b), a of shape
// (kernel[:-1]..., r), b (r, kernel[-1]).
func loraKernel(w, a, b *Tensor, scale float64) (*Tensor, error) {
	if len(w.Shape) == 0 || len(b.Shape) != 2 || len(a.Shape) == 0 {
		return nil, fmt.Errorf("LoRA kernels of shapes %s and %s do not fit kernel shape %s", shapeString(a.Shape), shapeString(b.Shape), shapeString(w.Shape))
	}
	n := w.Shape[len(w.Shape)-1]
	r := b.Shape[0]
	if b.Shape[1] != n || a.Shape[len(a.Shape)-1] != r || len(a.Data)/max(r, 1)*n != len(w.Data) {
		return nil, fmt.Errorf("LoRA kernels of shapes %s and %s do not fit kernel shape %s", shapeString(a.Shape), shapeString(b.Shape), shapeString(w.Shape))
	}
	m := len(w.Data) / max(n, 1)
	out := w.Clone()
	ab := make([]float32, len(w.Data))
	kernel.MatMul(ab, a.Data, b.Data, m, r, n, false)
	s := float32(scale)
	for i, v := range ab {
		out.Data[i] += s * v
	}
	return out, nil
}
