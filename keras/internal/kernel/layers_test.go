package kernel

import (
	"math"
	"math/rand"
	"testing"
)

// Slow, obviously correct references for the layer kernels.

func randData(r *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64() * 2)
	}
	return x
}

func closeTo(a, b float32) bool {
	return math.Abs(float64(a)-float64(b)) <= 1e-6+1e-5*math.Abs(float64(b))
}

func checkClose(t *testing.T, name string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", name, len(got), len(want))
	}
	for i := range want {
		if !closeTo(got[i], want[i]) {
			t.Fatalf("%s: [%d] = %g, want %g", name, i, got[i], want[i])
		}
	}
}

func TestKerasRelu(t *testing.T) {
	x := []float32{-3, -1, -0.5, 0, 0.25, 0.5, 1, 2, 7}
	tests := []struct {
		name            string
		slope, max, thr float32
		hasMax          bool
		want            func(v float32) float32
	}{
		{"plain", 0, 0, 0, false, func(v float32) float32 { return max(v, 0) }},
		{"leaky", 0.1, 0, 0, false, func(v float32) float32 {
			if v > 0 {
				return v
			}
			return 0.1 * v
		}},
		{"capped", 0, 6, 0, true, func(v float32) float32 { return min(max(v, 0), 6) }},
		{"all", 0.2, 1.5, 0.5, true, func(v float32) float32 {
			switch {
			case v > 0.5:
				return min(v, 1.5)
			default:
				return -0.2 * (0.5 - v)
			}
		}},
		{"threshold", 0, 0, 0.5, false, func(v float32) float32 {
			if v > 0.5 {
				return v
			}
			return 0
		}},
	}
	for _, tc := range tests {
		got := append([]float32(nil), x...)
		KerasRelu(got, tc.slope, tc.max, tc.hasMax, tc.thr)
		want := make([]float32, len(x))
		for i, v := range x {
			want[i] = tc.want(v)
		}
		checkClose(t, tc.name, got, want)
	}
}

func TestElementwiseActivations(t *testing.T) {
	x := []float32{-2, -0.5, 0, 0.3, 1.5}
	tests := []struct {
		name string
		f    func([]float32)
		want func(float64) float64
	}{
		{"leaky", func(x []float32) { LeakyRelu(x, 0.3) }, func(v float64) float64 { return math.Max(v, 0.3*v) }},
		{"elu", func(x []float32) { Elu(x, 0.5) }, func(v float64) float64 {
			if v > 0 {
				return v
			}
			return 0.5 * (math.Exp(v) - 1)
		}},
		{"thresholded", func(x []float32) { ThresholdedRelu(x, 0.3) }, func(v float64) float64 {
			if v > float64(float32(0.3)) { // TensorFlow compares in float32
				return v
			}
			return 0
		}},
	}
	for _, tc := range tests {
		got := append([]float32(nil), x...)
		tc.f(got)
		want := make([]float32, len(x))
		for i, v := range x {
			want[i] = float32(tc.want(float64(v)))
		}
		checkClose(t, tc.name, got, want)
	}
}

func TestPRelu(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	x := randData(r, 2*6)
	alpha := []float32{0.1, 0.5, -0.2}
	idx := []int32{0, 1, 2, 0, 1, 2} // (2, 3) sample sharing axis 1
	got := make([]float32, len(x))
	PRelu(got, x, alpha, idx)
	want := make([]float32, len(x))
	for i, v := range x {
		a := alpha[idx[i%6]]
		if v >= 0 {
			want[i] = v
		} else {
			want[i] = a * v
		}
	}
	checkClose(t, "prelu", got, want)
}

func TestScaleShiftAndStandardize(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	for _, tc := range []struct{ outer, c, inner int }{{4, 3, 1}, {2, 3, 5}, {1, 1, 1}} {
		n := tc.outer * tc.c * tc.inner
		x := randData(r, n)
		a, b := randData(r, tc.c), randData(r, tc.c)
		for i := range b {
			b[i] = float32(math.Abs(float64(b[i]))) + 0.5
		}
		got := make([]float32, n)
		ScaleShift(got, x, a, b, tc.outer, tc.inner)
		got2 := make([]float32, n)
		Standardize(got2, x, a, b, tc.outer, tc.inner)
		want := make([]float32, n)
		want2 := make([]float32, n)
		for i := range x {
			ch := (i / tc.inner) % tc.c
			want[i] = x[i]*a[ch] + b[ch]
			want2[i] = (x[i] - a[ch]) / b[ch]
		}
		checkClose(t, "scaleshift", got, want)
		checkClose(t, "standardize", got2, want2)
	}
}

