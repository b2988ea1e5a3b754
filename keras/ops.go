package keras

import (
	"fmt"
	"math"
	"strings"

	"github.com/tidwall/gjson"
)

// Bare Keras 3 operations (keras.src.ops) that a functional config records
// as graph nodes: mostly the mask computations Keras inserts, NotEqual(x, 0)
// for an Embedding's mask_zero and Any(NotEqual(x, v), axis=-1) for
// Masking. config.go decodes every operation as unknownLayer; newOp gives
// the ones listed here a forward pass. Booleans are 0 and 1.
//
// An operation's constant arguments are not inputs of the node: they stay
// in the node's recorded call ({"args": [tensor, 0], "kwargs": {}}), read
// at forward time.

// opRegistry lists the operations kerascope runs, by class name.
var opRegistry = map[string]func(cfg gjson.Result) *opKind{
	"NotEqual":     binaryOp(func(a, b float32) bool { return a != b }),
	"Equal":        binaryOp(func(a, b float32) bool { return a == b }),
	"Greater":      binaryOp(func(a, b float32) bool { return a > b }),
	"GreaterEqual": binaryOp(func(a, b float32) bool { return a >= b }),
	"Less":         binaryOp(func(a, b float32) bool { return a < b }),
	"LessEqual":    binaryOp(func(a, b float32) bool { return a <= b }),
	"LogicalAnd":   binaryOp(func(a, b float32) bool { return a != 0 && b != 0 }),
	"LogicalOr":    binaryOp(func(a, b float32) bool { return a != 0 || b != 0 }),
	"LogicalNot":   func(gjson.Result) *opKind { return &opKind{unary: func(a float32) float32 { return bool01(a == 0) }} },
	"Any":          reduceOp(false),
	"All":          reduceOp(true),
	"Cast":         newCastOp,
	// keras.src.ops.numpy arithmetic, as MobileNetV3's hard_sigmoid writes
	// it (relu6(x + 3.0) * (1.0 / 6.0)): float32 operations, as
	// TensorFlow computes them.
	"Add":        arithOp(func(a, b float32) float32 { return a + b }),
	"Subtract":   arithOp(func(a, b float32) float32 { return a - b }),
	"Multiply":   arithOp(func(a, b float32) float32 { return a * b }),
	"Divide":     arithOp(func(a, b float32) float32 { return a / b }),
	"TrueDivide": arithOp(func(a, b float32) float32 { return a / b }),
	"Maximum":    arithOp(func(a, b float32) float32 { return max32(a, b) }),
	"Minimum":    arithOp(func(a, b float32) float32 { return min32(a, b) }),
}

// opKind is one runnable operation: an elementwise comparison of two
// operands (tensors or constants, broadcast as NumPy does), an
// elementwise function of one tensor, or a boolean reduction.
type opKind struct {
	compare func(a, b float32) bool
	arith   func(a, b float32) float32
	unary   func(a float32) float32
	// Any and All: over axes (nil: all of them), keeping them as 1 with
	// keepdims.
	reduce   bool
	all      bool
	axes     []int
	keepdims bool
	reason   string // why this configuration cannot run
}

// newOp returns the kind of a bare operation: a runnable one from
// opRegistry, else the unknownLayer every unknown class gets.
func newOp(e layerEntry) layerKind {
	if mk, ok := opRegistry[e.class]; ok {
		return mk(e.cfg)
	}
	return unknownLayer{}
}

func bool01(b bool) float32 {
	if b {
		return 1
	}
	return 0
}

func binaryOp(f func(a, b float32) bool) func(gjson.Result) *opKind {
	return func(gjson.Result) *opKind { return &opKind{compare: f} }
}

func arithOp(f func(a, b float32) float32) func(gjson.Result) *opKind {
	return func(gjson.Result) *opKind { return &opKind{arith: f} }
}

// max32 and min32 propagate NaN, as TensorFlow's Maximum and Minimum do.
func max32(a, b float32) float32 {
	if a != a || a > b {
		return a
	}
	return b
}

func min32(a, b float32) float32 {
	if a != a || a < b {
		return a
	}
	return b
}

