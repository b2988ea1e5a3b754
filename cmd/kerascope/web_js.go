//go:build js

package main

import (
	"errors"
	"io"
)

// runWeb has nothing to serve inside the page that it would serve.
func runWeb(args []string, stdout, stderr io.Writer) error {
	return errors.New("web: not available in the browser build")
}
