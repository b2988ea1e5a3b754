package keras

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

func loadNet(t *testing.T, model, file string) *Net {
	t.Helper()
	net, err := Load(filepath.Join(modelsDir, model, file))
	if err != nil {
		t.Fatal(err)
	}
	return net
}

// TestPredictConcurrent calls Predict on one Net from many goroutines at
// once, each with its own batch, and checks every result against the one
// computed alone. Run it with -race: go test -race -run Concurrent ./keras.
func TestPredictConcurrent(t *testing.T) {
	for _, m := range []struct{ model, file string }{
		{"nested_seq", "k3.keras"}, {"compiled_fn", "tfk.h5"}, {"bench_mlp", "k3.keras"},
		{"bench_cnn", "k3.keras"}, {"conv2d_seq", "k3.h5"}, {"rnn_seq", "k3.keras"},
		{"bench_lstm", "k3.keras"}, {"timedist_seq", "k3.keras"},
	} {
		t.Run(m.model, func(t *testing.T) {
			net := loadNet(t, m.model, m.file)
			in := net.Inputs()[0].Shape
			// Batches of different sizes and values, with their results
			// computed one at a time.
			var batches []*Tensor
			var want [][]*Tensor
			// 24 samples are split over the CPUs (runSplit).
			for _, b := range []int{1, 2, 3, 4, 5, 6, 7, 8, 24} {
				shape := append([]int{b}, in[1:]...)
				x := NewTensor(shape...)
				for i := range x.Data {
					x.Data[i] = float32(math.Sin(float64(i*b + 1)))
				}
				out, err := net.Predict(x)
				if err != nil {
					t.Fatal(err)
				}
				batches, want = append(batches, x), append(want, out)
			}
			const workers, rounds = 16, 10
			var wg sync.WaitGroup
			errs := make(chan error, workers)
			for w := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for r := range rounds {
						k := (w + r) % len(batches)
						out, err := net.Predict(batches[k])
						if err != nil {
							errs <- err
							return
						}
						for i := range out {
							if !sameBits(out[i].Data, want[k][i].Data) {
								errs <- errors.New("a concurrent prediction differs from the serial one")
								return
							}
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
		})
	}
}

// TestPredictInputErrors checks that every malformed call is an error
// naming the input, never a panic.
func TestPredictInputErrors(t *testing.T) {
	net := loadNet(t, "compiled_fn", "k3.keras") // one input "input" (None, 4)
	tests := []struct {
		name  string
		in    []*Tensor
		input string // the InputError's input, "" for another error
		msg   string
	}{
		{"no inputs", nil, "", `takes 1 inputs ("input" (None, 4)), got 0`},
		{"two inputs", []*Tensor{NewTensor(1, 4), NewTensor(1, 4)}, "", "got 2"},
		{"nil", []*Tensor{nil}, "input", "nil tensor"},
		{"short data", []*Tensor{{Shape: []int{2, 4}, Data: make([]float32, 7)}}, "input", "holds 8 values, got 7"},
		{"negative dim", []*Tensor{{Shape: []int{-1, 4}, Data: nil}}, "input", "holds"},
		{"huge dims", []*Tensor{{Shape: []int{1 << 40, 1 << 40}, Data: nil}}, "input", "holds"},
		{"rank", []*Tensor{NewTensor(2, 4, 1)}, "input", "shape (2, 4, 1), want (None, 4)"},
		{"size", []*Tensor{NewTensor(2, 3)}, "input", "want (None, 4)"},
		{"scalar", []*Tensor{{Shape: []int{}, Data: []float32{1}}}, "input", "want (None, 4)"},
		{"empty batch", []*Tensor{NewTensor(0, 4)}, "input", "empty batch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := net.Predict(tt.in...)
			if err == nil || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("error %v, want one containing %q", err, tt.msg)
			}
			var ie *InputError
			if got := errors.As(err, &ie); got != (tt.input != "") || (got && ie.Input != tt.input) {
				t.Errorf("error %#v: want an InputError for %q", err, tt.input)
			}
		})
	}
	for _, m := range []map[string]*Tensor{{}, {"input": NewTensor(1, 4), "extra": NewTensor(1)}, {"Input": NewTensor(1, 4)}} {
		if _, err := net.PredictNamed(m); err == nil {
			t.Errorf("PredictNamed(%v) accepted", m)
		}
	}
	_, err := net.PredictNamed(map[string]*Tensor{"input": NewTensor(1, 4), "extra": NewTensor(1)})
	if err == nil || !strings.Contains(err.Error(), `no input named "extra"`) {
		t.Errorf("unknown name: %v", err)
	}
}