func reduceOp(all bool) func(gjson.Result) *opKind {
	return func(cfg gjson.Result) *opKind {
		k := &opKind{reduce: true, all: all, keepdims: cfg.Get("keepdims").Bool()}
		switch r := cfg.Get("axis"); {
		case !r.Exists() || r.Type == gjson.Null:
		case r.Type == gjson.Number:
			k.axes = []int{int(r.Int())}
		case r.IsArray():
			for _, a := range r.Array() {
				if a.Type != gjson.Number {
					k.reason = "axis " + short(r.Raw) + " is not a list of integers"
				}
				k.axes = append(k.axes, int(a.Int()))
			}
			if len(k.axes) == 0 {
				k.axes = []int{} // an empty list reduces nothing
			}
		default:
			k.reason = "axis " + short(r.Raw) + " is not an integer"
		}
		return k
	}
}

// newCastOp: a cast to bool is x != 0, to an integer type truncation
// toward zero; float32 and float64 keep the value.
func newCastOp(cfg gjson.Result) *opKind {
	dt := cfg.Get("dtype").String()
	switch {
	case dt == "bool":
		return &opKind{unary: func(a float32) float32 { return bool01(a != 0) }}
	case strings.HasPrefix(dt, "int") || strings.HasPrefix(dt, "uint"):
		return &opKind{unary: func(a float32) float32 { return float32(math.Trunc(float64(a))) }}
	case dt == "float32" || dt == "float64":
		return &opKind{unary: func(a float32) float32 { return a }}
	}
	return &opKind{reason: "a cast to " + fmt.Sprintf("%q", dt) + " has no native implementation"}
}

// Shapes stay unknown, as for every operation: Keras 3 records the shape
// of each tensor its consumers receive.
func (*opKind) build([]Shape) ([]WeightSpec, error)   { return nil, nil }
func (*opKind) outputShapes([]Shape) ([]Shape, error) { return nil, nil }

func (k *opKind) cannotRun() string { return k.reason }

func (k *opKind) forward(c *call) error {
	switch {
	case k.compare != nil || k.arith != nil:
		a, b, err := binaryOperands(c)
		if err != nil {
			return err
		}
		f := k.arith
		if f == nil {
			f = func(x, y float32) float32 { return bool01(k.compare(x, y)) }
		}
		out, err := broadcastApply(a, b, f)
		if err != nil {
			return err
		}
		c.out = []*Tensor{out}
	case k.unary != nil:
		if len(c.in) != 1 {
			return fmt.Errorf("called on %d tensors, want 1", len(c.in))
		}
		out := c.in[0].Clone()
		for i, v := range out.Data {
			out.Data[i] = k.unary(v)
		}
		c.out = []*Tensor{out}
	case k.reduce:
		if len(c.in) != 1 {
			return fmt.Errorf("called on %d tensors, want 1", len(c.in))
		}
		out, err := reduceBool(c.in[0], k.axes, k.keepdims, k.all)
		if err != nil {
			return err
		}
		c.out = []*Tensor{out}
	default:
		return errNotRunnable
	}
	c.outMasks = []mask{nil}
	return nil
}

// binaryOperands reads the two operands of a binary operation from the
// node's recorded call: tensors in the order the node lists its inputs,
// numbers and booleans as constants.
func binaryOperands(c *call) (*Tensor, *Tensor, error) {
	if c.node == nil {
		return nil, nil, fmt.Errorf("an operation inside a wrapper cannot run")
	}
	args := c.node.call.Get("args")
	if !args.IsArray() || len(args.Array()) != 2 {
		return nil, nil, fmt.Errorf("call %s: want two positional operands", short(c.node.call.Raw))
	}
	var ops [2]*Tensor
	next := 0
	for i, a := range args.Array() {
		switch {
		case a.IsObject() && a.Get("class_name").String() == "__keras_tensor__":
			if next >= len(c.in) {
				return nil, nil, fmt.Errorf("call %s: more tensor operands than inputs", short(c.node.call.Raw))
			}
			ops[i] = c.in[next]
			next++
		case a.Type == gjson.Number:
			ops[i] = &Tensor{Data: []float32{float32(a.Float())}}
		case a.Type == gjson.True || a.Type == gjson.False:
			ops[i] = &Tensor{Data: []float32{bool01(a.Bool())}}
		default:
			return nil, nil, fmt.Errorf("operand %s: want a tensor or a number", short(a.Raw))
		}
	}
	return ops[0], ops[1], nil
}

