package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
)

// actInputs spans the interesting regions of every activation: both
// signs, the kinks at 0, ±0.5, ±1, ±2.5, ±3 and ±6, and values large
// enough to saturate or overflow a naive exp.
var actInputs = []float32{-100, -30, -6.5, -6, -3, -2.5, -1, -0.5, -0.25, 0, 0.25, 0.5, 1, 2.5, 3, 6, 6.5, 30, 100}

func TestElementwiseKernels(t *testing.T) {
	cases := []struct {
		name string
		run  func([]float32)
		ref  func(float64) float64
	}{
		{"Relu", Relu, func(x float64) float64 { return math.Max(x, 0) }},
		{"HardSigmoidLegacy", HardSigmoidLegacy, func(x float64) float64 { return math.Min(1, math.Max(0, 0.2*x+0.5)) }},
		{"HardSigmoid", HardSigmoid, func(x float64) float64 { return math.Min(6, math.Max(0, x+3)) / 6 }},
		{"Map(FnSoftplus)", func(x []float32) { Map(x, FnSoftplus) }, func(x float64) float64 { return math.Log(1 + math.Exp(x)) }},
		{"Map(FnSigmoid)", func(x []float32) { Map(x, FnSigmoid) }, func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }},
		{"Map(FnHardSigmoid)", func(x []float32) { Map(x, FnHardSigmoid) }, func(x float64) float64 { return math.Min(6, math.Max(0, x+3)) / 6 }},
		{"ReluFull(0.1, 6, 0)", func(x []float32) { ReluFull(x, 0.1, 6, 0) }, func(x float64) float64 {
			if x < 0 {
				return 0.1 * x
			}
			return math.Min(x, 6)
		}},
		{"ReluFull(0, -1, 0.5)", func(x []float32) { ReluFull(x, 0, -1, 0.5) }, func(x float64) float64 {
			if x < 0.5 {
				return 0
			}
			return x
		}},
		{"ReluFull(0.2, 2, -1)", func(x []float32) { ReluFull(x, 0.2, 2, -1) }, func(x float64) float64 {
			if x < -1 {
				return 0.2 * (x + 1)
			}
			return math.Min(x, 2)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			x := append([]float32(nil), actInputs...)
			c.run(x)
			for i, v := range actInputs {
				want := c.ref(float64(v))
				if !near(float64(x[i]), want, 1e-6) {
					t.Errorf("f(%g) = %g, want %g", v, x[i], want)
				}
			}
		})
	}
}

// refSoftmax computes softmax along the middle axis of (outer, n, inner)
// the textbook way, with the maximum subtracted for range.
func refSoftmax(x []float32, outer, n, inner int, log bool) []float64 {
	out := make([]float64, len(x))
	for o := 0; o < outer; o++ {
		for in := 0; in < inner; in++ {
			at := func(j int) int { return (o*n+j)*inner + in }
			m := math.Inf(-1)
			for j := 0; j < n; j++ {
				m = math.Max(m, float64(x[at(j)]))
			}
			var s float64
			for j := 0; j < n; j++ {
				s += math.Exp(float64(x[at(j)]) - m)
			}
			for j := 0; j < n; j++ {
				if log {
					out[at(j)] = float64(x[at(j)]) - m - math.Log(s)
				} else {
					out[at(j)] = math.Exp(float64(x[at(j)])-m) / s
				}
			}
		}
	}
	return out
}

// refSparsemax is Keras's sparsemax written as its source reads (see
// Sparsemax): support_j = z_j - (cumsum_j - 1)/j > 0 over the sorted
// values, tau = (sum of cumsum over the support - 1) / |support|.
func refSparsemax(z []float64) []float64 {
	sorted := append([]float64(nil), z...)
	sort.Sort(sort.Reverse(sort.Float64Slice(sorted)))
	var support, cumSupport float64
	for j := range sorted {
		var cum float64
		for _, v := range sorted[:j+1] {
			cum += v
		}
		if sorted[j]-(cum-1)/float64(j+1) > 0 {
			support++
			cumSupport += cum
		}
	}
	tau := (cumSupport - 1) / support
	out := make([]float64, len(z))
	for i, v := range z {
		out[i] = math.Max(v-tau, 0)
	}
	return out
}