func refMoments(x []float32) (float64, float64) {
	var s float64
	for _, v := range x {
		s += float64(v)
	}
	m := s / float64(len(x))
	var q float64
	for _, v := range x {
		q += (float64(v) - m) * (float64(v) - m)
	}
	return m, q / float64(len(x))
}

func TestRowNorms(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	const rows, n = 3, 7
	x := randData(r, rows*n)
	gamma, beta := randData(r, n), randData(r, n)
	for _, rms := range []bool{false, true} {
		got := make([]float32, len(x))
		LayerNormRows(got, x, gamma, beta, n, 1e-3, rms)
		want := make([]float32, len(x))
		for i := 0; i < rows; i++ {
			row := x[i*n : (i+1)*n]
			m, v := refMoments(row)
			if rms {
				m = 0
			}
			for j := range row {
				want[i*n+j] = float32((float64(row[j])-m)/math.Sqrt(v+1e-3)*float64(gamma[j]) + float64(beta[j]))
			}
		}
		checkClose(t, "layernorm", got, want)
	}
	got := make([]float32, len(x))
	RMSNormRows(got, x, gamma, n, 1e-6)
	got2 := make([]float32, len(x))
	L2NormalizeRows(got2, x, n, 1e-12)
	want := make([]float32, len(x))
	want2 := make([]float32, len(x))
	for i := 0; i < rows; i++ {
		row := x[i*n : (i+1)*n]
		var q float64
		for _, v := range row {
			q += float64(v) * float64(v)
		}
		for j := range row {
			want[i*n+j] = float32(float64(row[j]) / math.Sqrt(q/n+1e-6) * float64(gamma[j]))
			want2[i*n+j] = float32(float64(row[j]) / math.Sqrt(q))
		}
	}
	checkClose(t, "rmsnorm", got, want)
	checkClose(t, "l2normalize", got2, want2)
}

func TestGroupNorm(t *testing.T) {
	r := rand.New(rand.NewSource(4))
	for _, tc := range []struct{ batch, pre, c, post, groups int }{
		{2, 4, 6, 1, 3}, {1, 1, 4, 5, 2}, {2, 2, 4, 3, 4}, {1, 3, 2, 1, 1},
	} {
		n := tc.batch * tc.pre * tc.c * tc.post
		x := randData(r, n)
		gamma, beta := randData(r, tc.c), randData(r, tc.c)
		got := make([]float32, n)
		GroupNorm(got, x, gamma, beta, tc.batch, tc.pre, tc.c, tc.post, tc.groups, 1e-3)
		want := make([]float32, n)
		cg := tc.c / tc.groups
		at := func(b, p, ch, q int) int { return ((b*tc.pre+p)*tc.c+ch)*tc.post + q }
		for b := 0; b < tc.batch; b++ {
			for g := 0; g < tc.groups; g++ {
				var vals []float32
				for p := 0; p < tc.pre; p++ {
					for ch := g * cg; ch < (g+1)*cg; ch++ {
						for q := 0; q < tc.post; q++ {
							vals = append(vals, x[at(b, p, ch, q)])
						}
					}
				}
				m, v := refMoments(vals)
				for p := 0; p < tc.pre; p++ {
					for ch := g * cg; ch < (g+1)*cg; ch++ {
						for q := 0; q < tc.post; q++ {
							i := at(b, p, ch, q)
							want[i] = float32((float64(x[i])-m)/math.Sqrt(v+1e-3)*float64(gamma[ch]) + float64(beta[ch]))
						}
					}
				}
			}
		}
		checkClose(t, "groupnorm", got, want)
	}
}

// unravel returns the multi-index of flat position i in shape.
func unravel(i int, shape []int) []int {
	idx := make([]int, len(shape))
	for k := len(shape) - 1; k >= 0; k-- {
		idx[k] = i % shape[k]
		i /= shape[k]
	}
	return idx
}

