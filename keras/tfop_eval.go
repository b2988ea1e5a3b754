package keras

import (
	"fmt"
	"math"

	"github.com/tidwall/gjson"
)

// The TensorFlow functions kerascope runs for TFOpLambda and
// SlicingOpLambda layers (tfop.go), each with TensorFlow's output shapes
// and its arithmetic. Computation is in float64 per element where
// TensorFlow's float32 kernels round once.

func init() {
	binary := map[string]func(a, b float64) float64{
		"add": func(a, b float64) float64 { return a + b }, "sub": func(a, b float64) float64 { return a - b },
		"mul": func(a, b float64) float64 { return a * b }, "div": func(a, b float64) float64 { return a / b },
		"max": math.Max, "min": math.Min, "pow": math.Pow,
	}
	for name, op := range map[string]string{
		"__operators__.add": "add", "math.add": "add", "add": "add",
		"__operators__.sub": "sub", "math.subtract": "sub", "subtract": "sub",
		"__operators__.mul": "mul", "math.multiply": "mul", "multiply": "mul",
		"__operators__.truediv": "div", "math.truediv": "div", "math.divide": "div", "divide": "div", "truediv": "div",
		"math.maximum": "max", "maximum": "max", "math.minimum": "min", "minimum": "min",
		"__operators__.pow": "pow", "math.pow": "pow", "pow": "pow",
	} {
		tfOps[name] = binaryTFOp(binary[op])
	}
	unary := map[string]func(x float64) float64{
		"math.negative": func(x float64) float64 { return -x }, "__operators__.neg": func(x float64) float64 { return -x },
		"math.abs": math.Abs, "abs": math.Abs, "math.sqrt": math.Sqrt, "sqrt": math.Sqrt,
		"math.rsqrt":  func(x float64) float64 { return 1 / math.Sqrt(x) },
		"math.square": func(x float64) float64 { return x * x }, "square": func(x float64) float64 { return x * x },
		"math.exp": math.Exp, "exp": math.Exp, "math.log": math.Log,
		"math.sigmoid": sigmoid64, "nn.sigmoid": sigmoid64, "sigmoid": sigmoid64,
		"math.tanh": math.Tanh, "nn.tanh": math.Tanh, "tanh": math.Tanh,
		"math.erf": math.Erf, "math.softplus": softplus64, "nn.softplus": softplus64,
		"nn.relu":  func(x float64) float64 { return math.Max(x, 0) },
		"nn.relu6": func(x float64) float64 { return math.Min(math.Max(x, 0), 6) },
		"nn.silu":  func(x float64) float64 { return x * sigmoid64(x) }, "nn.swish": func(x float64) float64 { return x * sigmoid64(x) },
		"identity": func(x float64) float64 { return x },
	}
	for name, f := range unary {
		tfOps[name] = unaryTFOp(f)
	}
	tfOps["nn.gelu"] = &tfOpSpec{shape: tfSameShape, eval: evalGELU}
	tfOps["cast"] = &tfOpSpec{shape: tfSameShape, eval: evalCast}
	tfOps["clip_by_value"] = &tfOpSpec{shape: tfSameShape, eval: evalClip}
	tfOps["nn.softmax"] = &tfOpSpec{shape: tfSameShape, eval: evalSoftmax}
	tfOps["math.softmax"] = tfOps["nn.softmax"]
	tfOps["math.l2_normalize"] = &tfOpSpec{shape: tfSameShape, eval: evalL2Normalize}
	tfOps["nn.l2_normalize"] = tfOps["math.l2_normalize"]
	for name, kind := range map[string]string{
		"math.reduce_sum": "sum", "reduce_sum": "sum", "math.reduce_mean": "mean", "reduce_mean": "mean",
		"math.reduce_max": "max", "reduce_max": "max", "math.reduce_min": "min", "reduce_min": "min",
	} {
		tfOps[name] = &tfOpSpec{shape: reduceShape, eval: reduceEval(kind)}
	}
	tfOps["concat"] = &tfOpSpec{shape: concatShape(false), eval: concatEval(false)}
	tfOps["stack"] = &tfOpSpec{shape: concatShape(true), eval: concatEval(true)}
	tfOps["expand_dims"] = &tfOpSpec{shape: expandDimsShape, eval: reshapeEval(expandDimsShape)}
	tfOps["squeeze"] = &tfOpSpec{shape: squeezeShape, eval: reshapeEval(squeezeShape)}
	tfOps["reshape"] = &tfOpSpec{shape: reshapeShape, eval: reshapeEval(reshapeShape)}
	tfOps["transpose"] = &tfOpSpec{shape: transposeShape, eval: transposeEval}
	tfOps["compat.v1.transpose"] = tfOps["transpose"]
}

