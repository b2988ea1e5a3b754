package keras

import (
	"math"
	"math/rand"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

// Unit tests of the recurrent forward pass for what the Keras fixtures do
// not exercise: the CuDNN layers' flat biases, masking identities, and
// the error paths. The fixtures (TestPredictFixtures) check the rest
// against Keras itself.

func decodeKind(t *testing.T, mk func(*decoder) (layerKind, error), cfg string) layerKind {
	t.Helper()
	d := &decoder{cfg: gjson.Parse(cfg), sub: func(r gjson.Result) (*Layer, error) { return subLayer(r, 1) }}
	k, err := mk(d)
	if err == nil {
		err = d.err
	}
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func runKind(t *testing.T, k layerKind, in []*Tensor, masks []mask, w []*Tensor) []*Tensor {
	t.Helper()
	c := &call{layer: &Layer{Name: "test"}, in: in, masks: masks, w: w, net: &Net{}}
	if err := k.(forwarder).forward(c); err != nil {
		t.Fatal(err)
	}
	return c.out
}

func sameValues(t *testing.T, what string, got, want []float32, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range want {
		if math.Abs(float64(got[i]-want[i])) > tol {
			t.Fatalf("%s[%d] = %g, want %g", what, i, got[i], want[i])
		}
	}
}

// CuDNNLSTM adds its two biases; CuDNNGRU is a reset-after GRU whose flat
// bias is the (2, 3u) one row after the other.
func TestCuDNNEquivalents(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	const u, f = 3, 2
	x := randTensor(rng, 2, 4, f)
	for _, tc := range []struct {
		name        string
		cudnn, std  func(*decoder) (layerKind, error)
		stdCfg      string
		gates       int
		stdBias     func(flat []float32) *Tensor
		returnState bool
	}{
		{"lstm", newCuDNNLSTM, newLSTM, `{"units": 3, "return_sequences": true, "return_state": true, "recurrent_activation": "sigmoid"}`, 4,
			func(b []float32) *Tensor {
				s := NewTensor(4 * u)
				for i := range s.Data {
					s.Data[i] = b[i] + b[4*u+i]
				}
				return s
			}, true},
		{"gru", newCuDNNGRU, newGRU, `{"units": 3, "return_sequences": true, "return_state": true, "reset_after": true, "recurrent_activation": "sigmoid"}`, 3,
			func(b []float32) *Tensor { return &Tensor{Shape: []int{2, 3 * u}, Data: b} }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := `{"units": 3, "return_sequences": true, "return_state": true}`
			cu := decodeKind(t, tc.cudnn, cfg)
			st := decodeKind(t, tc.std, tc.stdCfg)
			g := tc.gates * u
			w := []*Tensor{randTensor(rng, f, g), randTensor(rng, u, g), randTensor(rng, 2*g)}
			got := runKind(t, cu, []*Tensor{x}, []mask{nil}, w)
			want := runKind(t, st, []*Tensor{x}, []mask{nil}, []*Tensor{w[0], w[1], tc.stdBias(w[2].Data)})
			for i := range want {
				sameValues(t, "output", got[i].Data, want[i].Data, 1e-6)
			}
		})
	}
}

// A right-padded mask gives the states of the unpadded prefix, repeats the
// last output at padded steps (zeros with zero_output_for_mask), and
// go_backwards skips the padding it meets first.
func TestRNNMaskIdentities(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	const steps, keep = 5, 3
	x := randTensor(rng, 1, steps, 2)
	prefix := &Tensor{Shape: []int{1, keep, 2}, Data: x.Data[:keep*2]}
	m := mask{true, true, true, false, false}
	for _, cls := range []struct {
		name string
		mk   func(*decoder) (layerKind, error)
		g    int
		cfg  string
	}{
		{"simple", newSimpleRNN, 1, `"units": 2`},
		{"lstm", newLSTM, 4, `"units": 2`},
		{"gru", newGRU, 3, `"units": 2, "reset_after": true`},
		{"gru_v1", newGRU, 3, `"units": 2, "reset_after": false`},
	} {
		t.Run(cls.name, func(t *testing.T) {
			bias := randTensor(rng, cls.g*2)
			if cls.name == "gru" { // reset_after: input and recurrent biases
				bias = randTensor(rng, 2, cls.g*2)
			}
			w := []*Tensor{randTensor(rng, 2, cls.g*2), randTensor(rng, 2, cls.g*2), bias}
			seq := decodeKind(t, cls.mk, `{`+cls.cfg+`, "return_sequences": true, "return_state": true}`)
			zero := decodeKind(t, cls.mk, `{`+cls.cfg+`, "return_sequences": true, "zero_output_for_mask": true}`)
			got := runKind(t, seq, []*Tensor{x}, []mask{m}, w)
			want := runKind(t, seq, []*Tensor{prefix}, []mask{nil}, w)
			sameValues(t, "prefix outputs", got[0].Data[:keep*2], want[0].Data, 1e-6)
			for s := keep; s < steps; s++ {
				sameValues(t, "padded output", got[0].Data[s*2:s*2+2], want[0].Data[(keep-1)*2:keep*2], 0)
			}
			for i := 1; i < len(got); i++ {
				sameValues(t, "state", got[i].Data, want[i].Data, 1e-6)
			}
			z := runKind(t, zero, []*Tensor{x}, []mask{m}, w)
			sameValues(t, "zero outputs", z[0].Data[keep*2:], make([]float32, (steps-keep)*2), 0)

			back := decodeKind(t, cls.mk, `{`+cls.cfg+`, "go_backwards": true, "return_state": true}`)
			gotB := runKind(t, back, []*Tensor{x}, []mask{m}, w)
			wantB := runKind(t, back, []*Tensor{prefix}, []mask{nil}, w)
			for i := range wantB {
				sameValues(t, "backwards", gotB[i].Data, wantB[i].Data, 1e-6)
			}
		})
	}
}

// Bidirectional takes initial states by keyword (Keras 3) or after the
// sequence (tf-keras), forward ones first.
func TestBidirectionalInitialStates(t *testing.T) {
	rng := rand.New(rand.NewSource(9))
	bi := decodeKind(t, newBidirectional, `{"merge_mode": null, "layer": {"class_name": "LSTM", "config": {"name": "l", "units": 2, "return_sequences": true}}}`).(*bidirectional)
	if _, err := bi.build([]Shape{{-1, 3, 2}}); err != nil {
		t.Fatal(err)
	}
	var w []*Tensor
	for range 2 {
		w = append(w, randTensor(rng, 2, 8), randTensor(rng, 2, 8), randTensor(rng, 8))
	}
	x := randTensor(rng, 2, 3, 2)
	states := []*Tensor{randTensor(rng, 2, 2), randTensor(rng, 2, 2), randTensor(rng, 2, 2), randTensor(rng, 2, 2)}
	pos := runKind(t, bi, append([]*Tensor{x}, states...), []mask{nil}, w)
	c := &call{layer: &Layer{Name: "test"}, in: []*Tensor{x}, masks: []mask{nil}, w: w, net: &Net{},
		kwargs: map[string][]*Tensor{"initial_state": states}}
	if err := bi.forward(c); err != nil {
		t.Fatal(err)
	}
	for i := range pos {
		sameValues(t, "output", c.out[i].Data, pos[i].Data, 0)
	}
	// The forward output starts from the forward states: different from
	// a run without them.
	plain := runKind(t, bi, []*Tensor{x}, []mask{nil}, w)
	if sameish(plain[0].Data, pos[0].Data) {
		t.Error("initial states changed nothing")
	}
}

func sameish(a, b []float32) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestRecurrentErrors(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	lstm := decodeKind(t, newLSTM, `{"units": 2}`)
	w := []*Tensor{randTensor(rng, 3, 8), randTensor(rng, 2, 8), randTensor(rng, 8)}
	for _, tc := range []struct {
		name string
		in   []*Tensor
		w    []*Tensor
		want string
	}{
		{"rank", []*Tensor{randTensor(rng, 2, 3)}, w, "want (batch, time, features)"},
		{"features", []*Tensor{randTensor(rng, 1, 4, 2)}, w, "kernel holds"},
		{"states", []*Tensor{randTensor(rng, 1, 4, 3), randTensor(rng, 1, 2)}, w, "initial states"},
		{"state shape", []*Tensor{randTensor(rng, 1, 4, 3), randTensor(rng, 1, 3), randTensor(rng, 1, 2)}, w, "initial state 0"},
		{"no steps", []*Tensor{NewTensor(1, 0, 3)}, w, "no time steps"},
		{"weights", []*Tensor{randTensor(rng, 1, 4, 3)}, w[:2], "weights left"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &call{layer: &Layer{Name: "test"}, in: tc.in, masks: []mask{nil}, w: tc.w, net: &Net{}}
			err := lstm.(forwarder).forward(c)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error with %q", err, tc.want)
			}
		})
	}
}

