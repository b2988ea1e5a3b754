package h5

// Fuzz targets for the reader. FuzzOpen opens bytes as a file and visits
// everything; the others aim at one parser each, on a file image and the
// address of the structure to decode. All are seeded from every .h5 under
// testdata (and the model.weights.h5 member of every .keras fixture), from
// ../../shared/hostile when present, and from the regression seeds in
// testdata/fuzz. Run them with `make fuzz`.

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const hostileDir = "../../shared/hostile"

// maxSeedBytes keeps seeds small enough for the fuzzer to mutate quickly.
const maxSeedBytes = 256 << 10

// seedFiles returns the HDF5 images the fuzz targets start from.
func seedFiles(t testing.TB) [][]byte {
	var seeds [][]byte
	for _, p := range modelFiles("testdata", "../testdata", hostileDir) {
		var b []byte
		if strings.HasSuffix(p, ".keras") {
			b = kerasMember(p)
		} else if raw, err := os.ReadFile(p); err == nil {
			b = raw
		}
		if b != nil && len(b) <= maxSeedBytes {
			seeds = append(seeds, b)
		}
	}
	if len(seeds) < 50 {
		t.Fatalf("only %d seed files", len(seeds))
	}
	return seeds
}

// modelFiles lists the .h5 and .keras files under roots, absent roots
// included. Directories whose names start with a dot are skipped: they
// are git-ignored outputs (the generator's venvs, whose packages ship
// their own .h5 files, and the benchmark's and zoo's models, gigabytes
// of them), not the project's test files.
func modelFiles(roots ...string) []string {
	var files []string
	for _, root := range roots {
		filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil // an absent directory
			}
			if d.IsDir() && p != root && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			if !d.IsDir() && (strings.HasSuffix(p, ".h5") || strings.HasSuffix(p, ".keras")) {
				files = append(files, p)
			}
			return nil
		})
	}
	return files
}

// kerasMember returns the model.weights.h5 of a .keras archive, or nil.
func kerasMember(path string) []byte {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return nil
	}
	defer zr.Close()
	for _, f := range zr.File {
		if f.Name != "model.weights.h5" || f.UncompressedSize64 > maxSeedBytes {
			continue
		}
		r, err := f.Open()
		if err != nil {
			return nil
		}
		defer r.Close()
		b, err := io.ReadAll(io.LimitReader(r, maxSeedBytes+1))
		if err != nil {
			return nil
		}
		return b
	}
	return nil
}

// smallLimits makes every call cheap, so the fuzzer finds bounds that do
// not hold rather than slow inputs that respect them.
func smallLimits(t testing.TB) {
	repanic = true // a recovered panic would hide the bug from the fuzzer
	t.Cleanup(func() { repanic = false })
	old := [...]int64{MaxReadBytes, MaxAttrBytes, MaxMetadataBytes, MaxFillBytes, int64(maxSteps)}
	MaxReadBytes, MaxAttrBytes, MaxMetadataBytes, MaxFillBytes, maxSteps = 1<<20, 1<<20, 4<<20, 1<<20, 1<<14
	t.Cleanup(func() {
		MaxReadBytes, MaxAttrBytes, MaxMetadataBytes, MaxFillBytes, maxSteps = old[0], old[1], old[2], old[3], int(old[4])
	})
}

func FuzzOpen(f *testing.F) {
	for _, b := range seedFiles(f) {
		f.Add(b)
	}
	smallLimits(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := NewFile(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		visit(h, "/", 0, new(int))
		if err := h.Close(); err != nil {
			t.Fatal(err)
		}
	})
}

// visit calls every method on every object reachable from p, at most
// about 300 calls in all (each call is bounded on its own); errors are
// expected, panics and hangs are what the fuzzer looks for.
func visit(h *File, p string, depth int, calls *int) {
	spend := func(n int) bool { *calls += n; return *calls <= 300 }
	if depth > 16 || !spend(2) {
		return
	}
	names, _ := h.attrNames(p)
	for _, n := range append(names, "dtype") {
		if !spend(3) {
			return
		}
		h.HasAttr(p, n)
		h.StringAttr(p, n)
		h.StringsAttr(p, n)
	}
	groups, datasets, _ := h.Children(p)
	for _, d := range datasets {
		if !spend(3) {
			return
		}
		dp := joinPath(p, d)
		h.attrNames(dp)
		h.DatasetShape(dp)
		h.ReadFloat32(dp, nil)
	}
	for _, g := range groups {
		visit(h, joinPath(p, g), depth+1, calls)
	}
}

// structureSeeds pairs each seed file with the addresses of the
// structures that start with sig in it (at most a few per file).
func structureSeeds(f *testing.F, sigs ...string) {
	for _, b := range seedFiles(f) {
		for _, sig := range sigs {
			n := 0
			for i := 0; n < 4; n++ {
				j := bytes.Index(b[i:], []byte(sig))
				if j < 0 {
					break
				}
				f.Add(b, uint64(i+j))
				i += j + 1
			}
		}
	}
}

// rawFile is a File over b with 8-byte offsets and lengths and no
// superblock, for the per-structure targets.
func rawFile(b []byte) *File {
	return &File{r: bytes.NewReader(b), size: int64(len(b)), so: 8, sl: 8}
}

func FuzzSuperblock(f *testing.F) {
	for _, b := range seedFiles(f) {
		f.Add(b[:min(len(b), 512)])
	}
	smallLimits(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		NewFile(bytes.NewReader(b), int64(len(b)))
	})
}

