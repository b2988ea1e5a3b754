package keras

import (
	"fmt"
	"sort"
	"strings"

	"github.com/tidwall/gjson"
)

// TFOpLambda and SlicingOpLambda: a TensorFlow function that a Keras 2
// Functional model applied to its tensors (x + y, tf.concat, x[:, 0]),
// recorded by name in config.function ("__operators__.add", "concat",
// "math.reduce_mean", "__operators__.getitem"). They carry no code: the
// name says what they compute, and the node says on what. tf.keras keeps
// the structure of the function's first argument in the node (one entry,
// or a list of them for tf.concat) and passes every other argument by
// name in the entries' kwargs, constants ({"y": 3.0}) and tensors
// (["dense", 0, 0]) alike. Shapes follow TensorFlow's static inference;
// tfop_eval.go runs the ops.

type tfOp struct {
	fn   string // config.function
	spec *tfOpSpec
}

func newTFOp(d *decoder) (layerKind, error) {
	r := d.cfg.Get("function")
	if r.Type != gjson.String || r.Str == "" {
		return nil, formatErrorf("config.function: got %s, want the TensorFlow function's name", short(r.Raw))
	}
	spec := tfOps[r.Str]
	if spec == nil {
		// tf.compat.v1.squeeze and the like are the same functions.
		spec = tfOps[strings.TrimPrefix(r.Str, "compat.v1.")]
	}
	return &tfOp{fn: r.Str, spec: spec}, nil
}

// Function names the TensorFlow function the layer calls, as check shows it.
func (k *tfOp) Function() string { return k.fn }

func (*tfOp) build([]Shape) ([]WeightSpec, error) { return nil, nil }

// outputShapes without the node: unknown (nodeOutputShapes knows them).
func (*tfOp) outputShapes([]Shape) ([]Shape, error) { return nil, nil }

func (k *tfOp) cannotRun() string {
	if k.spec == nil {
		return fmt.Sprintf("the TensorFlow function %s has no native implementation", k.fn)
	}
	return ""
}

// A tfArg is one argument of the call: a tensor (an index into the
// node's inputs, in the order the node lists them), a constant, or a list
// of arguments.
type tfArg struct {
	input  int // -1 for none
	value  gjson.Result
	list   []tfArg
	isList bool
}

func (a tfArg) exists() bool {
	return a.input >= 0 || a.isList || (a.value.Exists() && a.value.Type != gjson.Null)
}

// A tfCall is a node's call: the first argument and the others by name.
type tfCall struct {
	first  tfArg
	kwargs map[string]tfArg
}

func (c *tfCall) arg(name string) tfArg {
	if a, ok := c.kwargs[name]; ok {
		return a
	}
	return tfArg{input: -1}
}

// parseTFCall reads a node's recorded call. Tensors are numbered as the
// node lists its inputs: the first argument's, then the keyword
// arguments' in sorted key order (readInboundNodes).
func parseTFCall(node gjson.Result) (*tfCall, error) {
	c := &tfCall{kwargs: map[string]tfArg{}}
	next := 0
	var kwargs gjson.Result
	var walk func(r gjson.Result, depth int) (tfArg, error)
	walk = func(r gjson.Result, depth int) (tfArg, error) {
		if depth > maxNesting {
			return tfArg{}, formatErrorf("node arguments nested more than %d deep", maxNesting)
		}
		switch {
		case nodeEntry(r):
			if !kwargs.Exists() {
				kwargs = r.Get("3")
			}
			if isConstantEntry(r) {
				return tfArg{input: -1, value: r.Get("2")}, nil
			}
			next++
			return tfArg{input: next - 1}, nil
		case r.IsArray():
			a := tfArg{input: -1, isList: true}
			for _, e := range r.Array() {
				v, err := walk(e, depth+1)
				if err != nil {
					return tfArg{}, err
				}
				a.list = append(a.list, v)
			}
			return a, nil
		}
		return tfArg{}, formatErrorf("node %s: want [layer, node, tensor, kwargs] entries", short(r.Raw))
	}
	first, err := walk(node, 0)
	if err != nil {
		return nil, err
	}
	c.first = first
	// A node that lists its one entry in a list: tf.keras's usual form
	// for layers, which TFOpLambda writes for ops on a list of one.
	for _, kv := range sortedPairs(kwargs) {
		v, err := kwargArg(kv.v, &next, 0)
		if err != nil {
			return nil, fmt.Errorf("kwargs.%s: %w", kv.k, err)
		}
		c.kwargs[kv.k] = v
	}
	return c, nil
}

// kwargArg reads a keyword argument: [layer, node, tensor] is a tensor,
// lists hold arguments, anything else is a constant.
func kwargArg(r gjson.Result, next *int, depth int) (tfArg, error) {
	if depth > maxNesting {
		return tfArg{}, formatErrorf("arguments nested more than %d deep", maxNesting)
	}
	if _, ok := legacyRef(r); ok && len(r.Array()) == 3 {
		*next++
		return tfArg{input: *next - 1}, nil
	}
	if r.IsArray() && containsRef(r, depth) {
		a := tfArg{input: -1, isList: true}
		for _, e := range r.Array() {
			v, err := kwargArg(e, next, depth+1)
			if err != nil {
				return tfArg{}, err
			}
			a.list = append(a.list, v)
		}
		return a, nil
	}
	return tfArg{input: -1, value: r}, nil
}

