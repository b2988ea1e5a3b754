package keras

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// TestBatchSize: a model whose Input declares a batch size runs on any
// batch size, as Keras's predict does (the fixed_batch fixtures hold
// Keras's outputs for batches of 3 and 5 against a declared 8, checked by
// TestPredictFixtures), unless a layer is stateful: stateful_seq takes
// exactly its declared 4 and says why it refuses another size.
func TestBatchSize(t *testing.T) {
	for _, tc := range []struct {
		model, file string
		wantBatch   int // the inputs' batch dimension, -1 for any
	}{
		{"fixed_batch_fn", "k3.keras", -1},
		{"fixed_batch_fn", "tfk.h5", -1},
		{"fixed_batch_seq", "k3.h5", -1},
		{"stateful_seq", "k3.keras", 4},
		{"stateful_seq", "tfk.h5", 4},
	} {
		t.Run(tc.model+"/"+tc.file, func(t *testing.T) {
			dir := filepath.Join(modelsDir, tc.model)
			net, err := Load(filepath.Join(dir, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if got := net.Inputs()[0].Shape[0]; got != tc.wantBatch {
				t.Errorf("input batch dimension %d, want %d", got, tc.wantBatch)
			}
			in := readNPYFile(t, filepath.Join(dir, "input.npy"))
			// Two samples, a size neither model declares.
			two := &Tensor{Shape: append([]int{2}, in.Shape[1:]...), Data: in.Data[:2*len(in.Data)/in.Shape[0]]}
			_, err = net.Predict(two)
			if tc.wantBatch < 0 {
				if err != nil {
					t.Errorf("batch of 2: %v", err)
				}
				return
			}
			var ie *InputError
			if !errors.As(err, &ie) || !strings.Contains(err.Error(), `layer "lstm" (LSTM) is stateful`) || !strings.Contains(err.Error(), "exactly 4") {
				t.Errorf("batch of 2: %v, want an InputError naming the stateful layer and the batch size 4", err)
			}
		})
	}
}