func sigmoid64(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

func softplus64(x float64) float64 {
	if x > 30 {
		return x
	}
	return math.Log1p(math.Exp(x))
}

// forward runs the op on the node's tensors: the positional ones, then
// the keyword ones in sorted key order, as parseTFCall numbers them.
func (k *tfOp) forward(c *call) error {
	if k.spec == nil {
		return errNotRunnable
	}
	if c.node == nil {
		return fmt.Errorf("a TensorFlow op inside a wrapper cannot run")
	}
	tc, err := parseTFCall(c.node.call)
	if err != nil {
		return err
	}
	in := append([]*Tensor(nil), c.in...)
	for _, kv := range sortedPairs(gjsonKeys(c.kwargs)) {
		in = append(in, c.kwargs[kv.k]...)
	}
	if tc.maxInput() >= len(in) {
		return fmt.Errorf("the call names %d tensors, the node has %d", tc.maxInput()+1, len(in))
	}
	out, err := k.spec.eval(tc, in)
	if err != nil {
		return fmt.Errorf("tf.%s: %w", k.fn, err)
	}
	c.out = out
	c.outMasks = make([]mask, len(out))
	return nil
}

// gjsonKeys presents a map's keys as an object, for sortedPairs.
func gjsonKeys(m map[string][]*Tensor) gjson.Result {
	b := []byte("{")
	first := true
	for k := range m {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = fmt.Appendf(b, "%q:0", k)
	}
	return gjson.ParseBytes(append(b, '}'))
}

// argTensor returns an argument as a tensor: a constant becomes one.
func tfTensor(a tfArg, in []*Tensor) (*Tensor, error) {
	if a.input >= 0 {
		return in[a.input], nil
	}
	if a.isList {
		// Packed as TensorFlow packs it (argShape).
		var ts []*Tensor
		for _, e := range a.list {
			t, err := tfTensor(e, in)
			if err != nil {
				return nil, err
			}
			ts = append(ts, &Tensor{Shape: append([]int{1}, t.Shape...), Data: t.Data})
		}
		if len(ts) == 0 {
			return nil, fmt.Errorf("an empty list where a tensor is expected")
		}
		return concatTensors(ts, 0)
	}
	s, err := constShape(a.value)
	if err != nil {
		return nil, err
	}
	// A constant's shape comes from its first elements: allocate only
	// once its elements, counted, fill it (no larger than the file).
	leaves := countLeaves(a.value, 0)
	if n, ok := s.Size(); !ok || n != int64(leaves) {
		return nil, fmt.Errorf("constant %s is not rectangular", short(a.value.Raw))
	}
	t := NewTensor(s...)
	i := 0
	var fill func(v gjson.Result)
	fill = func(v gjson.Result) {
		if v.IsArray() {
			for _, e := range v.Array() {
				fill(e)
			}
			return
		}
		if i < len(t.Data) {
			switch v.Type {
			case gjson.True:
				t.Data[i] = 1
			case gjson.Number:
				t.Data[i] = float32(v.Float())
			}
		}
		i++
	}
	fill(a.value)
	if i != len(t.Data) {
		return nil, fmt.Errorf("constant %s is not rectangular", short(a.value.Raw))
	}
	return t, nil
}

// countLeaves counts the numbers in a constant, nested lists included.
func countLeaves(v gjson.Result, depth int) int {
	if !v.IsArray() {
		return 1
	}
	if depth > maxNesting {
		return -1
	}
	n := 0
	for _, e := range v.Array() {
		c := countLeaves(e, depth+1)
		if c < 0 {
			return -1
		}
		n += c
	}
	return n
}

func tfSameShape(c *tfCall, in []Shape) ([]Shape, error) {
	s, err := argShape(c.first, in)
	return []Shape{s.Clone()}, err
}

func unaryTFOp(f func(float64) float64) *tfOpSpec {
	return &tfOpSpec{shape: tfSameShape, eval: func(c *tfCall, in []*Tensor) ([]*Tensor, error) {
		x, err := tfTensor(c.first, in)
		if err != nil {
			return nil, err
		}
		out := NewTensor(x.Shape...)
		for i, v := range x.Data {
			out.Data[i] = float32(f(float64(v)))
		}
		return []*Tensor{out}, nil
	}}
}

// secondArg is the second operand of a binary function: y, or b for
// math.add(a, b)'s older spellings.
func secondArg(c *tfCall) tfArg {
	for _, n := range []string{"y", "b"} {
		if a := c.arg(n); a.exists() {
			return a
		}
	}
	return tfArg{input: -1}
}

func binaryTFOp(f func(a, b float64) float64) *tfOpSpec {
	return &tfOpSpec{
		shape: func(c *tfCall, in []Shape) ([]Shape, error) {
			x, err := argShape(c.first, in)
			if err != nil {
				return nil, err
			}
			y, err := argShape(secondArg(c), in)
			if err != nil {
				return nil, err
			}
			s, err := tfBroadcastShapes(x, y)
			return []Shape{s}, err
		},
		eval: func(c *tfCall, in []*Tensor) ([]*Tensor, error) {
			x, err := tfTensor(c.first, in)
			if err != nil {
				return nil, err
			}
			y, err := tfTensor(secondArg(c), in)
			if err != nil {
				return nil, err
			}
			out, err := broadcastApply(x, y, func(a, b float32) float32 { return float32(f(float64(a), float64(b))) })
			return []*Tensor{out}, err
		},
	}
}

// broadcastShapes is NumPy's broadcast of two static shapes: an unknown
// dimension against 1 stays unknown, against n is n.
func tfBroadcastShapes(a, b Shape) (Shape, error) {
	rank := max(len(a), len(b))
	out := make(Shape, rank)
	for i := range rank {
		da, db := dimFromEnd(a, rank-1-i), dimFromEnd(b, rank-1-i)
		switch {
		case da == db:
			out[i] = da
		case da == 1:
			out[i] = db
		case db == 1:
			out[i] = da
		case da == None:
			out[i] = db
		case db == None:
			out[i] = da
		default:
			return nil, formatErrorf("shapes %s and %s do not broadcast", a, b)
		}
	}
	return out, nil
}

func evalGELU(c *tfCall, in []*Tensor) ([]*Tensor, error) {
	approx := c.arg("approximate").value.Bool()
	f := func(x float64) float64 { return 0.5 * x * (1 + math.Erf(x/math.Sqrt2)) }
	if approx {
		f = func(x float64) float64 {
			return 0.5 * x * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(x+0.044715*x*x*x)))
		}
	}
	return unaryTFOp(f).eval(c, in)
}