func FuzzObjectHeader(f *testing.F) {
	structureSeeds(f, "OHDR", "\x01\x00")
	smallLimits(f)
	f.Fuzz(func(t *testing.T, b []byte, addr uint64) {
		o := rawFile(b).newOp("/x")
		ob, err := o.object(addr)
		if err != nil {
			return
		}
		ob.kind()
		o.links(ob)
		names, _ := o.attrNames(ob)
		for _, n := range names {
			if a, err := o.findAttr(ob, n); err == nil && a != nil {
				if n, ok := a.count(); ok && a.typ.class == classString {
					o.readStrings(a, n)
				}
			}
		}
		ds := &dataset{obj: ob}
		if tm, sm := ob.first(msgDatatype), ob.first(msgDataspace); tm != nil && sm != nil {
			if ds.typ, _, err = o.datatype(tm.data, 0); err != nil {
				return
			}
			if ds.space, err = o.dataspace(sm.data); err != nil {
				return
			}
			if dims, err := datasetDims(ds.space); err == nil {
				if n, err := numElements(dims, 1<<20); err == nil {
					o.readData(ds, dims, n)
				}
			}
		}
	})
}

func FuzzBTree(f *testing.F) {
	structureSeeds(f, "TREE", "BTHD")
	smallLimits(f)
	f.Fuzz(func(t *testing.T, b []byte, addr uint64) {
		o := rawFile(b).newOp("/x")
		o.btreeV1(addr, 0, func(uint64, []byte) error { return nil })
		o.btreeV1(addr, 1, func(uint64, []byte) error { return nil }, 3)
		o.btree2Records(addr, func([]byte) error { return nil })
	})
}

func FuzzHeaps(f *testing.F) {
	structureSeeds(f, "HEAP", "SNOD", "GCOL", "FRHP")
	smallLimits(f)
	f.Fuzz(func(t *testing.T, b []byte, addr uint64) {
		o := rawFile(b).newOp("/x")
		if heap, err := o.localHeap(addr); err == nil {
			var links []link
			o.symbolNode(addr, heap, &links)
			o.heapString(heap, addr%uint64(len(heap)+1))
		}
		for i := uint32(0); i < 4; i++ {
			o.globalHeapObject(addr, i)
		}
		if h, err := o.fractalHeap(addr); err == nil {
			for _, id := range [][]byte{{0, 0, 0, 0, 0, 8, 0}, {0, 16, 0, 0, 0, 9, 0, 0}, {0x21, 'a', 'b'}} {
				o.heapObject(h, id)
			}
		}
	})
}

func FuzzAttribute(f *testing.F) {
	structureSeeds(f, "\x01\x00", "\x03\x00")
	smallLimits(f)
	f.Fuzz(func(t *testing.T, b []byte, addr uint64) {
		o := rawFile(b).newOp("/x")
		if addr >= uint64(len(b)) {
			return
		}
		msg := b[addr:]
		for _, name := range []string{"model_config", "weight_names", "layer_names", "dtype"} {
			a, err := o.decodeAttr(msg, name)
			if err != nil || a == nil {
				continue
			}
			if n, ok := a.count(); ok {
				o.readStrings(a, n)
			}
		}
	})
}

func FuzzDatasetRead(f *testing.F) {
	structureSeeds(f, "\x01\x00", "OHDR")
	smallLimits(f)
	f.Fuzz(func(t *testing.T, b []byte, addr uint64) {
		o := rawFile(b).newOp("/x")
		ob, err := o.object(addr)
		if err != nil {
			return
		}
		ds := &dataset{obj: ob}
		tm, sm := ob.first(msgDatatype), ob.first(msgDataspace)
		if tm == nil || sm == nil {
			return
		}
		if ds.typ, _, err = o.datatype(tm.data, 0); err != nil {
			return
		}
		if ds.space, err = o.dataspace(sm.data); err != nil {
			return
		}
		o.dtypeOf(ds)
		dims, err := datasetDims(ds.space)
		if err != nil {
			return
		}
		n, err := numElements(dims, 1<<20)
		if err != nil {
			return
		}
		if raw, err := o.readData(ds, dims, n); err == nil && uint64(len(raw)) != n*uint64(ds.typ.size) {
			t.Fatalf("readData returned %d bytes for %d elements of %d", len(raw), n, ds.typ.size)
		}
	})
}

// FuzzVerify verifies whole files and holds Verify to its word: in a file
// it accepts, listing every group, inspecting every dataset and finding
// every attribute by name give no *FormatError (a dataset may still be
// refused for what it is, such as a null dataspace).
func FuzzVerify(f *testing.F) {
	for _, b := range seedFiles(f) {
		f.Add(b)
	}
	smallLimits(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := NewFile(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		defer h.Close()
		if err := h.Verify(); err != nil {
			return
		}
		calls := 0
		var walk func(p string, depth int)
		walk = func(p string, depth int) {
			if calls++; calls > 300 || depth > 16 {
				return
			}
			malformed := func(err error) {
				var fe *FormatError
				if errors.As(err, &fe) {
					t.Fatalf("verified, but %v", err)
				}
			}
			names, err := h.attrNames(p)
			malformed(err)
			for _, n := range names {
				ok, err := h.HasAttr(p, n)
				malformed(err)
				if !ok && err == nil {
					t.Fatalf("verified, but attribute %s@%s not found", p, n)
				}
			}
			groups, datasets, err := h.Children(p)
			malformed(err)
			for _, d := range datasets {
				_, _, err := h.DatasetShape(joinPath(p, d))
				malformed(err)
			}
			for _, g := range groups {
				walk(joinPath(p, g), depth+1)
			}
		}
		walk("/", 0)
	})
}
