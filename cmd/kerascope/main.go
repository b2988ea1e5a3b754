//go:build !js

// Command kerascope inspects saved Keras models (.h5 and .keras) without
// Python: it prints model.summary() exactly as Keras prints it.
//
// Usage:
//
//	kerascope summary [--style keras3|keras2] [--line-length N] FILE
//
// Exit codes: 0 success, 1 error, 2 usage error, 3 not a Keras model.
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}