func ravel(idx, shape []int) int {
	p := 0
	for k, d := range shape {
		p = p*d + idx[k]
	}
	return p
}

func TestTranspose(t *testing.T) {
	r := rand.New(rand.NewSource(5))
	for _, tc := range []struct{ shape, perm []int }{
		{[]int{2, 3}, []int{1, 0}},
		{[]int{2, 3, 4}, []int{0, 2, 1}},
		{[]int{2, 3, 4}, []int{2, 0, 1}},
		{[]int{2, 1, 3, 2}, []int{3, 1, 0, 2}},
		{[]int{5}, []int{0}},
		{[]int{2, 0, 3}, []int{2, 1, 0}},
	} {
		n := 1
		for _, d := range tc.shape {
			n *= d
		}
		x := randData(r, n)
		got := make([]float32, n)
		Transpose(got, x, tc.shape, tc.perm)
		out := make([]int, len(tc.perm))
		for i, p := range tc.perm {
			out[i] = tc.shape[p]
		}
		want := make([]float32, n)
		for i := range want {
			oi := unravel(i, out)
			si := make([]int, len(oi))
			for k, p := range tc.perm {
				si[p] = oi[k]
			}
			want[i] = x[ravel(si, tc.shape)]
		}
		checkClose(t, "transpose", got, want)
	}
}

func TestBroadcast(t *testing.T) {
	r := rand.New(rand.NewSource(6))
	for _, tc := range []struct{ from, to []int }{
		{[]int{1, 3}, []int{4, 3}},
		{[]int{2, 1}, []int{2, 5}},
		{[]int{1, 3, 1}, []int{2, 3, 4}},
		{[]int{2, 3}, []int{2, 3}},
		{[]int{1}, []int{6}},
	} {
		nf, nt := 1, 1
		for i := range tc.from {
			nf *= tc.from[i]
			nt *= tc.to[i]
		}
		x := randData(r, nf)
		got := make([]float32, nt)
		Broadcast(got, x, tc.from, tc.to)
		want := make([]float32, nt)
		for i := range want {
			idx := unravel(i, tc.to)
			for k := range idx {
				if tc.from[k] == 1 {
					idx[k] = 0
				}
			}
			want[i] = x[ravel(idx, tc.from)]
		}
		checkClose(t, "broadcast", got, want)
	}
}

// TestRescaleStandardize checks Rescale and Standardize over channels last
// against their definitions value by value, bit for bit, for channel
// counts whose cycle the vector loop lays out (1, 3, 5, 16) and one it
// leaves to the scalar loop (17), over lengths that end inside a cycle.
func TestRescaleStandardize(t *testing.T) {
	r := rand.New(rand.NewSource(8))
	for _, c := range []int{1, 3, 5, 16, 17} {
		for _, rows := range []int{1, 17, 100} {
			x := make([]float32, rows*c)
			for i := range x {
				x[i] = float32(r.NormFloat64() * 100)
			}
			a, b := make([]float32, c), make([]float32, c)
			for j := range a {
				a[j], b[j] = float32(r.NormFloat64()), float32(r.NormFloat64())+3
			}
			got := make([]float32, len(x))
			Rescale(got, x, a, b)
			for i, v := range x {
				if want := float32(v*a[i%c]) + b[i%c]; math.Float32bits(got[i]) != math.Float32bits(want) {
					t.Fatalf("Rescale, %d channels: value %d is %v, want %v", c, i, got[i], want)
				}
			}
			Rescale(got, x, a[:1], b)
			for i, v := range x {
				if want := float32(v*a[0]) + b[i%c]; math.Float32bits(got[i]) != math.Float32bits(want) {
					t.Fatalf("Rescale, one scale, %d offsets: value %d is %v, want %v", c, i, got[i], want)
				}
			}
			Standardize(got, x, a, b, rows, 1)
			for i, v := range x {
				if want := (v - a[i%c]) / b[i%c]; math.Float32bits(got[i]) != math.Float32bits(want) {
					t.Fatalf("Standardize, %d channels: value %d is %v, want %v", c, i, got[i], want)
				}
			}
		}
	}
}
