package main

import (
	"archive/zip"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBadInput checks that every kind of bad input gives one line on
// stderr naming the file and the problem, the right exit code, and
// nothing on stdout.
func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	h5file, err := os.ReadFile(filepath.Join(modelsDir, "rnn_1unit", "k3.h5"))
	if err != nil {
		t.Fatal(err)
	}
	kerasFile, err := os.ReadFile(filepath.Join(modelsDir, "rnn_1unit", "k3.keras"))
	if err != nil {
		t.Fatal(err)
	}
	var notKeras bytes.Buffer
	zw := zip.NewWriter(&notKeras)
	w, _ := zw.Create("hello.txt")
	w.Write([]byte("hello"))
	zw.Close()

	tests := []struct {
		name string
		path string
		code int
		msg  string // part of the one stderr line
	}{
		{"missing", filepath.Join(dir, "missing.h5"), exitError, "no such file"},
		{"directory", dir, exitError, "is a directory"},
		{"empty", write("empty.h5", nil), exitNotKeras, "empty file"},
		{"text", write("notes.h5", []byte("just some text\n")), exitNotKeras, "neither an HDF5 file nor a .keras archive"},
		{"pickle", write("model.h5", []byte("\x80\x04\x95\x1a\x00\x00")), exitNotKeras, "pickle"},
		{"truncated h5", write("truncated.h5", h5file[:len(h5file)/2]), exitError, "truncated"},
		{"truncated keras", write("truncated.keras", kerasFile[:len(kerasFile)/2]), exitError, "truncated or corrupt archive"},
		{"zip without config", write("other.keras", notKeras.Bytes()), exitNotKeras, "no config.json"},
		{"plain hdf5", "../../h5/testdata/attrs.h5", exitNotKeras, "not one Keras saved"},
		{"bad json", write("bad.keras", zipOf(t, map[string]string{"config.json": "{not json"})), exitError, "not valid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run([]string{"summary", tt.path}, &out, &errb)
			if code != tt.code {
				t.Errorf("exit code %d, want %d (stderr %q)", code, tt.code, errb.String())
			}
			if out.Len() != 0 {
				t.Errorf("stdout not empty: %q", out.String())
			}
			lines := strings.Split(strings.TrimSuffix(errb.String(), "\n"), "\n")
			if len(lines) != 1 {
				t.Fatalf("stderr has %d lines, want 1: %q", len(lines), errb.String())
			}
			if !strings.Contains(lines[0], tt.path) || !strings.Contains(lines[0], tt.msg) {
				t.Errorf("stderr %q does not name the file %q and %q", lines[0], tt.path, tt.msg)
			}
			if strings.Contains(lines[0], "HDF5-DIAG") || strings.Contains(lines[0], "code -1") {
				t.Errorf("stderr leaks HDF5 internals: %q", lines[0])
			}
		})
	}
}

func zipOf(t *testing.T, members map[string]string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for name, data := range members {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(data))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestUsage(t *testing.T) {
	model := filepath.Join(modelsDir, "rnn_1unit", "k3.keras")
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"no arguments", nil, exitUsage},
		{"unknown command", []string{"frobnicate"}, exitUsage},
		{"missing file", []string{"summary"}, exitUsage},
		{"two files", []string{"summary", model, model}, exitUsage},
		{"bad style", []string{"summary", "--style", "keras4", model}, exitUsage},
		{"unknown flag", []string{"summary", "--colour", model}, exitUsage},
		{"narrow", []string{"summary", "--line-length", "3", model}, exitUsage},
		{"help", []string{"help"}, exitOK},
		{"summary help", []string{"summary", "--help"}, exitOK},
		{"version", []string{"version"}, exitOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			if code := run(tt.args, &out, &errb); code != tt.code {
				t.Errorf("run(%q) = %d, want %d; stderr %q", tt.args, code, tt.code, errb.String())
			}
		})
	}
}
