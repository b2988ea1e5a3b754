package h5

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// corpusDirs hold real-world Keras files (../shared/corpus, absent on most
// machines).
var corpusDirs = []string{"../../shared/corpus/files", "../../shared/corpus/incoming/files"}

// hdf5Images returns the HDF5 images under roots (.h5 files, and the
// model.weights.h5 member of .keras archives) by path.
func hdf5Images(roots ...string) map[string][]byte {
	out := map[string][]byte{}
	for _, root := range roots {
		filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil // an absent directory
			}
			switch {
			case strings.HasSuffix(p, ".h5"):
				if b, err := os.ReadFile(p); err == nil {
					out[p] = b
				}
			case strings.HasSuffix(p, ".keras"):
				if b := kerasMember(p); b != nil {
					out[p] = b
				}
			}
			return nil
		})
	}
	return out
}

// TestVerifyValid verifies every file that real Keras, h5py and libhdf5
// wrote: the fixtures, the malformed fixtures whose HDF5 is intact (their
// damage is in the model), and the corpus. None may be refused.
func TestVerifyValid(t *testing.T) {
	images := hdf5Images(append([]string{"testdata", "../testdata"}, corpusDirs...)...)
	n := 0
	for p, b := range images {
		h, err := NewFile(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			continue // not HDF5 or truncated: Open's own tests cover these
		}
		n++
		if err := h.Verify(); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	if n < 50 {
		t.Errorf("only %d files verified", n)
	}
}

// TestVerifyHostile verifies every file of ../shared/hostile: each is
// damaged in its HDF5 structure, and Verify must say where, with a
// *FormatError naming the object, except weights_bias_2p30_fill.keras,
// whose HDF5 is well-formed (a bias declared as 2^30 floats never
// written, which HDF5 allows; the model binding refuses it).
func TestVerifyHostile(t *testing.T) {
	images := hdf5Images(hostileDir)
	if len(images) == 0 {
		t.Skipf("%s absent", hostileDir)
	}
	for p, b := range images {
		h, err := NewFile(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		err = h.Verify()
		if strings.HasSuffix(p, "weights_bias_2p30_fill.keras") {
			if err != nil {
				t.Errorf("%s: %v", p, err)
			}
			continue
		}
		var fe *FormatError
		switch {
		case err == nil:
			t.Errorf("%s: verified", p)
		case !errors.As(err, &fe) || !strings.HasPrefix(fe.Object, "/"):
			t.Errorf("%s: %v, want a *FormatError naming an object", p, err)
		default:
			t.Logf("%s: %v", filepath.Base(p), err)
		}
	}
}
