package serve

import (
	"bytes"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/kerascope/kerascope/keras"
)

// BenchmarkPredictOverhead puts one bench_mlp row through Predict
// in-process and through the handler (JSON in, Predict, JSON out, no
// network), side by side: their ratio is the cost of the REST layer.
func BenchmarkPredictOverhead(b *testing.B) {
	file := filepath.Join(modelsDir, "bench_mlp", "k3.keras")
	net, err := keras.Load(file)
	if err != nil {
		b.Fatal(err)
	}
	in, _ := fixtureIO(b, "bench_mlp", "k3.keras")
	one := &keras.Tensor{Shape: []int{1, in[0].Shape[1]}, Data: in[0].Data[:in[0].Shape[1]]}
	b.Run("in-process", func(b *testing.B) {
		for b.Loop() {
			if _, err := net.Predict(one); err != nil {
				b.Fatal(err)
			}
		}
	})
	s, err := New([]Model{{Name: "mlp", Path: file}}, Options{PollInterval: -1})
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Start(); err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	body := mustJSON(b, map[string]any{"instances": []any{row(in[0], 0)}})
	b.Run("handler", func(b *testing.B) {
		for b.Loop() {
			w := httptest.NewRecorder()
			s.ServeHTTP(w, httptest.NewRequest("POST", "/v1/models/mlp:predict", bytes.NewReader(body)))
			if w.Code != 200 {
				b.Fatal(w.Body.String())
			}
		}
	})
}
