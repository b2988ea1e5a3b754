package keras

import (
	"errors"
	"path/filepath"
	"runtime"
	"testing"
	"unsafe"
)

func sameArray(a, b []float32) bool { return unsafe.SliceData(a) == unsafe.SliceData(b) }

// inSlab reports whether d lies in a's slab.
func inSlab(a *arena, d []float32) bool {
	if len(a.slab) == 0 || len(d) == 0 {
		return false
	}
	p, lo := uintptr(unsafe.Pointer(unsafe.SliceData(d))), uintptr(unsafe.Pointer(unsafe.SliceData(a.slab)))
	return p >= lo && p < lo+uintptr(len(a.slab))*4
}

// TestArena follows ranges of a slab through the references a run takes:
// a range comes back only when no value holds it or a view of it, comes
// back cleared, merges with the free ranges beside it, and an output held
// when the run ends leaves the slab for the caller.
func TestArena(t *testing.T) {
	a := newArena()
	a.reserve(100)
	x := a.tensor(2, 3)
	x.Data[0] = 7
	view := &Tensor{Shape: []int{3}, Data: x.Data[3:]} // a layer's view of x
	a.hold([]*Tensor{x})
	a.hold([]*Tensor{view})
	a.drop([]*Tensor{x})
	other := a.tensor(2, 3) // handed out, never held
	if !inSlab(a, x.Data) || !inSlab(a, other.Data) {
		t.Fatal("requests that fit were not served from the slab")
	}
	if sameArray(other.Data, x.Data) {
		t.Fatal("a range a view still holds was handed out again")
	}
	a.drop([]*Tensor{view})
	y := a.tensor(6)
	if !sameArray(y.Data, x.Data) {
		t.Fatal("the range nobody holds, the best fit, was not reused")
	}
	if y.Data[0] != 0 {
		t.Fatal("a reused range was not cleared")
	}
	// y is an output: held when the run ends, and the caller's after.
	a.hold([]*Tensor{y})
	y.Data[1] = 5
	a.tensor(6) // scratch: handed out, never held
	a.finish([]*Tensor{y})
	if inSlab(a, y.Data) || y.Data[1] != 5 || len(y.Data) != 6 {
		t.Fatalf("an output was not copied out of the slab whole (in slab %v, %v)", inSlab(a, y.Data), y.Data)
	}
	if len(a.holes) != 1 || a.holes[0] != (span{0, len(a.slab)}) {
		t.Fatalf("after a run the whole slab must be free, got %v of %d", a.holes, len(a.slab))
	}
	// Free ranges merge: three neighbours freed in the order outer,
	// outer, middle make one range that serves their total.
	p, q, r := a.tensor(16), a.tensor(16), a.tensor(16)
	for _, u := range []*Tensor{p, r, q} {
		a.hold([]*Tensor{u})
		a.drop([]*Tensor{u})
	}
	if z := a.tensor(48); !sameArray(z.Data, p.Data) {
		t.Fatalf("three freed neighbours did not serve a request for their total: %v", a.holes)
	}
	a.finish(nil)
	// A request the slab cannot hold is allocated on its own, and the
	// run ends with a slab that holds what the run had at once.
	big := a.tensor(1000)
	if inSlab(a, big.Data) || !a.short {
		t.Fatal("a request larger than the slab came from it")
	}
	a.finish(nil)
	if len(a.slab) < 1000 {
		t.Fatalf("after a short run the slab holds %d floats, want at least 1000", len(a.slab))
	}
	if z := a.tensor(1000); !inSlab(a, z.Data) {
		t.Fatal("the grown slab did not serve the request that was short")
	}
	a.finish(nil)
	// Tensors the arena did not make are never held or recycled.
	w := NewTensor(6)
	a.hold([]*Tensor{w})
	a.drop([]*Tensor{w})
	if a.holds != 0 {
		t.Fatalf("%d references on a tensor the arena does not own", a.holds)
	}
	if z := a.tensor(6); sameArray(z.Data, w.Data) {
		t.Fatal("the arena recycled a tensor it did not make")
	}
}

