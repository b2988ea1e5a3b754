// Package keras reads saved Keras models and runs them: it decodes the
// model config that Keras stores beside the weights (every dialect from
// Keras 1 to Keras 3), rebuilds the layer graph, infers each layer's output
// shapes and the weights its architecture implies, and runs the graph on
// the weights the file stores.
//
// # Overview
//
// [Open] ties the steps of the model path together (docs/architecture.md
// draws it): package store opens the container, a legacy HDF5 file or a
// .keras archive, told apart by their bytes; [Decode] turns its config into
// a [Model]; package bind tells which stored tensor is which weight
// ([File.Binding]); [Load] and [Net.Predict] run the graph, each layer
// family's forward pass in its own file. [Decode] needs no file, which is
// what the fuzz tests and most unit tests use.
//
// This package must not import keras/check, summary or cmd: they build on
// it. Tensors and their npy, JSON and CSV forms are package tensor's.
//
// # Explaining parameter counts
//
// [Layer.Explain] spells out the arithmetic behind a layer's parameter
// count, Keras's "Param #", in the layer's own terms and with its own
// numbers, computed again from the config and the input shape:
//
//	SimpleRNN(2), input dim 1: kernel 1×2 + recurrent kernel 2×2 + bias 2 = 8 = 2 × (1 + 2 + 1)
//	Conv2D(32, 3×3), 3 channels in: kernel 3×3×3×32 + bias 32 = 896 = 32 filters × (3×3×3 + 1)
//
// Every built-in class has a formula of its own, next to the rest of its
// code in its family's file; its total always equals [Layer.Params].
// Layers whose weights only the file tells list what the file stores.
//
// # Errors
//
// Malformed or inconsistent files give a [*FormatError]; valid Keras that
// kerascope does not handle gives a [*UnsupportedError]; files that are not
// Keras models at all wrap [ErrNotKeras]. All of them name the file or the
// layer they concern, from the outside in.
//
// # Security
//
// Nothing stored in a model file is ever executed: Lambda layers, custom
// objects and pickled arrays are reported, never run. HDF5 is read by
// package h5's bounded, fuzzed Go parser.
package keras