func TestAxisKernels(t *testing.T) {
	shapes := [][3]int{{1, 1, 1}, {1, 5, 1}, {3, 4, 1}, {2, 3, 4}, {1, 19, 1}}
	for _, s := range shapes {
		outer, n, inner := s[0], s[1], s[2]
		x := make([]float32, outer*n*inner)
		for i := range x {
			x[i] = actInputs[(i*7)%len(actInputs)] / 10
		}
		name := fmt.Sprint(s)
		t.Run("Softmax"+name, func(t *testing.T) {
			got := append([]float32(nil), x...)
			Softmax(got, outer, n, inner)
			for i, w := range refSoftmax(x, outer, n, inner, false) {
				if !near(float64(got[i]), w, 1e-6) {
					t.Fatalf("element %d: got %g, want %g", i, got[i], w)
				}
			}
		})
		t.Run("LogSoftmax"+name, func(t *testing.T) {
			got := append([]float32(nil), x...)
			LogSoftmax(got, outer, n, inner)
			for i, w := range refSoftmax(x, outer, n, inner, true) {
				if !near(float64(got[i]), w, 1e-6) {
					t.Fatalf("element %d: got %g, want %g", i, got[i], w)
				}
			}
		})
		t.Run("Sparsemax"+name, func(t *testing.T) {
			got := append([]float32(nil), x...)
			Sparsemax(got, outer, n, inner, make([]float64, n))
			for o := 0; o < outer; o++ {
				for in := 0; in < inner; in++ {
					z := make([]float64, n)
					for j := range z {
						z[j] = float64(x[(o*n+j)*inner+in])
					}
					for j, w := range refSparsemax(z) {
						if g := got[(o*n+j)*inner+in]; !near(float64(g), w, 1e-6) {
							t.Fatalf("slice (%d, %d) element %d: got %g, want %g", o, in, j, g, w)
						}
					}
				}
			}
		})
	}
}

// TestBiasRelu checks the one-pass epilogues against AddBias followed by the
// activation, bit for bit, NaN, infinities and signed zeros included.
func TestBiasRelu(t *testing.T) {
	for _, n := range []int{7, 16, 24} { // a scalar tail, whole vectors (of 16 and of 8)
		testBiasRelu(t, n)
	}
}

func testBiasRelu(t *testing.T, n int) {
	specials := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 0, float32(math.Copysign(0, -1)), 5.5, 6, 7, -1e-30}
	r := rand.New(rand.NewPCG(9, 10))
	const rows = 5
	x := make([]float32, rows*n)
	for i := range x {
		if i < len(specials) {
			x[i] = specials[i]
		} else {
			x[i] = float32(r.NormFloat64() * 4)
		}
	}
	bias := make([]float32, n)
	for i := range bias {
		bias[i] = []float32{0, float32(math.Copysign(0, -1)), 1, -1, 2.5, -0.5, 3}[i%7]
	}
	same := func(name string, got, want []float32) {
		for i := range want {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("%s: element %d: got %v, want %v", name, i, got[i], want[i])
			}
		}
	}
	// Relu against its definition, the sign bit cleared, value by value.
	relu := slices.Clone(x)
	Relu(relu)
	for i, v := range x {
		b := math.Float32bits(v)
		if b>>31 == 1 {
			b = 0
		}
		if math.Float32bits(relu[i]) != b {
			t.Fatalf("Relu: element %d (%v): got %v, want %v", i, v, relu[i], math.Float32frombits(b))
		}
	}
	want := slices.Clone(x)
	AddBias(want, bias)
	Relu(want)
	got := slices.Clone(x)
	BiasRelu(got, bias)
	same("BiasRelu", got, want)
	for _, hasMax := range []bool{false, true} {
		want := slices.Clone(x)
		AddBias(want, bias)
		KerasRelu(want, 0, 6, hasMax, 0)
		got := slices.Clone(x)
		BiasReluCap(got, bias, 6, hasMax)
		same(fmt.Sprintf("BiasReluCap hasMax=%v", hasMax), got, want)
	}
}

// TestAddMulInto checks the vector sum and product against the scalar
// ones on lengths with and without a tail; each element is one rounding,
// so the bits must agree.
func TestAddMulInto(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, op := range []struct {
		name string
		f    func(d, s []float32)
		ref  func(a, b float32) float32
	}{
		{"AddInto", AddInto, func(a, b float32) float32 { return a + b }},
		{"MulInto", MulInto, func(a, b float32) float32 { return a * b }},
	} {
		for _, n := range []int{0, 1, 7, 8, 9, 31, 64, 100} {
			d, s := randFloats(r, n), randFloats(r, n)
			want := make([]float32, n)
			for i := range want {
				want[i] = op.ref(d[i], s[i])
			}
			op.f(d, s)
			for i := range want {
				if math.Float32bits(d[i]) != math.Float32bits(want[i]) {
					t.Fatalf("%s n=%d: element %d is %g, want %g", op.name, n, i, d[i], want[i])
				}
			}
		}
	}
}

// TestMulRows checks MulRows against MulInto row by row, bit for bit, on
// rows of whole 16-float vectors (the vector path) and not.
func TestMulRows(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{1, 7, 16, 48} {
		x := make([]float32, 5*n)
		s := make([]float32, n)
		for i := range x {
			x[i] = float32(r.NormFloat64())
		}
		for i := range s {
			s[i] = float32(r.NormFloat64())
		}
		got, want := slices.Clone(x), slices.Clone(x)
		MulRows(got, s)
		for i := 0; i < len(want); i += n {
			MulInto(want[i:i+n], s)
		}
		for i := range want {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("rows of %d: value %d is %v, want %v", n, i, got[i], want[i])
			}
		}
	}
}
