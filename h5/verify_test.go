package h5

import (
	"bytes"
	"encoding/binary"
	"errors"
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
	for _, p := range modelFiles(roots...) {
		if strings.HasSuffix(p, ".keras") {
			if b := kerasMember(p); b != nil {
				out[p] = b
			}
		} else if b, err := os.ReadFile(p); err == nil {
			out[p] = b
		}
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

// TestVerifyCycle points a group's symbol table entry for a child group
// back at the root group: a cycle of hard links, which Verify must name
// rather than walk forever (reading paths through it is refused too).
func TestVerifyCycle(t *testing.T) {
	b, err := os.ReadFile("testdata/formats_earliest.h5")
	if err != nil {
		t.Fatal(err)
	}
	h, err := NewFile(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	groups, _, err := h.Children("/")
	if err != nil || len(groups) == 0 {
		t.Fatalf("no group under the root: %v %v", groups, err)
	}
	// The child's address, as the root's symbol table node stores it.
	var child link
	err = h.run("test", "/", func(o *op) error {
		root, err := o.object(h.root)
		if err != nil {
			return err
		}
		child, err = o.lookup(root, groups[0])
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var addr, root [8]byte
	binary.LittleEndian.PutUint64(addr[:], child.addr)
	binary.LittleEndian.PutUint64(root[:], h.root)
	snod := bytes.Index(b, []byte("SNOD"))
	i := bytes.Index(b[snod:], addr[:])
	if snod < 0 || i < 0 {
		t.Fatal("no symbol table node entry for the child group")
	}
	bad := bytes.Clone(b)
	copy(bad[snod+i:], root[:])
	h, err = NewFile(bytes.NewReader(bad), int64(len(bad)))
	if err != nil {
		t.Fatal(err)
	}
	err = h.Verify()
	var fe *FormatError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), "cycle") || fe.Object != "/"+groups[0] {
		t.Fatalf("Verify: %v, want a *FormatError naming /%s and a cycle", err, groups[0])
	}
	t.Log(err)
}
