//go:build js

package main

import (
	"errors"
	"io"
)

// serveCommand is a stand-in in the browser build, which has no server:
// see serve.go.
func serveCommand() *command {
	return &command{name: "serve", short: "serve models over TensorFlow Serving's REST API (not in the browser build)",
		run: func(args []string, stdout, stderr io.Writer) error {
			return errors.New("serve: not part of the browser build; run the kerascope command")
		}}
}
