//go:build libhdf5

package h5

// The differential test: every HDF5 file this project has, read through
// this package and through libhdf5 (package libh5, the previous backend),
// must give the same groups, attributes and tensors, bit for bit. Run it
// with `go test -tags libhdf5 -run Differential ./h5` (make test does).

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kerascope/kerascope/h5/internal/libh5"
)

// corpusDir holds real-world models (see its README); absent on most
// machines.
const corpusDir = "../../shared/corpus/files"

// h5Inputs lists every .h5 and .keras file the differential test reads.
func h5Inputs(t testing.TB) []string {
	return modelFiles("testdata", "../testdata", corpusDir)
}

// weightsMember returns the model.weights.h5 member of a .keras archive,
// or nil when it has none.
func weightsMember(t testing.TB, path string) []byte {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return nil
	}
	defer zr.Close()
	for _, f := range zr.File {
		if f.Name != "model.weights.h5" || f.UncompressedSize64 > 1<<30 {
			continue
		}
		r, err := f.Open()
		if err != nil {
			return nil
		}
		b, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			return nil
		}
		return b
	}
	return nil
}

// reader is what both backends offer.
type reader interface {
	HasAttr(obj, name string) (bool, error)
	StringAttr(obj, name string) (string, error)
	StringsAttr(obj, name string) ([]string, error)
	Children(group string) (groups, datasets []string, err error)
	DatasetShape(path string) (shape []int, dtype string, err error)
	ReadFloat32(path string, want []int) ([]float32, error)
}

func TestDifferential(t *testing.T) {
	files := h5Inputs(t)
	if _, err := os.Stat(corpusDir); err != nil {
		t.Logf("corpus %s absent: only the fixtures are compared", corpusDir)
	}
	var nfiles, nobjs, nattrs, nvalues int
	for _, path := range files {
		t.Run(path, func(t *testing.T) {
			h5path := path
			var mine *File
			var err error
			if strings.HasSuffix(path, ".keras") {
				b := weightsMember(t, path)
				if b == nil {
					t.Skip("no model.weights.h5 member")
				}
				h5path = filepath.Join(t.TempDir(), "model.weights.h5")
				if err := os.WriteFile(h5path, b, 0o600); err != nil {
					t.Fatal(err)
				}
				mine, err = NewFile(bytes.NewReader(b), int64(len(b)))
			} else {
				mine, err = Open(path)
			}
			theirs, oerr := libh5.Open(h5path)
			if (err == nil) != (oerr == nil) {
				t.Fatalf("open: pure Go %v, libhdf5 %v", err, oerr)
			}
			if err != nil {
				return // both refuse the file
			}
			defer mine.Close()
			defer theirs.Close()
			c := &comparer{t: t, mine: mine, theirs: theirs}
			c.walk("/", 0)
			nfiles++
			nobjs += c.objs
			nattrs += c.attrs
			nvalues += c.values
		})
	}
	t.Logf("%d files, %d objects, %d attributes, %d tensor values identical", nfiles, nobjs, nattrs, nvalues)
	if nfiles < 100 {
		t.Errorf("only %d files compared", nfiles)
	}
}

type comparer struct {
	t                   *testing.T
	mine                *File
	theirs              reader
	objs, attrs, values int
}

func (c *comparer) walk(p string, depth int) {
	t := c.t
	if depth > 32 {
		t.Fatalf("%s: groups nested deeper than 32", p)
	}
	c.objs++
	c.compareAttrs(p)
	g1, d1, err1 := c.mine.Children(p)
	g2, d2, err2 := c.theirs.Children(p)
	if !sameErr(err1, err2) || !slices.Equal(g1, g2) || !slices.Equal(d1, d2) {
		t.Fatalf("Children(%q):\npure Go %q %q %v\nlibhdf5 %q %q %v", p, g1, d1, err1, g2, d2, err2)
	}
	for _, d := range d1 {
		c.compareDataset(joinPath(p, d))
	}
	for _, g := range g1 {
		c.walk(joinPath(p, g), depth+1)
	}
}

func (c *comparer) compareAttrs(p string) {
	t := c.t
	names, err := c.mine.attrNames(p)
	if err != nil {
		t.Fatalf("attrNames(%q): %v", p, err)
	}
	for _, name := range names {
		c.attrs++
		ok1, err1 := c.mine.HasAttr(p, name)
		ok2, err2 := c.theirs.HasAttr(p, name)
		if ok1 != ok2 || !ok1 || !sameErr(err1, err2) {
			t.Errorf("HasAttr(%q, %q): pure Go %v %v, libhdf5 %v %v", p, name, ok1, err1, ok2, err2)
		}
		s1, err1 := c.mine.StringAttr(p, name)
		s2, err2 := c.theirs.StringAttr(p, name)
		if s1 != s2 || !sameErr(err1, err2) {
			t.Errorf("StringAttr(%q, %q):\npure Go %.80q %v\nlibhdf5 %.80q %v", p, name, s1, err1, s2, err2)
		}
		ss1, err1 := c.mine.StringsAttr(p, name)
		ss2, err2 := c.theirs.StringsAttr(p, name)
		if !slices.Equal(ss1, ss2) || !sameErr(err1, err2) {
			t.Errorf("StringsAttr(%q, %q):\npure Go %.80q %v\nlibhdf5 %.80q %v", p, name, ss1, err1, ss2, err2)
		}
	}
	for _, name := range []string{"no_such_attribute", "dtype"} {
		ok1, err1 := c.mine.HasAttr(p, name)
		ok2, err2 := c.theirs.HasAttr(p, name)
		if ok1 != ok2 || !sameErr(err1, err2) {
			t.Errorf("HasAttr(%q, %q): pure Go %v %v, libhdf5 %v %v", p, name, ok1, err1, ok2, err2)
		}
	}
}

func (c *comparer) compareDataset(p string) {
	t := c.t
	c.objs++
	c.compareAttrs(p)
	s1, dt1, err1 := c.mine.DatasetShape(p)
	s2, dt2, err2 := c.theirs.DatasetShape(p)
	if !slices.Equal(s1, s2) || dt1 != dt2 || !sameErr(err1, err2) {
		t.Errorf("DatasetShape(%q): pure Go %v %q %v, libhdf5 %v %q %v", p, s1, dt1, err1, s2, dt2, err2)
		return
	}
	v1, err1 := c.mine.ReadFloat32(p, nil)
	v2, err2 := c.theirs.ReadFloat32(p, nil)
	if !sameErr(err1, err2) || len(v1) != len(v2) {
		t.Errorf("ReadFloat32(%q): pure Go %d values %v, libhdf5 %d values %v", p, len(v1), err1, len(v2), err2)
		return
	}
	for i := range v1 {
		if math.Float32bits(v1[i]) != math.Float32bits(v2[i]) {
			t.Errorf("ReadFloat32(%q)[%d]: pure Go %#08x, libhdf5 %#08x", p, i, math.Float32bits(v1[i]), math.Float32bits(v2[i]))
			return
		}
	}
	c.values += len(v1)
}

// sameErr: both nil, or both failed (the texts differ: libhdf5's are its
// own) with the same fs.ErrNotExist-ness.
func sameErr(a, b error) bool {
	if (a == nil) != (b == nil) {
		return false
	}
	return errors.Is(a, fs.ErrNotExist) == errors.Is(b, fs.ErrNotExist)
}
