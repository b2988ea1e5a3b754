package store

import (
	"errors"
	"fmt"
)

// ErrNotKeras is wrapped by errors about files that are not Keras models at
// all: an HDF5 file without model_config or layer_names, a zip without
// config.json, a pickle named .h5.
var ErrNotKeras = errors.New("not a Keras model")

// A FormatError reports a malformed or inconsistent model file: a config that
// is not JSON, a layer that lacks a required key, a weight of the wrong shape.
type FormatError struct {
	Msg string
	Err error // the underlying cause, if any

	// whole marks a Msg that already includes Err's text (Formatf).
	whole bool
}

func (e *FormatError) Error() string {
	if e.Err != nil && !e.whole {
		if e.Msg == "" {
			return e.Err.Error()
		}
		return e.Msg + ": " + e.Err.Error()
	}
	return e.Msg
}

func (e *FormatError) Unwrap() error { return e.Err }

// An UnsupportedError reports valid Keras that kerascope does not handle,
// such as a config value it cannot interpret.
type UnsupportedError struct {
	Msg string
}

func (e *UnsupportedError) Error() string { return "unsupported: " + e.Msg }

// Formatf returns a *FormatError whose message is formatted as fmt.Errorf
// would, wrapping a %w argument.
func Formatf(format string, args ...any) error {
	err := fmt.Errorf(format, args...)
	return &FormatError{Msg: err.Error(), Err: errors.Unwrap(err), whole: true}
}

// Unsupportedf returns an *UnsupportedError with a formatted message.
func Unsupportedf(format string, args ...any) error {
	return &UnsupportedError{Msg: fmt.Sprintf(format, args...)}
}