// TestPredictOwnership checks that Predict leaves its inputs alone, that
// callers own the results, and that Inputs and Outputs return copies.
func TestPredictOwnership(t *testing.T) {
	net := loadNet(t, "nested_seq", "k3.keras")
	x := NewTensor(3, 5)
	for i := range x.Data {
		x.Data[i] = float32(i) / 7
	}
	before := x.Clone()
	a, err := net.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	if !sameBits(x.Data, before.Data) {
		t.Error("Predict modified its input")
	}
	keep := a[0].Clone()
	for i := range a[0].Data {
		a[0].Data[i] = 42 // the caller's to change
	}
	b, _ := net.Predict(x)
	if !sameBits(b[0].Data, keep.Data) {
		t.Error("changing one result changed the next prediction")
	}
	// A batch predicted whole equals its samples predicted one by one.
	for i := range 3 {
		one, err := net.Predict(x.Slice(i, i+1))
		if err != nil {
			t.Fatal(err)
		}
		for j, v := range one[0].Data {
			if w := keep.Data[i*len(one[0].Data)+j]; math.Abs(float64(v-w)) > 1e-6 {
				t.Errorf("sample %d alone gives %v, in the batch %v", i, v, w)
			}
		}
	}
	in := net.Inputs()
	in[0].Name, in[0].Shape[1] = "changed", 99
	if p := net.Inputs()[0]; p.Name != "input_layer" || p.Shape[1] != 5 {
		t.Errorf("Inputs returned the Net's own ports: now %v", p)
	}
	out := net.Outputs()
	out[0].Shape[1] = 99
	if net.Outputs()[0].Shape[1] != 1 {
		t.Error("Outputs returned the Net's own ports")
	}
}

// panicky is a layer kind whose forward pass panics.
type panicky struct{ unknownLayer }

func (panicky) forward(*call) error { panic("boom") }

// TestForwardPanicIsError: a panicking layer gives an error naming it.
func TestForwardPanicIsError(t *testing.T) {
	l := &Layer{Name: "odd", Class: "Odd", impl: panicky{}}
	err := (&Net{}).forward(&call{layer: l})
	if err == nil || !strings.Contains(err.Error(), `layer "odd" (Odd): internal error`) || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("got %v", err)
	}
}

