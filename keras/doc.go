// Package keras reads saved Keras models: it decodes the model config that
// Keras stores beside the weights (every dialect from Keras 1 to Keras 3),
// rebuilds the layer graph, infers each layer's output shapes and the
// weights its architecture implies, and reads the stored weights through a
// small [Store] interface.
//
// # Overview
//
// [Open] detects the file kind from its bytes, not its name: a legacy HDF5
// file (.h5, .hdf5, written by Keras 1, 2 and 3) or a Keras 3 zip archive
// (.keras). It returns a [File] whose Model field holds the decoded graph.
// [Decode] turns a model config JSON document into a [Model] without any
// file, which is what the fuzz tests and most unit tests use.
//
// Everything in this package except [Open] is pure Go: the HDF5 access is
// behind [Store], which package h5 implements with cgo and tests implement
// with in-memory fakes.
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
// objects and pickled arrays are reported, never run. Reading a legacy .h5
// file runs libhdf5's C parser (see package h5).
package keras
