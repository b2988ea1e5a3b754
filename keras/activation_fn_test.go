package keras

import (
	"math"
	"sort"
	"testing"
)

// activationRefs are float64 definitions of every activation function
// name, written from Keras's documentation (keras.activations in Keras 3,
// tf_keras.activations for legacy files) independently of activationFn.
// Softmax-like functions are checked separately.
func activationRefs(legacy bool) map[string]func(float64) float64 {
	sigmoid := func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
	softplus := func(x float64) float64 { return math.Log(1 + math.Exp(x)) }
	hardSigmoid := func(x float64) float64 { return math.Min(6, math.Max(0, x+3)) / 6 }
	if legacy {
		hardSigmoid = func(x float64) float64 { return math.Min(1, math.Max(0, 0.2*x+0.5)) }
	}
	elu := func(x, a float64) float64 {
		if x > 0 {
			return x
		}
		return a * (math.Exp(x) - 1)
	}
	clip := func(x, lo, hi float64) float64 { return math.Min(hi, math.Max(lo, x)) }
	return map[string]func(float64) float64{
		"linear":       func(x float64) float64 { return x },
		"relu":         func(x float64) float64 { return math.Max(0, x) },
		"relu6":        func(x float64) float64 { return clip(x, 0, 6) },
		"sigmoid":      sigmoid,
		"tanh":         math.Tanh,
		"hard_sigmoid": hardSigmoid,
		"hard_silu":    func(x float64) float64 { return x * hardSigmoid(x) },
		"hard_swish":   func(x float64) float64 { return x * hardSigmoid(x) },
		// keras.activations.leaky_relu (Keras 3) and tf.nn.leaky_relu,
		// which tf_keras.activations.leaky_relu is, both default to 0.2.
		"leaky_relu":     func(x float64) float64 { return math.Max(x, 0.2*x) },
		"elu":            func(x float64) float64 { return elu(x, 1) },
		"selu":           func(x float64) float64 { return 1.0507009873554805 * elu(x, 1.6732632423543772) },
		"celu":           func(x float64) float64 { return math.Max(0, x) + math.Min(0, math.Exp(x)-1) },
		"softplus":       softplus,
		"softsign":       func(x float64) float64 { return x / (1 + math.Abs(x)) },
		"silu":           func(x float64) float64 { return x * sigmoid(x) },
		"swish":          func(x float64) float64 { return x * sigmoid(x) },
		"gelu":           func(x float64) float64 { return x / 2 * (1 + math.Erf(x/math.Sqrt2)) },
		"mish":           func(x float64) float64 { return x * math.Tanh(softplus(x)) },
		"exponential":    math.Exp,
		"log_sigmoid":    func(x float64) float64 { return math.Log(sigmoid(x)) },
		"hard_tanh":      func(x float64) float64 { return clip(x, -1, 1) },
		"tanh_shrink":    func(x float64) float64 { return x - math.Tanh(x) },
		"soft_shrink":    func(x float64) float64 { return math.Copysign(math.Max(math.Abs(x)-0.5, 0), x) },
		"hard_shrink":    func(x float64) float64 { return map[bool]float64{true: x, false: 0}[math.Abs(x) > 0.5] },
		"sparse_sigmoid": func(x float64) float64 { return clip((x+1)/2, 0, 1) },
		"squareplus":     func(x float64) float64 { return (x + math.Sqrt(x*x+4)) / 2 },
		"sparse_plus": func(x float64) float64 {
			switch {
			case x <= -1:
				return 0
			case x >= 1:
				return x
			}
			return (x + 1) * (x + 1) / 4
		},
	}
}

// axisActivations act along the last axis; refAxis computes them.
var axisActivations = []string{"softmax", "softmax_v2", "log_softmax", "sparsemax"}

// notRunnableActivations are names Keras knows that activationFn does not
// run: glu halves the last axis, and threshold needs arguments a name
// cannot carry.
var notRunnableActivations = map[string]bool{"glu": true, "threshold": true}