func containsRef(r gjson.Result, depth int) bool {
	if depth > maxNesting {
		return false
	}
	if _, ok := legacyRef(r); ok && len(r.Array()) == 3 {
		return true
	}
	for _, e := range r.Array() {
		if e.IsArray() && containsRef(e, depth+1) {
			return true
		}
	}
	return false
}

// nodeOutputShapes infers a node's output shapes from its call, as
// TensorFlow's static shape inference does; nil for an op kerascope does
// not know.
func (k *tfOp) nodeOutputShapes(n *Node, in []Shape) ([]Shape, error) {
	if k.spec == nil || k.spec.shape == nil {
		return nil, nil
	}
	c, err := parseTFCall(n.call)
	if err != nil {
		return nil, err
	}
	if c.maxInput() >= len(in) {
		return nil, nil // an input of unknown shape
	}
	return k.spec.shape(c, in)
}

func (c *tfCall) maxInput() int {
	m := -1
	var walk func(a tfArg)
	walk = func(a tfArg) {
		m = max(m, a.input)
		for _, e := range a.list {
			walk(e)
		}
	}
	walk(c.first)
	for _, a := range c.kwargs {
		walk(a)
	}
	return m
}

// tfOpSpec is one TensorFlow function kerascope knows: its output shapes
// and its evaluation.
type tfOpSpec struct {
	shape func(c *tfCall, in []Shape) ([]Shape, error)
	eval  func(c *tfCall, in []*Tensor) ([]*Tensor, error)
}

// tfOps lists the TensorFlow functions kerascope runs, by the name
// tf.keras records (tf.math.add is "math.add"; x + y is
// "__operators__.add"). tfop_eval.go fills it.
var tfOps = map[string]*tfOpSpec{}

// argShape returns the shape of an argument: a tensor's, a constant's (a
// number is a scalar, nested lists give their dimensions).
func argShape(a tfArg, in []Shape) (Shape, error) {
	switch {
	case a.input >= 0:
		return in[a.input], nil
	case a.isList:
		// TensorFlow packs a list where it wants a tensor
		// (tf.convert_to_tensor): the elements stacked on a new axis 0.
		if len(a.list) == 0 {
			return nil, formatErrorf("an empty list where a tensor is expected")
		}
		var inner Shape
		for i, e := range a.list {
			s, err := argShape(e, in)
			if err != nil {
				return nil, err
			}
			if i > 0 && !s.Equal(inner) {
				return nil, formatErrorf("a list of shapes %s and %s where a tensor is expected", inner, s)
			}
			inner = s
		}
		return append(Shape{len(a.list)}, inner...), nil
	}
	return constShape(a.value)
}

func constShape(v gjson.Result) (Shape, error) { return constShapeAt(v, 0) }

func constShapeAt(v gjson.Result, depth int) (Shape, error) {
	switch {
	case v.Type == gjson.Number, v.Type == gjson.True, v.Type == gjson.False:
		return Shape{}, nil
	case v.IsArray():
		a := v.Array()
		if len(a) == 0 {
			return Shape{0}, nil
		}
		if depth > maxNesting {
			return nil, formatErrorf("constant nested more than %d deep", maxNesting)
		}
		inner, err := constShapeAt(a[0], depth+1)
		if err != nil {
			return nil, err
		}
		return append(Shape{len(a)}, inner...), nil
	}
	return nil, formatErrorf("constant %s is not a number or a list of numbers", short(v.Raw))
}

// intList reads an integer or a list of integers (axis, perm, shape).
func intList(v gjson.Result) ([]int, bool) {
	if v.Type == gjson.Number {
		n, ok := intValue(v)
		return []int{n}, ok
	}
	if !v.IsArray() {
		return nil, false
	}
	var out []int
	for _, e := range v.Array() {
		n, ok := intValue(e)
		if !ok {
			return nil, false
		}
		out = append(out, n)
	}
	return out, true
}

func normAxis(axis, rank int) (int, error) {
	if axis < -rank || axis >= rank {
		return 0, formatErrorf("axis %d out of range for rank %d", axis, rank)
	}
	if axis < 0 {
		axis += rank
	}
	return axis, nil
}

// TFOpRuns reports whether kerascope runs a TensorFlow function that a
// TFOpLambda or SlicingOpLambda layer names (config.function).
func TFOpRuns(fn string) bool {
	return tfOps[fn] != nil || tfOps[strings.TrimPrefix(fn, "compat.v1.")] != nil
}

// TFOpFunctions lists the TensorFlow functions kerascope runs.
func TFOpFunctions() []string {
	out := make([]string, 0, len(tfOps))
	for f := range tfOps {
		out = append(out, f)
	}
	sort.Strings(out)
	return out
}

// explain: a TensorFlow op creates no weights.
func (k *tfOp) explain(string, []Shape) (*formula, error) {
	return noWeights("the TensorFlow function " + k.fn), nil
}
