package keras

import (
	"errors"
	"path/filepath"
	"runtime"
	"testing"
	"unsafe"
)

func sameArray(a, b []float32) bool { return unsafe.SliceData(a) == unsafe.SliceData(b) }

// TestArena follows one buffer through the references a run takes: a
// buffer comes back only when no value holds it or a view of it, comes
// back cleared, and a buffer still held when the run ends (an output) is
// never handed out again.
func TestArena(t *testing.T) {
	a := newArena()
	x := a.tensor(2, 3)
	x.Data[0] = 7
	view := &Tensor{Shape: []int{3}, Data: x.Data[3:]} // a layer's view of x
	a.hold([]*Tensor{x})
	a.hold([]*Tensor{view})
	a.drop([]*Tensor{x})
	other := a.tensor(2, 3) // handed out, never held
	if sameArray(other.Data, x.Data) {
		t.Fatal("a buffer a view still holds was handed out again")
	}
	a.drop([]*Tensor{view})
	y := a.tensor(6)
	if !sameArray(y.Data, x.Data) {
		t.Fatal("a buffer nobody holds was not reused")
	}
	if y.Data[0] != 0 {
		t.Fatal("a reused buffer was not cleared")
	}
	// y is an output: held when the run ends.
	a.hold([]*Tensor{y})
	scratch := a.tensor(6) // handed out, never held
	a.finish()
	for range 2 {
		z := a.tensor(6)
		if !sameArray(z.Data, scratch.Data) && !sameArray(z.Data, other.Data) {
			t.Fatal("after a run, its outputs must stay the caller's and its scratch must be free")
		}
	}
	// A larger free buffer serves a smaller request, up to twice its size.
	a.finish()
	if z := a.tensor(4); !sameArray(z.Data, scratch.Data) && !sameArray(z.Data, other.Data) {
		t.Fatal("a free buffer of 6 did not serve a request for 4")
	}
	if z := a.tensor(2); sameArray(z.Data, scratch.Data) || sameArray(z.Data, other.Data) {
		t.Fatal("a free buffer of 6 served a request for 2")
	}
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