// evalCast casts to a float type (a no-op on float32 values), an integer
// type (truncation) or bool.
func evalCast(c *tfCall, in []*Tensor) ([]*Tensor, error) {
	dt := c.arg("dtype").value.String()
	switch {
	case dt == "float32" || dt == "float64" || dt == "float16":
		return unaryTFOp(func(x float64) float64 { return x }).eval(c, in)
	case dt == "bool":
		return unaryTFOp(func(x float64) float64 { return float64(bool01(x != 0)) }).eval(c, in)
	case len(dt) >= 3 && (dt[:3] == "int" || dt[:4] == "uint"):
		return unaryTFOp(math.Trunc).eval(c, in)
	}
	return nil, fmt.Errorf("cast to %q is not supported", dt)
}

func evalClip(c *tfCall, in []*Tensor) ([]*Tensor, error) {
	x, err := tfTensor(c.first, in)
	if err != nil {
		return nil, err
	}
	lo, err := tfTensor(c.arg("clip_value_min"), in)
	if err != nil {
		return nil, err
	}
	hi, err := tfTensor(c.arg("clip_value_max"), in)
	if err != nil {
		return nil, err
	}
	t, err := broadcastApply(x, lo, func(a, b float32) float32 { return max(a, b) })
	if err != nil {
		return nil, err
	}
	t, err = broadcastApply(t, hi, func(a, b float32) float32 { return min(a, b) })
	return []*Tensor{t}, err
}

