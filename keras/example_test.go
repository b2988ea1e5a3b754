package keras_test

import (
	"errors"
	"fmt"
	"log"
	"os"

	"github.com/kerascope/kerascope/keras"
	"github.com/kerascope/kerascope/keras/tensor"
)

// Load a model once; its inputs and outputs say what Predict takes and
// returns (-1 is None, the batch).
func ExampleLoad() {
	net, err := keras.Load("../testdata/models/nested_seq/k3.keras")
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range net.Inputs() {
		fmt.Println("input", p.Name, p.Shape)
	}
	for _, p := range net.Outputs() {
		fmt.Println("output", p.Name, p.Shape)
	}
	// Output:
	// input input_layer (None, 5)
	// output dense_out (None, 1)
}

// Predict takes one tensor per model input, in the order of Inputs, with
// the batch first, and returns one tensor per output. Here the input is
// the fixture's .npy file, and the numbers printed are Keras's own
// model.predict outputs for it, rounded.
func ExampleNet_Predict() {
	net, err := keras.Load("../testdata/models/nested_seq/k3.keras")
	if err != nil {
		log.Fatal(err)
	}
	f, err := os.Open("../testdata/models/nested_seq/input.npy")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	x, err := tensor.ReadNPY(f) // float32 or converted: float64, ints, bools
	if err != nil {
		log.Fatal(err)
	}
	out, err := net.Predict(x)
	if err != nil {
		log.Fatal(err)
	}
	y := out[0]
	fmt.Println(x.Shape, "->", y.Shape)
	for i := range y.Shape[0] {
		fmt.Printf("%.4f\n", y.Data[i])
	}
	// Output:
	// [2 5] -> [2 1]
	// -0.1467
	// -0.0138
}

// PredictNamed matches inputs by name; a wrong shape is an *InputError
// naming the input.
func ExampleNet_PredictNamed() {
	net, err := keras.Load("../testdata/models/nested_seq/k3.keras")
	if err != nil {
		log.Fatal(err)
	}
	x := tensor.New(1, 5)
	out, err := net.PredictNamed(map[string]*keras.Tensor{"input_layer": x})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%.4f\n", out[0].Data[0])

	_, err = net.PredictNamed(map[string]*keras.Tensor{"input_layer": tensor.New(1, 3)})
	var ie *keras.InputError
	if errors.As(err, &ie) {
		fmt.Println(ie.Input, "→", err)
	}
	// Output:
	// 0.0321
	// input_layer → input "input_layer": shape (1, 3), want (None, 5)
}

// A model with layers that cannot run natively (Lambda layers hold Python
// code) is refused at Load, naming each such layer.
func ExampleNotRunnableError() {
	_, err := keras.Load("../testdata/bad/unsupported_lambda.h5")
	var nr *keras.NotRunnableError
	if errors.As(err, &nr) {
		for _, l := range nr.Layers {
			if l.Class == "Lambda" {
				fmt.Printf("%s (%s): %s\n", l.Name, l.Class, l.Reason)
			}
		}
	}
	// Output:
	// lambda (Lambda): a Lambda layer holds Python code, which kerascope never runs
}