// TestChunkedBatch: a batch run by chunks of its parts (runSplit) gives
// the batch run whole, to the rounding that a product's blocking by rows
// brings (a sample's results already differ in the last bits between
// batches of different sizes), chunks of one and of uneven sizes
// included; and the same bits from one call to the next.
func TestChunkedBatch(t *testing.T) {
	for _, m := range []struct{ model, file string }{
		{"bench_cnn", "k3.keras"}, {"conv2d_seq", "k3.h5"}, {"bench_lstm", "k3.keras"}, {"nested_seq", "k3.keras"},
	} {
		t.Run(m.model, func(t *testing.T) {
			net := loadNet(t, m.model, m.file)
			in := net.Inputs()[0].Shape
			x := NewTensor(append([]int{23}, in[1:]...)...)
			for i := range x.Data {
				x.Data[i] = float32(math.Sin(float64(i + 1)))
			}
			net.chunk = 0
			whole, err := net.Predict(x)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []int{1, 3, 5} {
				net.chunk = c
				got, err := net.Predict(x)
				if err != nil {
					t.Fatal(err)
				}
				again, err := net.Predict(x)
				if err != nil {
					t.Fatal(err)
				}
				for i, w := range whole {
					if !slices.Equal(got[i].Shape, w.Shape) || !slices.Equal(got[i].Data, again[i].Data) {
						t.Fatalf("chunks of %d: output %d of shape %v (whole %v) differs between calls", c, i, got[i].Shape, w.Shape)
					}
					for j, v := range w.Data {
						if d := math.Abs(float64(got[i].Data[j] - v)); d > 1e-6*(1+math.Abs(float64(v))) {
							t.Fatalf("chunks of %d: output %d element %d is %g, the batch run whole %g", c, i, j, got[i].Data[j], v)
						}
					}
				}
			}
		})
	}
	// Chunks only where they hold at least minChunk samples of the
	// activations a sample holds at once, and only of models with
	// spatial maps.
	for _, c := range []struct {
		live    int
		spatial bool
		want    int
	}{
		{0, true, 0}, {chunkBytes / (4 * minChunk), true, minChunk}, {chunkBytes/(4*minChunk) + 1, true, 0},
		{chunkBytes / (4 * 2 * minChunk), true, 2 * minChunk}, {chunkBytes / (4 * 2 * minChunk), false, 0},
	} {
		if got := batchChunk(c.live, c.spatial); got != c.want {
			t.Errorf("batchChunk(%d, %v) = %d, want %d", c.live, c.spatial, got, c.want)
		}
	}
	for _, m := range []struct {
		model, file string
		spatial     bool
	}{{"bench_cnn", "k3.keras", true}, {"bench_lstm", "k3.keras", false}, {"bench_mlp", "k3.keras", false}} {
		if net := loadNet(t, m.model, m.file); net.hasSpatialMaps(net.Model) != m.spatial {
			t.Errorf("%s: hasSpatialMaps %v, want %v", m.model, !m.spatial, m.spatial)
		}
	}
}

func TestMinPart(t *testing.T) {
	for _, c := range []struct {
		macs int64
		want int
	}{{0, minPartSamples}, {1, minPartSamples}, {splitMACs / 16, minPartSamples}, {splitMACs / 4, 4}, {splitMACs / 2, 2}, {splitMACs, 1}, {300e6, 1}} {
		if got := minPart(c.macs); got != c.want {
			t.Errorf("minPart(%d) = %d, want %d", c.macs, got, c.want)
		}
	}
	// A config's shapes can be anything: the estimate saturates.
	if got := satMul(1<<40, 1<<40); got != math.MaxInt64 {
		t.Errorf("satMul(2^40, 2^40) = %d", got)
	}
	if got := satAdd(math.MaxInt64-1, 5); got != math.MaxInt64 {
		t.Errorf("satAdd(MaxInt64-1, 5) = %d", got)
	}
	if got := satMul(3, 5) + satAdd(3, 5); got != 23 {
		t.Errorf("satMul(3, 5) + satAdd(3, 5) = %d", got)
	}
}

// perSampleMACs, from the config's shapes, against the multiply-adds that
// bench_models.py counts with Keras for the benchmark's models (when make
// bench-keras has made them). It only sizes the split of a batch, so a
// factor of two either way is close enough: it also counts element-wise
// layers, one per output element, and attention's projections.
func TestPerSampleMACs(t *testing.T) {
	dir := filepath.Join("..", "testdata", "gen", ".bench")
	names, _ := filepath.Glob(filepath.Join(dir, "*", "meta.json"))
	if len(names) == 0 {
		t.Skipf("%s has no models (make bench-keras makes them)", dir)
	}
	for _, meta := range names {
		var m struct {
			MACs int64 `json:"macs_per_sample"`
		}
		b, err := os.ReadFile(meta)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		net, err := Load(filepath.Join(filepath.Dir(meta), "model.keras"))
		if err != nil {
			t.Fatal(err)
		}
		got := net.perSampleMACs(net.Model)
		t.Logf("%s: %d multiply-adds a sample, Keras-side count %d", filepath.Base(filepath.Dir(meta)), got, m.MACs)
		if got < m.MACs/2 || got > 2*m.MACs {
			t.Errorf("%s: estimated %d multiply-adds a sample, bench_models.py counts %d", filepath.Dir(meta), got, m.MACs)
		}
	}
}
