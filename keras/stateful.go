package keras

import "fmt"

// Batch sizes as Keras's predict allows them. An Input may declare a
// fixed batch size (batch_input_shape [8, 50], Keras 3's batch_shape),
// and the summary shows it; Keras's predict still runs any batch size
// unless a layer is stateful, that is carries its states from one batch
// to the next (Keras 3's keras/src/layers/rnn/rnn.py builds such states
// for exactly the declared batch; tf_keras's recurrent.py likewise), so
// only then does kerascope hold the input to the declared size.

// statefulLayer reports whether a layer (or a layer it wraps) is
// stateful.
func statefulLayer(l *Layer) bool {
	if l == nil {
		return false
	}
	s, ok := l.impl.(interface{ isStateful() bool })
	return ok && s.isStateful()
}

// firstStateful returns the first stateful layer of m or of a model
// inside it, or nil.
func firstStateful(m *Model) *Layer {
	for _, l := range m.Layers {
		if l.Model != nil {
			if s := firstStateful(l.Model); s != nil {
				return s
			}
			continue
		}
		if statefulLayer(l) {
			return l
		}
	}
	return nil
}

// freeBatch returns an input's shape with its batch dimension free, as
// Keras's predict treats it, unless the model is stateful.
func freeBatch(s Shape, stateful *Layer) Shape {
	s = s.Clone()
	if stateful == nil && len(s) > 0 {
		s[0] = -1
	}
	return s
}

// statefulBatchError says why a stateful model refuses a batch whose size
// differs from the one its input declares.
func statefulBatchError(got []int, want Shape, stateful *Layer) string {
	if stateful == nil || len(got) != len(want) || len(got) == 0 || want[0] < 0 || got[0] == want[0] || !fits(got[1:], want[1:]) {
		return ""
	}
	return fmt.Sprintf("batch of %d, but layer %q (%s) is stateful: Keras carries its states from one batch to the next, so the model takes batches of exactly %d", got[0], stateful.Name, stateful.Class, want[0])
}
