package keras

import (
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
// a collection gives it back. An arena instead carves the layers' buffers
// out of one slab, reusing the ranges of values that earlier layers of the
// same run have finished with, and keeps the slab for the next run:
//
//   - runModel holds a reference on every buffer a computed value points
//     into (a layer may return its input, or a view of it, as its output),
//     and drops it when the release schedule (net.go) says the value's last
//     reader has run; a range nobody holds is free again, merged with the
//     free ranges beside it.
//   - A request takes the free range that starts lowest and holds it
//     (first fit), so the early layers' large ranges serve the later
//     layers' many small ones: the slab ends up near the most a run holds
//     at once (1.13 to 1.25 times it on MobileNetV2, EfficientNetB0 and
//     ResNet50; best fit, 1.8 times on ResNet50). Free lists of whole
//     buffers by length, the first version, kept about 2.7 times it: a
//     buffer served only requests of up to twice its length.
//   - The first slab is sized from the graph before the first run
//     (liveEstimate); a request that finds no room is allocated on its own
//     and the run ends by replacing the slab with one large enough, while
//     the slab is all free: the next run of that shape fits.
//   - Only buffers the arena handed out are ever recycled: the caller's
//     inputs, the weights, and tensors layers made with NewTensor are never
//     touched. The model's outputs leave the arena at the end of a run
//     (finish copies those in the slab out), so the caller owns them.
//   - Layers never write to their inputs (Net.Predict relies on it too), so
//     a range is reused only once no value can be read from it.
//
// One arena serves one run at a time, on one goroutine (the layers' own
// parallel loops never allocate from it), so it takes no lock: Net keeps a
// few of them, so concurrent Predict calls (and the parts of a split batch)
// each take their own, and the steady state of a service is no allocation
// for activations. A Net keeps at most one arena per CPU.
type arena struct {
	slab  []float32
	holes []span      // free ranges of slab: sorted by offset, none adjacent
	live  []*arenaBuf // handed out and not yet free
	holds int         // references held, for tests
	// The current run: floats handed out and not yet free (in the slab and
	// outside it), the most at once, and whether a request found no room.
	inUse, peak int
	short       bool
	// touched is the end of the slab's ranges ever handed out: beyond
	// it the slab is as make left it (for poisonReuse).
	touched int
}

// A span is a range of a slab, in floats.
type span struct{ off, n int }

type arenaBuf struct {
	data   []float32
	lo, hi uintptr // address range of the floats reserved for it
	refs   int
	off, n int // its range of the slab (off -1: allocated on its own)
}

// arenaAlign is the granularity of a slab's ranges, in floats: 64 bytes, a
// cache line, so that two buffers never share one and vectors start
// aligned.
const arenaAlign = 16

// slabMargin is the room a slab is given over what it must hold, half as
// much again: first fit fragments (up to 1.25 times, above), and the
// graph's estimate leaves out what layers take for scratch. Pages of the
// slab that no range ever reaches are never touched, so the margin costs
// address space, not resident memory.
func slabMargin(n int) int { return roundUp(n+n/2, arenaAlign) }

func roundUp(n, m int) int { return (n + m - 1) / m * m }

// poisonReuse fills reused output buffers with NaN, for the test that
// checks every layer taking one writes all of it.
var poisonReuse bool

func newArena() *arena { return &arena{} }

// tensor returns a zero tensor of the shape from the arena; a nil arena
// allocates.
func (a *arena) tensor(shape ...int) *Tensor { return a.get(true, shape) }

// output returns a tensor of the shape from the arena whose contents are
// unspecified, for a layer that writes every element of its output: a
// reused range is then not cleared first.
func (a *arena) output(shape ...int) *Tensor { return a.get(false, shape) }

func (a *arena) get(zero bool, shape []int) *Tensor {
	if a == nil {
		return NewTensor(shape...)
	}
	n := shapeLen(shape)
	if n == 0 {
		return NewTensor(shape...)
	}
	r := roundUp(n, arenaAlign)
	b := &arenaBuf{off: -1, n: r}
	if i := a.firstFit(r); i >= 0 {
		h := &a.holes[i]
		b.off = h.off
		b.data = a.slab[h.off : h.off+n : h.off+n]
		if h.n == r {
			a.holes = slices.Delete(a.holes, i, i+1)
		} else {
			h.off += r
			h.n -= r
		}
		fresh := b.off >= a.touched
		a.touched = max(a.touched, b.off+r)
		switch {
		case zero && !fresh:
			clear(b.data)
		case poisonReuse && !fresh:
			for i := range b.data {
				b.data[i] = float32(math.NaN())
			}
		}
	} else {
		b.data = make([]float32, n, r)
		a.short = true
	}
	a.inUse += r
	a.peak = max(a.peak, a.inUse)
	b.lo = uintptr(unsafe.Pointer(unsafe.SliceData(b.data)))
	b.hi = b.lo + uintptr(r)*4
	a.live = append(a.live, b)
	return &Tensor{Shape: append([]int(nil), shape...), Data: b.data}
}

// firstFit returns the index of the free range of at least n floats that
// starts lowest in the slab, or -1. (Best fit, the smallest such range,
// spread ResNet50's runs over 1.8 times what they hold at once, first fit
// over 1.25.)
func (a *arena) firstFit(n int) int {
	for i, h := range a.holes {
		if h.n >= n {
			return i
		}
	}
	return -1
}

// owner returns the live buffer t's data lies in, or nil.
func (a *arena) owner(t *Tensor) *arenaBuf {
	if a == nil || t == nil || cap(t.Data) == 0 {
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

// drop gives up the references hold took; a buffer left without any is
// free again.
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
	if i := slices.Index(a.live, b); i >= 0 {
		a.live = slices.Delete(a.live, i, i+1)
	}
	a.release(b)
}

// release gives b's range back to the slab (a buffer allocated on its own
// is left to the collector).
func (a *arena) release(b *arenaBuf) {
	a.inUse -= b.n
	if b.off < 0 {
		return
	}
	i, _ := slices.BinarySearchFunc(a.holes, b.off, func(h span, off int) int { return h.off - off })
	s := span{b.off, b.n}
	// Merge with the free ranges just before and just after.
	if i > 0 && a.holes[i-1].off+a.holes[i-1].n == s.off {
		i--
		s = span{a.holes[i].off, a.holes[i].n + s.n}
		a.holes = slices.Delete(a.holes, i, i+1)
	}
	if i < len(a.holes) && s.off+s.n == a.holes[i].off {
		s.n += a.holes[i].n
		a.holes = slices.Delete(a.holes, i, i+1)
	}
	a.holes = slices.Insert(a.holes, i, s)
}

// reserve makes sure the slab holds at least n floats (with margin) before
// a run, while nothing is handed out.
func (a *arena) reserve(n int) {
	if a == nil || n <= len(a.slab) || len(a.live) > 0 {
		return
	}
	a.slab = make([]float32, slabMargin(n))
	a.holes = []span{{0, len(a.slab)}}
	a.touched = 0
}

// finish ends a run. The outputs' data that lies in the slab is copied
// out (the caller owns the outputs; the slab is the next run's), then
// every range is free again; a run that found no room for a request
// replaces the slab with one that would have held all it had at once.
func (a *arena) finish(outs []*Tensor) {
	if a == nil {
		return
	}
	for _, t := range outs {
		if b := a.owner(t); b != nil && b.off >= 0 {
			t.Data = slices.Clone(t.Data)
		}
	}
	for _, b := range a.live {
		a.release(b)
	}
	a.live = a.live[:0]
	a.holds = 0
	if a.short {
		// Everything is free: the old slab can go. Its size grows by a
		// quarter at least, so that fragmentation, should it be what
		// left a request without room, cannot make it fail for ever.
		old := len(a.slab)
		a.slab = nil
		a.reserve(max(a.peak, old+old/4))
	}
	a.inUse, a.peak, a.short = 0, 0, false
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

// liveEstimate is the most activation memory (floats) a run of batch
// samples holds at once, from the graph: the per-sample sizes of the
// calls' outputs the config gives, live from their call to their release
// (net.go); 0 when a size is not known (a free dimension besides the
// batch). It sizes an arena's first slab, so that the first run does not
// allocate its activations one by one; what layers take for scratch is
// not counted, and a short slab grows after the run (arena.finish).
//
// The shapes come from the file, and nothing has computed them yet: the
// estimate is held to maxReserve and to reserveFactor times the run's
// input (inFloats), so that a config that declares vast layers cannot
// make a prediction reserve memory the real run would never use. A model
// over those bounds sizes its slab from its first run instead.
func (net *Net) liveEstimate(batch, inFloats int) int {
	if net.livePerSample <= 0 || batch <= 0 || net.livePerSample > math.MaxInt/batch {
		return 0
	}
	est := net.livePerSample * batch
	if est > maxReserve || inFloats <= 0 || inFloats <= maxReserve && est > reserveFactor*inFloats {
		return 0
	}
	return est
}

// maxReserve (floats, 256 MB) and reserveFactor bound liveEstimate: the
// applications hold 4 to 16 times their input at once (ResNet50 2.4 M
// floats a 224×224 image), an embedding of a long sequence more.
const (
	maxReserve    = 64 << 20
	reserveFactor = 1024
)

// peakPerSample is liveEstimate's walk of model m for one sample: the
// largest sum of live outputs at any step, models called inside m
// counting their own peak while they run; 0 if unknown.
func (net *Net) peakPerSample(m *Model) int {
	size := make(map[*Node]int)
	live, peak := 0, 0
	for step, n := range net.order[m] {
		if src, ok := net.plan.aliasOf(n); ok {
			// A folded call's value is its producer's buffer, which
			// lives until the fold's own last reader: the size moves.
			if k, ok := size[src]; ok {
				size[n] = k
				delete(size, src)
			}
		} else if n.Layer.Class != "InputLayer" && !net.plan.skipped(n) {
			k := 0
			for _, s := range n.Outputs {
				if len(s) == 0 {
					continue
				}
				v, ok := s[1:].Size()
				if !ok || v > math.MaxInt32 {
					return 0
				}
				k += int(v)
			}
			if n.Layer.Model != nil {
				inner := net.peakPerSample(n.Layer.Model)
				if inner == 0 {
					return 0
				}
				peak = max(peak, live+inner)
			}
			live += k
			size[n] = k
			peak = max(peak, live)
			if peak > math.MaxInt32 {
				return 0
			}
		}
		if step < len(net.release[m]) {
			for _, r := range net.release[m][step] {
				live -= size[r]
				delete(size, r)
			}
		}
	}
	return peak
}

// donor returns one of a call's inputs (refs, the tensors in) whose buffer
// the call may overwrite: the input's value is one the run computed (ours)
// and releases after this step (released), and its buffer is the
// arena's, held by that value alone, and starts where the tensor does.
// Nil when there is none.
func (a *arena) donor(refs []TensorRef, in []*Tensor, released []*Node, ours func(*Node) bool) *Tensor {
	if len(refs) != len(in) {
		return nil // keyword inputs: in is not parallel to refs
	}
	for i, r := range refs {
		if src := r.Layer.Nodes[r.Node]; !slices.Contains(released, src) || !ours(src) {
			continue
		}
		t := in[i]
		b := a.owner(t)
		if b != nil && b.refs == 1 && uintptr(unsafe.Pointer(unsafe.SliceData(t.Data))) == b.lo {
			return t
		}
	}
	return nil
}
