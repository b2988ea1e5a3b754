package h5

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"slices"
	"sync"
	"testing"
)

// TestConcurrentReads reads everything in expected.json from several
// goroutines at once, through one shared File and through files of their
// own. Run with -race.
func TestConcurrentReads(t *testing.T) {
	exp := loadExpected(t)
	shared := openT(t, "attrs.h5")
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f := shared
			if g%2 == 1 {
				own, err := Open("testdata/attrs.h5")
				if err != nil {
					t.Error(err)
					return
				}
				defer own.Close()
				f = own
			}
			for range 20 {
				if err := readAll(f, exp); err != nil {
					t.Errorf("goroutine %d: %v", g, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func readAll(f *File, exp *expected) error {
	for key, want := range exp.Attrs {
		obj, name := splitAttr(key)
		got, err := f.StringsAttr(obj, name)
		w := want.Strings
		if want.String != nil {
			w = []string{*want.String}
		}
		if err != nil || !slices.Equal(got, w) {
			return fmt.Errorf("StringsAttr(%q, %q) = %.40q, %w", obj, name, got, err)
		}
	}
	for p, want := range exp.Datasets {
		if want.Bits == nil {
			continue
		}
		got, err := f.ReadFloat32(p, want.Shape)
		if err != nil || len(got) != len(want.Bits) {
			return fmt.Errorf("ReadFloat32(%q) = %d values, %w", p, len(got), err)
		}
		for i, b := range want.Bits {
			if math.Float32bits(got[i]) != b {
				return fmt.Errorf("ReadFloat32(%q)[%d] = %v", p, i, got[i])
			}
		}
	}
	for g, want := range exp.Children {
		groups, datasets, err := f.Children(g)
		if err != nil || !slices.Equal(groups, want.Groups) || !slices.Equal(datasets, want.Datasets) {
			return fmt.Errorf("Children(%q) = %q, %q, %w", g, groups, datasets, err)
		}
	}
	if _, err := f.StringAttr("/", "missing"); !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("missing attribute: %v", err)
	}
	return nil
}

// TestCloseWhileReading closes a file while other goroutines read it: each
// call either completes or fails with fs.ErrClosed. Run with -race.
func TestCloseWhileReading(t *testing.T) {
	exp := loadExpected(t)
	f, err := Open("testdata/attrs.h5")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				if err := readAll(f, exp); err != nil && !errors.Is(err, fs.ErrClosed) {
					t.Errorf("read during Close: %v", err)
					return
				}
			}
		}()
	}
	if err := f.Close(); err != nil {
		t.Error(err)
	}
	wg.Wait()
}

// TestReadFloat32OwnsResult: a float32 dataset's values are its bytes read
// in place (convert), and callers change them (the weight folds and
// packing do): writing over a result must not change what the next read
// of any dataset gives, in this file or in one whose blocks are cached.
func TestReadFloat32OwnsResult(t *testing.T) {
	exp := loadExpected(t)
	f := openT(t, "attrs.h5")
	n := 0
	for p, want := range exp.Datasets {
		if want.Bits == nil {
			continue
		}
		got, err := f.ReadFloat32(p, want.Shape)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		for i := range got {
			got[i] = float32(math.NaN())
		}
		n++
	}
	if n == 0 {
		t.Fatal("no float dataset in expected.json")
	}
	if err := readAll(f, exp); err != nil {
		t.Fatalf("after writing over the results: %v", err)
	}
}