// lastAxis reads the axis argument of softmax and l2_normalize (-1 when
// absent).
func axisArg(c *tfCall, name string, def, rank int) (int, error) {
	v := c.arg(name).value
	a := def
	if v.Exists() && v.Type != gjson.Null {
		l, ok := intList(v)
		if !ok || len(l) != 1 {
			return 0, fmt.Errorf("%s %s: want one integer", name, short(v.Raw))
		}
		a = l[0]
	}
	return normAxis(a, rank)
}

// alongAxis calls f on every 1-D run of x along axis: data[off + i*stride]
// for i < n.
func alongAxis(x *Tensor, axis int, f func(off, stride, n int)) {
	n := x.Shape[axis]
	stride := 1
	for _, d := range x.Shape[axis+1:] {
		stride *= d
	}
	outer := 1
	for _, d := range x.Shape[:axis] {
		outer *= d
	}
	for o := range outer {
		for s := range stride {
			f(o*n*stride+s, stride, n)
		}
	}
}

func evalSoftmax(c *tfCall, in []*Tensor) ([]*Tensor, error) {
	x, err := tfTensor(c.first, in)
	if err != nil {
		return nil, err
	}
	ax, err := axisArg(c, "axis", -1, len(x.Shape))
	if err != nil {
		return nil, err
	}
	out := NewTensor(x.Shape...)
	alongAxis(x, ax, func(off, stride, n int) {
		m := math.Inf(-1)
		for i := range n {
			m = math.Max(m, float64(x.Data[off+i*stride]))
		}
		var sum float64
		for i := range n {
			sum += math.Exp(float64(x.Data[off+i*stride]) - m)
		}
		for i := range n {
			out.Data[off+i*stride] = float32(math.Exp(float64(x.Data[off+i*stride])-m) / sum)
		}
	})
	return []*Tensor{out}, nil
}

func evalL2Normalize(c *tfCall, in []*Tensor) ([]*Tensor, error) {
	x, err := tfTensor(c.first, in)
	if err != nil {
		return nil, err
	}
	eps := 1e-12
	if v := c.arg("epsilon").value; v.Type == gjson.Number {
		eps = v.Float()
	}
	out := NewTensor(x.Shape...)
	axes := c.arg("axis").value
	if !axes.Exists() || axes.Type == gjson.Null {
		var sum float64
		for _, v := range x.Data {
			sum += float64(v) * float64(v)
		}
		inv := 1 / math.Sqrt(math.Max(sum, eps))
		for i, v := range x.Data {
			out.Data[i] = float32(float64(v) * inv)
		}
		return []*Tensor{out}, nil
	}
	ax, err := axisArg(c, "axis", -1, len(x.Shape))
	if err != nil {
		return nil, err
	}
	alongAxis(x, ax, func(off, stride, n int) {
		var sum float64
		for i := range n {
			v := float64(x.Data[off+i*stride])
			sum += v * v
		}
		inv := 1 / math.Sqrt(math.Max(sum, eps))
		for i := range n {
			out.Data[off+i*stride] = float32(float64(x.Data[off+i*stride]) * inv)
		}
	})
	return []*Tensor{out}, nil
}
