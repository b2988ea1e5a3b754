package keras

import (
	"cmp"
	"math"
	"runtime"
	"slices"
	"sync"
	"unsafe"
)

// Activation memory. A prediction of a deep network allocates one tensor
// per layer; left to the garbage collector, each call asks the runtime for
// the model's whole activation volume again (92 MB for ResNet50 on one
// sample), clears it, and lets the heap grow to twice what is live before
// a collection gives it back. An arena instead hands the layers buffers
// that earlier layers of the same run have finished with, and keeps them
// for the next run:
//
//   - runModel holds a reference on every buffer a computed value points
//     into (a layer may return its input, or a view of it, as its output),
//     and drops it when the release schedule (net.go) says the value's last
//     reader has run; a buffer nobody holds goes back to the free lists,
//     by length.
//   - Only buffers the arena handed out are ever recycled: the caller's
//     inputs, the weights, and tensors layers made with NewTensor are never
//     touched. The model's outputs are given up at the end of a run (the
//     caller owns them), as is every buffer still held then.
//   - Layers never write to their inputs (Net.Predict relies on it too), so
//     a buffer is reused only once no value can be read from it.
//
// One arena serves one run at a time, on one goroutine (the layers' own
// parallel loops never allocate from it), so it takes no lock: Net keeps a few of them, so
// concurrent Predict calls (and the parts of a split batch) each take
// their own, and the steady state of a service is no allocation for
// activations. An arena's free lists hold about what one run had live at
// once; a Net keeps at most one arena per CPU.
type arena struct {
	live  []*arenaBuf // handed out and not yet free
	free  [][]float32 // by increasing capacity
	holds int         // references held, for tests
}

type arenaBuf struct {
	data   []float32
	lo, hi uintptr // address range of data's backing array
	refs   int
}

// poisonReuse fills reused output buffers with NaN, for the test that
// checks every layer taking one writes all of it.
var poisonReuse bool

func newArena() *arena { return &arena{} }

// tensor returns a zero tensor of the shape from the arena; a nil arena
// allocates.
func (a *arena) tensor(shape ...int) *Tensor { return a.get(true, shape) }

// output returns a tensor of the shape from the arena whose contents are
// unspecified, for a layer that writes every element of its output: a
// reused buffer is then not cleared first.
func (a *arena) output(shape ...int) *Tensor { return a.get(false, shape) }

func (a *arena) get(zero bool, shape []int) *Tensor {
	if a == nil {
		return NewTensor(shape...)
	}
	n := shapeLen(shape)
	if n == 0 {
		return NewTensor(shape...)
	}
	var d []float32
	// The smallest free buffer that holds n floats, unless it is more than
	// twice that: the layers of a network ask for many lengths, and
	// reusing only exact ones would keep a buffer of every length.
	if i, ok := slices.BinarySearchFunc(a.free, n, func(b []float32, n int) int { return cmp.Compare(cap(b), n) }); ok || i < len(a.free) && cap(a.free[i]) <= 2*n {
		d = a.free[i][:n]
		a.free = slices.Delete(a.free, i, i+1)
		switch {
		case zero:
			clear(d)
		case poisonReuse:
			for i := range d {
				d[i] = float32(math.NaN())
			}
		}
	} else {
		d = make([]float32, n)
	}
	lo := uintptr(unsafe.Pointer(unsafe.SliceData(d)))
	a.live = append(a.live, &arenaBuf{data: d, lo: lo, hi: lo + uintptr(cap(d))*4})
	return &Tensor{Shape: append([]int(nil), shape...), Data: d}
}

// owner returns the live buffer t's data lies in, or nil.
func (a *arena) owner(t *Tensor) *arenaBuf {
	if t == nil || cap(t.Data) == 0 {
		return nil
	}
	p := uintptr(unsafe.Pointer(unsafe.SliceData(t.Data)))
	for _, b := range a.live {
		if p >= b.lo && p < b.hi {
			return b
		}
	}
	return nil
}

// hold takes a reference on the buffers of a value's tensors.
func (a *arena) hold(ts []*Tensor) {
	if a == nil {
		return
	}
	for _, t := range ts {
		if b := a.owner(t); b != nil {
			b.refs++
			a.holds++
		}
	}
}

// drop gives up the references hold took; a buffer left without any goes
// back to the free lists.
func (a *arena) drop(ts []*Tensor) {
	if a == nil {
		return
	}
	for _, t := range ts {
		b := a.owner(t)
		if b == nil {
			continue
		}
		b.refs--
		a.holds--
		if b.refs == 0 {
			a.recycle(b)
		}
	}
}

func (a *arena) recycle(b *arenaBuf) {
	for i, x := range a.live {
		if x == b {
			a.live = append(a.live[:i], a.live[i+1:]...)
			break
		}
	}
	a.putFree(b.data)
}

// putFree adds a buffer to the free list, kept sorted by capacity.
func (a *arena) putFree(d []float32) {
	i, _ := slices.BinarySearchFunc(a.free, cap(d), func(b []float32, n int) int { return cmp.Compare(cap(b), n) })
	a.free = slices.Insert(a.free, i, d[:cap(d)])
}

// finish ends a run: buffers still held (the outputs, and whatever they
// are views of) now belong to the caller, and buffers handed out but never
// held (a layer's scratch) are free again.
func (a *arena) finish() {
	if a == nil {
		return
	}
	for _, b := range a.live {
		if b.refs == 0 {
			a.putFree(b.data)
		}
	}
	a.live = a.live[:0]
	a.holds = 0
}

// arenas keeps a Net's arenas between runs: as many as there are CPUs,
// the most runs that make progress at once (a sync.Pool would drop them
// at every collection, and a run would allocate its activations anew).
type arenas struct {
	mu   sync.Mutex
	idle []*arena
}

func (p *arenas) get() *arena {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := len(p.idle); n > 0 {
		a := p.idle[n-1]
		p.idle = p.idle[:n-1]
		return a
	}
	return newArena()
}

func (p *arenas) put(a *arena) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.idle) < runtime.GOMAXPROCS(0) {
		p.idle = append(p.idle, a)
	}
}
