// Package gvcache keeps go-graphviz's WebAssembly compilation cache in a
// directory of the user's own.
//
// go-graphviz compiles its Graphviz module in an init function and caches
// the result in $TMPDIR/go-graphviz, a directory it shares between users;
// when another user made it first, the init panics on the files it cannot
// read, so every kerascope command crashed for the second user of a
// machine. This package's init points TMPDIR at the user's cache directory
// for the length of go-graphviz's init, and Restore puts it back.
//
// The order is the language's: among packages whose imports are
// initialized, Go initializes them in import path order, and this
// package needs only os, path/filepath and strconv, which wazero (that
// go-graphviz waits for) needs too, while its import path sorts before
// wazero's (github.com/tetratelabs/...).
package gvcache

import (
	"os"
	"path/filepath"
	"strconv"
)

var tmpdir, hadTmpdir = os.LookupEnv("TMPDIR")

func init() {
	os.Setenv("TMPDIR", dir())
}

// dir is the user's cache directory for kerascope (~/.cache/kerascope),
// else a private directory in the system's temporary directory, else a
// path that cannot be created, so that go-graphviz runs without a cache.
func dir() string {
	if d, err := os.UserCacheDir(); err == nil {
		d = filepath.Join(d, "kerascope")
		if os.MkdirAll(d, 0o755) == nil {
			return d
		}
	}
	d := filepath.Join(os.TempDir(), "kerascope-"+strconv.Itoa(os.Getuid()))
	if err := os.Mkdir(d, 0o700); err == nil || isOwnDir(d) {
		return d
	}
	return filepath.Join(os.TempDir(), "kerascope-nocache", "none")
}

// isOwnDir reports whether d is a directory that the user can write.
func isOwnDir(d string) bool {
	f, err := os.CreateTemp(d, ".probe")
	if err != nil {
		return false
	}
	f.Close()
	os.Remove(f.Name())
	return true
}

// Restore gives TMPDIR back its value from before go-graphviz's init.
func Restore() {
	if hadTmpdir {
		os.Setenv("TMPDIR", tmpdir)
	} else {
		os.Unsetenv("TMPDIR")
	}
}
