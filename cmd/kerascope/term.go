package main

import (
	"os"

	"golang.org/x/term"
)

// termWidth returns the width of the terminal f is, if it is one.
func termWidth(f *os.File) (int, bool) {
	fd := int(f.Fd())
	if !term.IsTerminal(fd) {
		return 0, false
	}
	w, _, err := term.GetSize(fd)
	if err != nil || w <= 0 {
		return 0, false
	}
	return w, true
}
