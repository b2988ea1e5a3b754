package keras

import (
	"testing"
	"unsafe"
)

// TestDropoutOnInputIsCopied: a Dropout on a model's input is not
// aliased to it (the input is the caller's), so the output is a copy
// with the input's values, not the caller's own buffer.
func TestDropoutOnInputIsCopied(t *testing.T) {
	m, err := Decode([]byte(`{"class_name": "Sequential", "config": {"name": "s", "layers": [
		{"class_name": "InputLayer", "config": {"batch_shape": [null, 3], "name": "in"}},
		{"class_name": "Dropout", "config": {"rate": 0.5, "name": "drop"}}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	net, err := NewNet(&File{Model: m, KerasVersion: "3.15.1"})
	if err != nil {
		t.Fatal(err)
	}
	if net.plan.folded["Dropout"] != 0 {
		t.Fatal("a Dropout on the model's input was aliased to it")
	}
	in := NewTensor(2, 3)
	for i := range in.Data {
		in.Data[i] = float32(i) + 0.5
	}
	out, err := net.Predict(in)
	if err != nil {
		t.Fatal(err)
	}
	if unsafe.SliceData(out[0].Data) == unsafe.SliceData(in.Data) {
		t.Fatal("the output is the caller's input buffer")
	}
	for i, v := range out[0].Data {
		if v != in.Data[i] {
			t.Fatalf("value %d is %v, want the input's %v", i, v, in.Data[i])
		}
	}
}
