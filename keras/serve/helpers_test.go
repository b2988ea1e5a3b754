package serve

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/kerascope/kerascope/keras"
	"github.com/kerascope/kerascope/keras/tensor"
)

const modelsDir = "../../testdata/models"

// readNPY reads a fixture array that Keras wrote.
func readNPY(t testing.TB, path string) *keras.Tensor {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	x, err := tensor.ReadNPY(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return x
}

// fixtureIO returns a fixture's inputs and Keras's outputs for one file.
func fixtureIO(t testing.TB, model, file string) (inputs, outputs []*keras.Tensor) {
	t.Helper()
	dir := filepath.Join(modelsDir, model)
	if _, err := os.Stat(filepath.Join(dir, "input.npy")); err == nil {
		inputs = []*keras.Tensor{readNPY(t, filepath.Join(dir, "input.npy"))}
	} else {
		for i := 0; ; i++ {
			p := filepath.Join(dir, fmt.Sprintf("input%d.npy", i))
			if _, err := os.Stat(p); err != nil {
				break
			}
			inputs = append(inputs, readNPY(t, p))
		}
	}
	if _, err := os.Stat(filepath.Join(dir, file+".output.npy")); err == nil {
		outputs = []*keras.Tensor{readNPY(t, filepath.Join(dir, file+".output.npy"))}
	} else {
		for i := 0; ; i++ {
			p := filepath.Join(dir, fmt.Sprintf("%s.output%d.npy", file, i))
			if _, err := os.Stat(p); err != nil {
				break
			}
			outputs = append(outputs, readNPY(t, p))
		}
	}
	if len(inputs) == 0 || len(outputs) == 0 {
		t.Fatalf("%s/%s: no fixture inputs or outputs", model, file)
	}
	return inputs, outputs
}

// nested turns a tensor (or, with rows, its row r) into nested lists for
// encoding/json, which writes each float64 exactly enough to give the
// float32 back.
func nested(shape []int, data []float32) any {
	if len(shape) == 0 {
		return float64(data[0])
	}
	inner := len(data) / max(shape[0], 1)
	out := make([]any, shape[0])
	for i := range out {
		out[i] = nested(shape[1:], data[i*inner:(i+1)*inner])
	}
	return out
}

func row(t *keras.Tensor, r int) any {
	inner := len(t.Data) / t.Shape[0]
	return nested(t.Shape[1:], t.Data[r*inner:(r+1)*inner])
}

// flatten checks that v is nested lists of the given shape and returns
// its values.
func flatten(v any, shape []int) ([]float64, error) {
	if len(shape) == 0 {
		f, ok := v.(float64)
		if !ok {
			return nil, fmt.Errorf("want a number, got %T", v)
		}
		return []float64{f}, nil
	}
	l, ok := v.([]any)
	if !ok || len(l) != shape[0] {
		return nil, fmt.Errorf("want a list of %d, got %v", shape[0], short(v))
	}
	var out []float64
	for _, e := range l {
		f, err := flatten(e, shape[1:])
		if err != nil {
			return nil, err
		}
		out = append(out, f...)
	}
	return out, nil
}

func short(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 80 {
		return string(b[:80]) + "..."
	}
	return string(b)
}

// closeTo compares with the project's tolerance against Keras.
func closeTo(got []float64, want []float32) error {
	if len(got) != len(want) {
		return fmt.Errorf("%d values, want %d", len(got), len(want))
	}
	for i, w := range want {
		if d := math.Abs(got[i] - float64(w)); d > 1e-5+1e-4*math.Abs(float64(w)) {
			return fmt.Errorf("value %d: %g, Keras gives %g", i, got[i], w)
		}
	}
	return nil
}

// newTestServer serves models on loopback (httptest listens on
// 127.0.0.1).
func newTestServer(t testing.TB, models []Model, opts Options) (*Server, *httptest.Server) {
	t.Helper()
	s, err := New(models, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(func() { ts.Close(); s.Close() })
	return s, ts
}

// call sends one request and returns the status and the body.
func call(t testing.TB, method, url string, body []byte) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
