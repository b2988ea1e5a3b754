//go:build libhdf5

package libh5

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"gonum.org/v1/hdf5"
)

// childEnv makes TestNoStderr run its workload in a child process, whose
// stderr (file descriptor 2, where libhdf5 prints from C) the parent reads.
const childEnv = "KERASCOPE_H5_TEST_CHILD"

func TestNoStderr(t *testing.T) {
	switch os.Getenv(childEnv) {
	case "quiet":
		failingLookups(t)
		return
	case "loud":
		// Control: printing switched on must show up, or the parent's
		// check proves nothing.
		f := openT(t, "attrs.h5")
		do(func() {
			hdf5.DisplayErrors(true)
			f.h.OpenGroup("/nope")
			hdf5.DisplayErrors(false)
		})
		return
	case "":
	default:
		t.Skip("child process of another test")
	}
	for _, mode := range []string{"quiet", "loud"} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestNoStderr$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), childEnv+"="+mode)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("%s child: %v\nstdout:\n%s\nstderr:\n%s", mode, err, stdout.Bytes(), stderr.Bytes())
		}
		if !strings.Contains(stdout.String(), "--- PASS: TestNoStderr") {
			t.Fatalf("%s child did not run the test:\n%s", mode, stdout.Bytes())
		}
		switch {
		case mode == "quiet" && stderr.Len() != 0:
			t.Errorf("failing lookups printed to stderr:\n%.2000s", stderr.Bytes())
		case mode == "loud" && !strings.Contains(stderr.String(), "HDF5-DIAG"):
			t.Errorf("control: libhdf5 printed nothing to stderr with printing on; the check is blind")
		}
	}
}

// failingLookups makes every kind of lookup fail, from several goroutines,
// some of them locked to fresh OS threads.
func failingLookups(t *testing.T) {
	f := openT(t, "attrs.h5")
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if g%2 == 0 {
				runtime.LockOSThread() // a thread libhdf5 has never seen
				defer runtime.UnlockOSThread()
			}
			for range 50 {
				checks := []error{
					second(f.StringAttr("/", "training_config")),
					second(f.StringsAttr("/model_weights/nope", "weight_names")),
					second(f.HasAttr("/nope/deeper", "x")),
					second(f.StringAttr("/data/f32/x", "a")),
					second(f.StringAttr("/", "float_array")),
					second(f.ReadFloat32("/data/i64", nil)),
					second(f.ReadFloat32("/data/f32", []int{1})),
					second(f.ReadFloat32("/links/external", nil)),
					third(f.Children("/missing/x")),
					third(f.DatasetShape("/data/null")),
					second(Open("testdata/truncated.h5")),
					second(Open("testdata/pickle.h5")),
				}
				for i, err := range checks {
					if err == nil {
						t.Errorf("check %d did not fail", i)
					}
				}
			}
		}()
	}
	wg.Wait()
}

func second[T any](_ T, err error) error        { return err }
func third[T, U any](_ T, _ U, err error) error { return err }

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
			return fmt.Errorf("StringsAttr(%q, %q) = %.40q, %v", obj, name, got, err)
		}
	}
	for p, want := range exp.Datasets {
		if want.Bits == nil {
			continue
		}
		got, err := f.ReadFloat32(p, want.Shape)
		if err != nil || len(got) != len(want.Bits) {
			return fmt.Errorf("ReadFloat32(%q) = %d values, %v", p, len(got), err)
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
			return fmt.Errorf("Children(%q) = %q, %q, %v", g, groups, datasets, err)
		}
	}
	if _, err := f.StringAttr("/", "missing"); !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("missing attribute: %v", err)
	}
	return nil
}

// TestVlenStringsFreed reads a 16,000-byte variable-length string 10,000
// times. Without H5free_memory that leaks 160 MB (gonum's Read leaks it).
func TestVlenStringsFreed(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	rss := func() int64 {
		b, err := os.ReadFile("/proc/self/statm")
		if err != nil {
			t.Skip("no /proc/self/statm")
		}
		fields := strings.Fields(string(b))
		pages, _ := strconv.ParseInt(fields[1], 10, 64)
		return pages * int64(os.Getpagesize())
	}
	f := openT(t, "attrs.h5")
	read := func(n int) {
		for range n {
			s, err := f.StringAttr("/", "vlen_long")
			if err != nil || len(s) != 16000 {
				t.Fatalf("StringAttr = %d bytes, %v", len(s), err)
			}
		}
	}
	read(500) // warm up allocators
	runtime.GC()
	before := rss()
	read(10000)
	runtime.GC()
	if grew := rss() - before; grew > 48<<20 {
		t.Errorf("RSS grew by %d MB over 10,000 reads", grew>>20)
	}
}

// The benchmarks measure the per-call overhead: the hop to the worker
// thread plus the component-by-component path walk.
func BenchmarkReadFloat32(b *testing.B) {
	f := openT(b, "attrs.h5")
	for b.Loop() {
		if _, err := f.ReadFloat32("/model_weights/dense 1:a/dense 1:a/kernel:0", []int{2, 3}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStringsAttr(b *testing.B) {
	f := openT(b, "attrs.h5")
	for b.Loop() {
		if _, err := f.StringsAttr("/model_weights", "layer_names"); err != nil {
			b.Fatal(err)
		}
	}
}

// TestDoPanic checks that a panic on the worker reaches the caller and
// leaves the worker running.
func TestDoPanic(t *testing.T) {
	func() {
		defer func() {
			if r := recover(); r != "boom" {
				t.Errorf("recovered %v, want boom", r)
			}
		}()
		do(func() { panic("boom") })
		t.Error("do returned after a panic")
	}()
	ran := false
	if err := do(func() { ran = true }); err != nil || !ran {
		t.Errorf("worker dead after a panic: %v, ran %v", err, ran)
	}
}
