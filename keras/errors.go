package keras

import "github.com/kerascope/kerascope/keras/store"

// The error types of every step of the model path are package store's;
// these names are how callers of keras know them.
type (
	// A FormatError reports a malformed or inconsistent model file: a
	// config that is not JSON, a layer that lacks a required key, a
	// weight of the wrong shape.
	FormatError = store.FormatError
	// An UnsupportedError reports valid Keras that kerascope does not
	// handle, such as a config value it cannot interpret.
	UnsupportedError = store.UnsupportedError
)

// ErrNotKeras is wrapped by errors about files that are not Keras models at
// all: an HDF5 file without model_config or layer_names, a zip without
// config.json, a pickle named .h5.
var ErrNotKeras = store.ErrNotKeras

func formatErrorf(format string, args ...any) error { return store.Formatf(format, args...) }

func unsupportedf(format string, args ...any) error { return store.Unsupportedf(format, args...) }
