package keras

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// benchModels are the models of the benchmarks: the article's
// SimpleRNN, an LSTM text classifier (Embedding 10k×64, LSTM 64, Dense), an
// MNIST-size CNN and an MLP (784-256-256-10). `make bench-keras` runs the
// same files and inputs in Keras.
var benchModels = []string{"rnn_1unit", "bench_lstm", "bench_cnn", "bench_mlp"}

// BenchmarkPredict times one prediction of a single sample and of a batch of
// 64 (the input's samples repeated as needed).
func BenchmarkPredict(b *testing.B) {
	for _, name := range benchModels {
		b.Run(name, func(b *testing.B) {
			dir := filepath.Join(modelsDir, name)
			net, err := Load(filepath.Join(dir, "k3.keras"))
			if err != nil {
				b.Fatal(err)
			}
			x := readNPYFile(b, filepath.Join(dir, "input.npy"))
			for _, n := range []int{1, 64} {
				in := tileBatch(x, n)
				b.Run(fmt.Sprintf("batch=%d", n), func(b *testing.B) {
					b.ReportAllocs()
					for b.Loop() {
						if _, err := net.Predict(in); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
				})
			}
		})
	}
}

// tileBatch returns a batch of n samples, repeating x's samples in order.
func tileBatch(x *Tensor, n int) *Tensor {
	per := len(x.Data) / x.Shape[0]
	t := NewTensor(append([]int{n}, x.Shape[1:]...)...)
	for i := 0; i < n; i++ {
		j := i % x.Shape[0]
		copy(t.Data[i*per:(i+1)*per], x.Data[j*per:(j+1)*per])
	}
	return t
}

// BenchmarkPredictLarge times the large models `make bench-keras` makes
// (testdata/gen/.bench, git-ignored: MobileNetV2, ResNet50, ...) when they
// are there, on one sample and on the batch it benchmarks.
func BenchmarkPredictLarge(b *testing.B) {
	dir := filepath.Join("..", "testdata", "gen", ".bench")
	for _, name := range []string{"mobilenetv2", "resnet50", "efficientnetb0", "seq_lstm_gru", "transformer"} {
		b.Run(name, func(b *testing.B) {
			path := filepath.Join(dir, name, "model.keras")
			if _, err := os.Stat(path); err != nil {
				b.Skipf("%s is not there (make bench-keras makes it)", path)
			}
			net, err := Load(path)
			if err != nil {
				b.Fatal(err)
			}
			x := readNPYFile(b, filepath.Join(dir, name, "input.npy"))
			for _, n := range []int{1, x.Shape[0]} {
				in := tileBatch(x, n)
				b.Run(fmt.Sprintf("batch=%d", n), func(b *testing.B) {
					b.ReportAllocs()
					for b.Loop() {
						if _, err := net.Predict(in); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
				})
			}
		})
	}
}