var activationInputs = []float32{-40, -6.5, -6, -3.5, -3, -2.5, -1, -0.75, -0.5, -0.25, 0, 0.25, 0.5, 0.75, 1, 2.5, 3, 3.5, 6, 6.5, 40}

func TestActivationFnElementwise(t *testing.T) {
	for _, legacy := range []bool{false, true} {
		for name, ref := range activationRefs(legacy) {
			f := activationFn(name, legacy)
			if f == nil {
				t.Errorf("%s (legacy %v): no function", name, legacy)
				continue
			}
			x := append([]float32(nil), activationInputs...)
			f(x, len(x))
			for i, v := range activationInputs {
				want := float64(float32(ref(float64(v))))
				got := float64(x[i])
				if math.Abs(got-want) > 1e-6*(1+math.Abs(want)) {
					t.Errorf("%s (legacy %v)(%g) = %g, want %g", name, legacy, v, got, want)
				}
			}
		}
	}
}

// refAxis applies an axis activation to one row in float64.
func refAxis(name string, row []float64) []float64 {
	out := make([]float64, len(row))
	switch name {
	case "softmax", "softmax_v2", "log_softmax":
		var s float64
		for _, v := range row {
			s += math.Exp(v)
		}
		for i, v := range row {
			out[i] = math.Exp(v) / s
			if name == "log_softmax" {
				out[i] = v - math.Log(s)
			}
		}
	case "sparsemax":
		// The Euclidean projection onto the simplex: the k largest
		// entries stay, shifted by a common tau (Martins & Astudillo,
		// algorithm 1).
		z := append([]float64(nil), row...)
		sort.Sort(sort.Reverse(sort.Float64Slice(z)))
		var cum, tau float64
		for k := range z {
			cum += z[k]
			if 1+float64(k+1)*z[k] > cum {
				tau = (cum - 1) / float64(k+1)
			}
		}
		for i, v := range row {
			out[i] = math.Max(v-tau, 0)
		}
	}
	return out
}

func TestActivationFnAxis(t *testing.T) {
	rows := [][]float32{{0}, {1, 2, 3}, {-1, 0.5, 0.25, 2, -3}, {10, 10.5, 9}, {0.1, 0.1, 0.1, 0.1}}
	for _, legacy := range []bool{false, true} {
		for _, name := range axisActivations {
			f := activationFn(name, legacy)
			if f == nil {
				t.Errorf("%s: no function", name)
				continue
			}
			for _, row := range rows {
				// Two copies of the row make a batch of two: each row is
				// normalized on its own.
				x := append(append([]float32(nil), row...), row...)
				f(x, len(row))
				in := make([]float64, len(row))
				for i, v := range row {
					in[i] = float64(v)
				}
				want := refAxis(name, in)
				for i := range x {
					w := want[i%len(row)]
					if math.Abs(float64(x[i])-w) > 1e-6*(1+math.Abs(w)) {
						t.Errorf("%s(%v)[%d] = %g, want %g", name, row, i, x[i], w)
					}
				}
			}
		}
	}
}

// TestActivationFnCoversKnown checks every name Keras knows either runs
// (and is tested above) or is deliberately not runnable.
func TestActivationFnCoversKnown(t *testing.T) {
	tested := activationRefs(false)
	for _, n := range axisActivations {
		tested[n] = nil
	}
	for name := range activations {
		runs := activationFn(name, false) != nil
		if _, ok := tested[name]; runs != ok {
			t.Errorf("%s: runs %v, but tested %v", name, runs, ok)
		}
		if !runs && !notRunnableActivations[name] {
			t.Errorf("%s: Keras knows it, activationFn does not run it", name)
		}
		if runs && activationReason(name) != "" {
			t.Errorf("%s runs, but activationReason says %q", name, activationReason(name))
		}
	}
	if activationFn("no_such_fn", false) != nil || activationReason("no_such_fn") == "" {
		t.Error("an unknown name runs")
	}
}
