package h5

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.h5")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo.h5")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	// h5py records the end-of-file address in the superblock, so the
	// truncation shows at open, with both sizes.
	truncated := fmt.Sprintf("h5: open testdata/truncated.h5: malformed HDF5: truncated file: %d bytes, the superblock says %d",
		fileSize(t, "testdata/truncated.h5"), fileSize(t, "testdata/attrs.h5"))
	tests := []struct {
		name, path string
		is         error  // errors.Is target, nil for success
		msg        string // substring of the error
	}{
		{"ok", "testdata/attrs.h5", nil, ""},
		{"user block", "testdata/userblock.h5", nil, ""},
		{"pickle", "testdata/pickle.h5", ErrNotHDF5, "h5: open testdata/pickle.h5: not an HDF5 file"},
		{"empty", empty, ErrNotHDF5, "not an HDF5 file"},
		{"missing", "testdata/missing.h5", fs.ErrNotExist, "h5: open testdata/missing.h5: no such file or directory"},
		{"directory", "testdata", nil, "h5: open testdata: is a directory"},
		{"fifo", fifo, nil, "not a regular file"},
		{"truncated", "testdata/truncated.h5", nil, truncated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Open(tt.path)
			if tt.msg == "" {
				if err != nil {
					t.Fatal(err)
				}
				if err := f.Close(); err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				f.Close()
				t.Fatalf("Open(%q) succeeded", tt.path)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("Open(%q) = %v, want %q in it", tt.path, err, tt.msg)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("Open(%q) = %v, does not wrap %v", tt.path, err, tt.is)
			}
			var e *Error
			if !errors.As(err, &e) || e.Op != "open" || e.Path != tt.path {
				t.Errorf("Open(%q) error %#v is not an *Error{Op: open}", tt.path, err)
			}
		})
	}
}

func fileSize(t *testing.T, name string) int64 {
	fi, err := os.Stat(name)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

func TestUserblock(t *testing.T) {
	f, exp := openT(t, "userblock.h5"), loadExpected(t)
	got, err := f.StringAttr("/", "where")
	if err != nil || got != exp.Userblock {
		t.Errorf("StringAttr = %q, %v; want %q", got, err, exp.Userblock)
	}
}

func TestClose(t *testing.T) {
	f, err := Open("testdata/attrs.h5")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("second Close = %v, want fs.ErrClosed", err)
	}
	if _, err := f.StringAttr("/", "vlen_ascii"); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("StringAttr after Close = %v, want fs.ErrClosed", err)
	}
	if _, err := f.ReadFloat32("/data/f32", nil); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("ReadFloat32 after Close = %v, want fs.ErrClosed", err)
	}
	var nilFile *File
	if _, _, err := nilFile.Children("/"); !errors.Is(err, fs.ErrInvalid) {
		t.Errorf("Children on a nil *File = %v, want fs.ErrInvalid", err)
	}
}

// TestFloat16Table compares the conversion of every float16 bit pattern
// with NumPy's astype(np.float32), stored by gen.py; both datasets are
// chunked and gzip-compressed, which also exercises filtered reads.
func TestFloat16Table(t *testing.T) {
	f := openT(t, "float16.h5")
	got, err := f.ReadFloat32("/f16", []int{65536})
	if err != nil {
		t.Fatal(err)
	}
	want, err := f.ReadFloat32("/f32", []int{65536})
	if err != nil {
		t.Fatal(err)
	}
	bad := 0
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			if bad++; bad <= 10 {
				t.Errorf("float16 %#04x: got %#08x (%v), want %#08x (%v)", i,
					math.Float32bits(got[i]), got[i], math.Float32bits(want[i]), want[i])
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of 65536 conversions differ", bad)
	}
}