// TestArenaSteadyState checks that the arena does its job: once warm, a
// prediction allocates a small fraction of the model's activations (what
// remains is the outputs and the layers that do not draw from the arena).
func TestArenaSteadyState(t *testing.T) {
	if raceEnabled {
		// The race detector makes sync.Pool drop a random quarter of
		// what is put back, so the scratch buffers are allocated again
		// and again: the count would measure the detector.
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	for _, path := range []string{
		filepath.Join(modelsDir, "bench_cnn", "k3.keras"),
		filepath.Join(tfkDir, "mobilenet_fn", "tf215.keras"), // residual adds, folded paddings
	} {
		t.Run(filepath.Base(filepath.Dir(path)), func(t *testing.T) {
			net, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			x := NewTensor(append([]int{1}, net.Inputs()[0].Shape[1:]...)...)
			// The activations' volume: every call's outputs, one sample.
			var volume int
			for _, n := range net.order[net.Model] {
				for _, s := range n.Outputs {
					if len(s) == 0 {
						continue
					}
					if k, ok := append(Shape{1}, s[1:]...).Size(); ok {
						volume += 4 * int(k)
					}
				}
			}
			warm := func() int {
				// Parts of a split run on either CPU, and the scratch
				// pools keep buffers per CPU: a few runs warm them all.
				for range 5 {
					if _, err := net.Predict(x); err != nil {
						t.Fatal(err)
					}
				}
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				const runs = 5
				for range runs {
					if _, err := net.Predict(x); err != nil {
						t.Fatal(err)
					}
				}
				runtime.ReadMemStats(&after)
				return int(after.TotalAlloc-before.TotalAlloc) / runs
			}
			with := warm()
			arenaAtRun = false
			without := warm()
			arenaAtRun = true
			t.Logf("activations %d bytes; a warm prediction allocates %d bytes with the arena, %d without", volume, with, without)
			if without-with < volume/4 {
				t.Errorf("the arena saves %d bytes a prediction, of %d bytes of activations", without-with, volume)
			}
		})
	}
}

// TestArenaReuseWritesAll runs every fixture twice on one Net, the second
// time with reused output buffers filled with NaN (poisonReuse): a layer
// that takes an uncleared output (arena.output) and leaves part of it
// unwritten would give NaN there, where the first run, on fresh zeroed
// memory, did not.
func TestArenaReuseWritesAll(t *testing.T) {
	poisonReuse = true
	defer func() { poisonReuse = false }()
	for _, fx := range predictFixtures(t) {
		t.Run(fx.name, func(t *testing.T) {
			net, err := Load(fx.path)
			if err != nil {
				var nr *NotRunnableError
				if errors.As(err, &nr) {
					return
				}
				t.Fatal(err)
			}
			var in []*Tensor
			for _, p := range fx.inputs {
				in = append(in, readNPYFile(t, p))
			}
			first, err := net.Predict(in...)
			if err != nil {
				t.Fatal(err)
			}
			again, err := net.Predict(in...)
			if err != nil {
				t.Fatal(err)
			}
			for i := range first {
				if !sameBits(first[i].Data, again[i].Data) {
					t.Errorf("output %d differs when the run reuses buffers", i)
				}
			}
		})
	}
}

// TestArenaDonor: a merge may write over an input only when the run
// computed it, this step is its last reader, its buffer is held by that
// value alone, and the tensor starts the buffer.
func TestArenaDonor(t *testing.T) {
	src := &Layer{Name: "src"}
	src.Nodes = []*Node{{Layer: src}}
	node := src.Nodes[0]
	refs := []TensorRef{{Layer: src}}
	yes := func(*Node) bool { return true }
	for _, c := range []struct {
		name     string
		holds    int
		view     bool // the input is a view past the buffer's start
		released []*Node
		ours     func(*Node) bool
		want     bool
	}{
		{"last reader, sole holder", 1, false, []*Node{node}, yes, true},
		{"read again later", 1, false, nil, yes, false},
		{"held twice (a fold's alias, a view's value)", 2, false, []*Node{node}, yes, false},
		{"a view past the start", 1, true, []*Node{node}, yes, false},
		{"a model input (its caller's value)", 1, false, []*Node{node}, func(*Node) bool { return false }, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := newArena()
			a.reserve(64)
			x := a.tensor(16)
			in := x
			if c.view {
				in = &Tensor{Shape: []int{8}, Data: x.Data[8:]}
			}
			for range c.holds {
				a.hold([]*Tensor{in})
			}
			got := a.donor(refs, []*Tensor{in}, c.released, c.ours)
			if (got != nil) != c.want {
				t.Fatalf("donor = %v, want %v", got != nil, c.want)
			}
		})
	}
	// Keyword inputs make in shorter than refs: no donor.
	a := newArena()
	x := a.tensor(16)
	a.hold([]*Tensor{x})
	if a.donor(append(refs, refs[0]), []*Tensor{x}, []*Node{node}, yes) != nil {
		t.Fatal("a donor with inputs not parallel to refs")
	}
}

// TestLiveEstimateBounded: the estimate from the config's shapes is only
// a hint; beyond maxReserve, or far beyond the run's input, it is none.
func TestLiveEstimateBounded(t *testing.T) {
	net := &Net{livePerSample: 1000}
	for _, c := range []struct{ batch, in, want int }{
		{4, 400, 4000},
		{4, 0, 0},             // no input size: no estimate
		{4, 3, 0},             // over reserveFactor times the input
		{1 << 20, 1 << 20, 0}, // over maxReserve
		{1 << 62, 1 << 20, 0}, // overflow
	} {
		if got := net.liveEstimate(c.batch, c.in); got != c.want {
			t.Errorf("liveEstimate(%d, %d) = %d, want %d", c.batch, c.in, got, c.want)
		}
	}
}
