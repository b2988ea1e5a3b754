package keras

import (
	"strings"
	"testing"
)

// TestRunReasonStringPreprocessing: Keras's own string preprocessing
// layers are named as built in, with the true reason they do not run, and
// a class Keras does not have is still called custom.
func TestRunReasonStringPreprocessing(t *testing.T) {
	for _, tc := range []struct{ class, want string }{
		{"TextVectorization", "not supported for prediction yet: string inputs"},
		{"StringLookup", "not supported for prediction yet: string inputs"},
		{"IntegerLookup", "not supported for prediction yet: vocabulary lookup tables"},
		{"Hashing", "not supported for prediction yet: string inputs and FarmHash hashing"},
		{"RandomFlip", "a built-in Keras layer; not supported for prediction yet"},
		{"MyLayer", "a custom class"},
	} {
		cfg := `{"class_name": "Functional", "config": {"name": "m", "layers": [
			{"class_name": "InputLayer", "name": "in", "config": {"name": "in", "batch_input_shape": [null, 3]}, "inbound_nodes": []},
			{"class_name": "` + tc.class + `", "name": "p", "config": {"name": "p", "trainable": true, "dtype": "float32"}, "inbound_nodes": [[["in", 0, 0, {}]]]}],
			"input_layers": [["in", 0, 0]], "output_layers": [["p", 0, 0]]}}`
		m, err := Decode([]byte(cfg))
		if err != nil {
			t.Fatalf("%s: %v", tc.class, err)
		}
		got := notRunnable(m, nil)
		if len(got) != 1 || !strings.Contains(got[0].Reason, tc.want) {
			t.Errorf("%s: %v, want one reason containing %q", tc.class, got, tc.want)
		}
		if tc.class != "MyLayer" && strings.Contains(got[0].Reason, "custom") {
			t.Errorf("%s: %q calls a built-in layer custom", tc.class, got[0].Reason)
		}
	}
}