func TestEmbeddingAndMasking(t *testing.T) {
	emb := decodeKind(t, newEmbedding, `{"input_dim": 4, "output_dim": 2, "mask_zero": true}`)
	table := &Tensor{Shape: []int{4, 2}, Data: []float32{0, 1, 2, 3, 4, 5, 6, 7}}
	c := &call{layer: &Layer{}, in: []*Tensor{{Shape: []int{1, 3}, Data: []float32{3, 0, 1.7}}}, w: []*Tensor{table}, net: &Net{}}
	if err := emb.(forwarder).forward(c); err != nil {
		t.Fatal(err)
	}
	sameValues(t, "embedding", c.out[0].Data, []float32{6, 7, 0, 1, 2, 3}, 0)
	if got := c.outMasks[0]; len(got) != 3 || !got[0] || got[1] || !got[2] {
		t.Errorf("mask %v, want [true false true]", got)
	}
	for _, bad := range []float32{4, -1, float32(math.NaN()), 1e30} {
		c := &call{layer: &Layer{}, in: []*Tensor{{Shape: []int{1, 1}, Data: []float32{bad}}}, w: []*Tensor{table}, net: &Net{}}
		if err := emb.(forwarder).forward(c); err == nil || !strings.Contains(err.Error(), "not in [0, 4)") {
			t.Errorf("id %v: got %v, want an out-of-range error", bad, err)
		}
	}

	mk := decodeKind(t, newMasking, `{"mask_value": 1.5}`)
	x := &Tensor{Shape: []int{1, 3, 2}, Data: []float32{1.5, 1.5, 1.5, 2, 0, 1.5}}
	c = &call{layer: &Layer{}, in: []*Tensor{x}, net: &Net{}}
	if err := mk.(forwarder).forward(c); err != nil {
		t.Fatal(err)
	}
	sameValues(t, "masking", c.out[0].Data, []float32{0, 0, 1.5, 2, 0, 1.5}, 0)
	if got := c.outMasks[0]; len(got) != 3 || got[0] || !got[1] || !got[2] {
		t.Errorf("mask %v, want [false true true]", got)
	}
}
