package keras

import (
	"math"
	"strconv"

	"github.com/kerascope/kerascope/keras/internal/kernel"
)

// Activation functions by name, as config arguments give them
// (activation="relu"): the names every Keras version knows, and their
// forward passes in each version's definition. The activation layers
// (ReLU, Softmax, ...) are in activation.go.

// activations lists the activation function names Keras 1, 2 and 3 accept
// in an activation argument (keras/src/activations/__init__.py
// ALL_OBJECTS_DICT, tf_keras activations.py, Keras 1 activations.py).
var activations = map[string]bool{
	"celu": true, "elu": true, "exponential": true, "gelu": true, "glu": true,
	"hard_shrink": true, "hard_sigmoid": true, "hard_silu": true,
	"hard_swish": true, "hard_tanh": true, "leaky_relu": true, "linear": true,
	"log_sigmoid": true, "log_softmax": true, "mish": true, "relu": true,
	"relu6": true, "selu": true, "sigmoid": true, "silu": true,
	"soft_shrink": true, "softmax": true, "softplus": true, "softsign": true,
	"sparse_plus": true, "sparse_sigmoid": true, "sparsemax": true,
	"squareplus": true, "swish": true, "tanh": true, "tanh_shrink": true,
	"threshold": true,
	// tf.keras serialized tf.nn.softmax under its op name in some versions.
	"softmax_v2": true,
}

// knownActivation reports whether name is an activation function Keras
// itself defines, as opposed to a custom one.
func knownActivation(name string) bool { return activations[name] }

// An actFn applies an activation function in place to a tensor's data
// whose last axis has length n.
type actFn func(x []float32, n int)

// activationFn returns the forward pass of an activation function named in
// a config. legacy selects Keras 1 and 2's definitions where they differ
// from Keras 3's: hard_sigmoid is clip(0.2x + 0.5, 0, 1) there and
// relu6(x + 3) / 6 in Keras 3 (keras/src/activations/activations.py;
// tf_keras/src/backend.py hard_sigmoid), and hard_silu/hard_swish follow
// it. It returns nil for names it cannot run.
func activationFn(name string, legacy bool) actFn {
	elem := func(f func(float64) float64) actFn {
		return func(x []float32, _ int) { kernel.Map(x, f) }
	}
	switch name {
	case "linear", "":
		return func([]float32, int) {}
	case "relu":
		return func(x []float32, _ int) { kernel.Relu(x) }
	case "sigmoid":
		// In float32 as TensorFlow's kernels compute it (Eigen's
		// approximations), a few ulps from the exact value: the recurrent
		// gates' and a squeeze-and-excite block's sigmoid (EfficientNet's
		// 16 of them took 0.2 ms of a sample's 6.5 in float64 exp).
		return func(x []float32, _ int) { kernel.FastSigmoid(x) }
	case "tanh":
		return func(x []float32, _ int) { kernel.FastTanh(x) }
	case "hard_sigmoid":
		if legacy {
			return func(x []float32, _ int) { kernel.HardSigmoidLegacy(x) }
		}
		return func(x []float32, _ int) { kernel.HardSigmoid(x) }
	case "hard_silu", "hard_swish":
		if legacy {
			return elem(func(v float64) float64 { return v * math.Min(1, math.Max(0, 0.2*v+0.5)) })
		}
		return elem(func(v float64) float64 { return v * kernel.FnHardSigmoid(v) })
	case "softmax", "softmax_v2":
		return func(x []float32, n int) { kernel.Softmax(x, len(x)/n, n, 1) }
	case "log_softmax":
		return func(x []float32, n int) { kernel.LogSoftmax(x, len(x)/n, n, 1) }
	case "sparsemax":
		return func(x []float32, n int) { kernel.Sparsemax(x, len(x)/n, n, 1, make([]float64, n)) }
	case "relu6":
		return elem(func(v float64) float64 { return math.Min(6, math.Max(0, v)) })
	case "leaky_relu":
		// keras.activations.leaky_relu's default negative_slope, and
		// tf.nn.leaky_relu's alpha, which tf_keras's leaky_relu is (0.3
		// is only the LeakyReLU layer's default).
		return elem(func(v float64) float64 { return math.Max(v, 0.2*v) })
	case "elu":
		return elem(func(v float64) float64 { return eluF(v, 1) })
	case "selu":
		return elem(func(v float64) float64 { return seluScale * eluF(v, seluAlpha) })
	case "celu":
		return elem(func(v float64) float64 { return math.Max(0, v) + math.Min(0, math.Expm1(v)) })
	case "softplus":
		return elem(kernel.FnSoftplus)
	case "softsign":
		return elem(func(v float64) float64 { return v / (1 + math.Abs(v)) })
	case "silu", "swish":
		// TensorFlow computes x·sigmoid(x) in float32 (EfficientNet runs it
		// after every convolution); float32 exp and sigmoid, as the gates.
		return func(x []float32, _ int) { kernel.FastSwish(x) }
	case "gelu":
		return elem(func(v float64) float64 { return 0.5 * v * (1 + math.Erf(v/math.Sqrt2)) })
	case "mish":
		return elem(func(v float64) float64 { return v * math.Tanh(kernel.FnSoftplus(v)) })
	case "exponential":
		return elem(math.Exp)
	case "log_sigmoid":
		return elem(func(v float64) float64 { return -kernel.FnSoftplus(-v) })
	case "hard_tanh":
		return elem(func(v float64) float64 { return math.Min(1, math.Max(-1, v)) })
	case "tanh_shrink":
		return elem(func(v float64) float64 { return v - math.Tanh(v) })
	case "soft_shrink":
		return elem(func(v float64) float64 {
			switch {
			case v > 0.5:
				return v - 0.5
			case v < -0.5:
				return v + 0.5
			}
			return 0
		})
	case "hard_shrink":
		return elem(func(v float64) float64 {
			if math.Abs(v) > 0.5 {
				return v
			}
			return 0
		})
	case "sparse_plus":
		return elem(func(v float64) float64 {
			switch {
			case v <= -1:
				return 0
			case v >= 1:
				return v
			}
			return (v + 1) * (v + 1) / 4
		})
	case "sparse_sigmoid":
		return elem(func(v float64) float64 { return math.Min(1, math.Max(0, (v+1)/2)) })
	case "squareplus":
		return elem(func(v float64) float64 { return (v + math.Sqrt(v*v+4)) / 2 })
	}
	return nil
}

// SELU's constants (Klambauer et al. 2017), as Keras writes them.
const (
	seluAlpha = 1.6732632423543772848170429916717
	seluScale = 1.0507009873554804934193349852946
)

func eluF(v, alpha float64) float64 {
	if v > 0 {
		return v
	}
	return alpha * math.Expm1(v)
}

// activationReason says why a named activation cannot run, or "".
func activationReason(name string) string {
	if activationFn(name, false) != nil {
		return ""
	}
	if !knownActivation(name) {
		return "its activation " + strconv.Quote(name) + " is a custom function, which only its Python code defines"
	}
	return "its activation " + strconv.Quote(name) + " has no native implementation"
}