// broadcastApply applies f elementwise over two tensors broadcast against each
// other as NumPy does.
func broadcastApply(a, b *Tensor, f func(x, y float32) float32) (*Tensor, error) {
	rank := max(len(a.Shape), len(b.Shape))
	shape := make([]int, rank)
	// Strides of a and b over the output's axes, 0 along broadcast axes.
	sa, sb := make([]int, rank), make([]int, rank)
	for i := rank - 1; i >= 0; i-- {
		da, db := dimFromEnd(a.Shape, rank-1-i), dimFromEnd(b.Shape, rank-1-i)
		switch {
		case da == db || db == 1:
			shape[i] = da
		case da == 1:
			shape[i] = db
		default:
			return nil, fmt.Errorf("shapes %s and %s do not broadcast", shapeString(a.Shape), shapeString(b.Shape))
		}
	}
	strideA, strideB := 1, 1
	for i := rank - 1; i >= 0; i-- {
		da, db := dimFromEnd(a.Shape, rank-1-i), dimFromEnd(b.Shape, rank-1-i)
		if da != 1 {
			sa[i] = strideA
		}
		if db != 1 {
			sb[i] = strideB
		}
		strideA *= da
		strideB *= db
	}
	out := NewTensor(shape...)
	idx := make([]int, rank)
	ia, ib := 0, 0
	for o := range out.Data {
		out.Data[o] = f(a.Data[ia], b.Data[ib])
		// Advance the multi-index like an odometer.
		for ax := rank - 1; ax >= 0; ax-- {
			idx[ax]++
			ia += sa[ax]
			ib += sb[ax]
			if idx[ax] < shape[ax] {
				break
			}
			ia -= sa[ax] * shape[ax]
			ib -= sb[ax] * shape[ax]
			idx[ax] = 0
		}
	}
	return out, nil
}

// dimFromEnd returns dimension k counted from the last axis, 1 past the
// first.
func dimFromEnd(shape []int, k int) int {
	if k >= len(shape) {
		return 1
	}
	return shape[len(shape)-1-k]
}

// reduceBool computes Any (all=false) or All over axes (nil: every axis).
func reduceBool(x *Tensor, axes []int, keepdims, all bool) (*Tensor, error) {
	rank := len(x.Shape)
	reduced := make([]bool, rank)
	if axes == nil {
		for i := range reduced {
			reduced[i] = true
		}
	}
	for _, a := range axes {
		if a < 0 {
			a += rank
		}
		if a < 0 || a >= rank {
			return nil, fmt.Errorf("axis out of range for shape %s", shapeString(x.Shape))
		}
		reduced[a] = true
	}
	var shape []int
	for i, d := range x.Shape {
		switch {
		case !reduced[i]:
			shape = append(shape, d)
		case keepdims:
			shape = append(shape, 1)
		}
	}
	out := NewTensor(shape...)
	init := bool01(all)
	for i := range out.Data {
		out.Data[i] = init
	}
	// Output stride of each input axis, 0 along reduced ones.
	so := make([]int, rank)
	stride := 1
	for i := rank - 1; i >= 0; i-- {
		if !reduced[i] {
			so[i] = stride
			stride *= x.Shape[i]
		}
	}
	idx := make([]int, rank)
	o := 0
	for _, v := range x.Data {
		if all && v == 0 {
			out.Data[o] = 0
		} else if !all && v != 0 {
			out.Data[o] = 1
		}
		for ax := rank - 1; ax >= 0; ax-- {
			idx[ax]++
			o += so[ax]
			if idx[ax] < x.Shape[ax] {
				break
			}
			o -= so[ax] * x.Shape[ax]
			idx[ax] = 0
		}
	}
	return out, nil
}
