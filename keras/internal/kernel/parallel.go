package kernel

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kerascope/kerascope/keras/internal/kernel/micro"
)

// Work split over the CPUs. Predict splits a large batch over the CPUs at
// the top; a single sample (or a small batch) runs on one goroutine, and
// then the large products and convolutions split themselves here. Both
// draw from one pool of spare CPUs, so a product inside an already split
// batch finds none and runs where it is: never more busy goroutines than
// CPUs from one caller, and no OpenBLAS threads on top (OpenBLAS stays
// single-threaded, see openblas.go).

// maxParts is the most parts work is split into: the CPUs.
var maxParts = max(runtime.GOMAXPROCS(0), 1)

// spare holds the helpers not working for anyone: one per CPU beyond the
// caller's own. Taking one is the right to give it one task.
var spare = func() chan *helper {
	c := make(chan *helper, maxParts-1)
	for range maxParts - 1 {
		c <- &helper{wake: make(chan struct{}, 1)}
	}
	return c
}()

// spin is how long a helper that has finished a part, and a caller
// waiting for its helpers, keep looking for work before they block. A
// forward pass calls Parallel every few tens of microseconds at a batch
// of one, and a Predict loop every few hundred; a goroutine that has
// blocked took about 100 µs to wake on this project's 2-core virtual
// machine, and then often shared the caller's CPU for a while, which made
// splits under a millisecond of work slower than none. 100 µs of spin
// still let a helper block between two calls of the MLP's batch (calls of
// 290 µs or 500-800 µs); 1 ms keeps it awake between calls (single-sample
// MNIST CNN 1.6-1.8×, EfficientNetB0 1.2-1.3× faster than with 100 µs). A
// spinning goroutine yields its CPU (runtime.Gosched) on every look, so
// other goroutines still run; a version that kept the CPU measured the
// same.
const spin = time.Millisecond

// A helper is a goroutine, started on first use, that runs parts of the
// tasks given to it, one task at a time.
type helper struct {
	post     atomic.Pointer[task] // the task given, until the helper takes it
	sleeping atomic.Bool          // blocked on wake, or about to be
	wake     chan struct{}
	once     sync.Once
}

// A task is one call of Parallel: the parts are taken in order by the
// caller and its helpers.
type task struct {
	f     func(lo, hi int)
	n     int
	parts int
	next  atomic.Int64
	left  atomic.Int32  // helpers still working on it
	done  chan struct{} // receives once when left reaches 0
	mu    sync.Mutex
	fail  any // a helper's panic, carried over to the caller
}

// work runs parts of t until none is left.
func (t *task) work() {
	for {
		p := int(t.next.Add(1))
		if p >= t.parts {
			return
		}
		micro.ClearUpper() // the helper may resume from a preemption
		t.f(p*t.n/t.parts, (p+1)*t.n/t.parts)
	}
}

// lead runs t's first part, which is the caller's, then helps with the
// rest. Consecutive layers split alike (by rows) so find their part of
// the previous layer's output in their own core's cache. With the first
// part taken by whoever came first, EfficientNetB0's squeeze-and-excite
// scales took 0.22 to 0.63 ms a sample depending on where their input
// had been computed, and the model's one sample ran 7% slower.
func (t *task) lead() {
	t.f(0, t.n/t.parts)
	t.work()
}

func (h *helper) give(t *task) {
	h.once.Do(func() {
		h.sleeping.Store(true)
		go h.loop()
	})
	h.post.Store(t)
	if h.sleeping.CompareAndSwap(true, false) {
		h.wake <- struct{}{}
	}
}

func (h *helper) loop() {
	for {
		t := h.take()
		func() {
			// A panic on another goroutine would end the process; the
			// caller's recover (the forward pass turns panics into
			// errors) only sees its own, so carry it over.
			defer func() {
				if r := recover(); r != nil {
					t.mu.Lock()
					t.fail = r
					t.mu.Unlock()
				}
				if t.left.Add(-1) == 0 {
					t.done <- struct{}{}
				}
			}()
			t.work()
		}()
	}
}

// take returns the next task given to h: spinning for a while, then
// blocked until give wakes it.
//
// Each time before it looks at post and blocks, h says it is asleep: a
// give that posts after the look then sees it asleep and sends a wake. A
// wake can be stale (its giver's task taken before the giver sent it);
// one that finds nothing posted sends h back round, asleep again. Taken
// there without saying so, h blocked with sleeping false after a stale
// wake, and the next give, seeing it awake, sent none: the caller waited
// for ever (TestHelperStaleWake; a make test run hung so, in
// TestPredictConcurrent).
func (h *helper) take() *task {
	if !h.sleeping.Load() {
		start := time.Now()
		for i := 0; ; i++ {
			if t := h.post.Swap(nil); t != nil {
				return t
			}
			if i%16 == 15 && time.Since(start) > spin {
				break
			}
			runtime.Gosched()
		}
	}
	for {
		h.sleeping.Store(true)
		if t := h.post.Swap(nil); t != nil {
			if !h.sleeping.CompareAndSwap(true, false) {
				<-h.wake // give saw h asleep and sends a wake: take it
			}
			return t
		}
		<-h.wake
	}
}

// takeSpare appends up to want spare helpers to dst without waiting.
func takeSpare(dst []*helper, want int) []*helper {
	for range want {
		select {
		case h := <-spare:
			dst = append(dst, h)
		default:
			return dst
		}
	}
	return dst
}

func giveSpare(hs []*helper) {
	for _, h := range hs {
		spare <- h
	}
}

// ClearUpper clears the upper halves of the vector registers, which
// scalar float code pays for on some CPUs (micro.ClearUpper): the forward
// pass calls it before each layer.
func ClearUpper() { micro.ClearUpper() }

// Parallel calls f on consecutive ranges [lo, hi) covering [0, n), each of
// at least grain items, and returns when all are done. The ranges depend
// only on n, grain and the number of CPUs, never on the load, so results
// are the same bits whoever else is running; the ranges run on as many
// goroutines as there are spare CPUs (the caller's own included), one
// after the other on the caller's goroutine when there is none.
func Parallel(n, grain int, f func(lo, hi int)) {
	grain = max(grain, 1)
	parts := min(n/grain, maxParts)
	if parts <= 1 {
		f(0, n)
		return
	}
	var room [8]*helper // no allocation for up to 9 CPUs
	helpers := takeSpare(room[:0], parts-1)
	if len(helpers) == 0 {
		// The same ranges, one after the other: the same bits.
		for p := range parts {
			f(p*n/parts, (p+1)*n/parts)
		}
		return
	}
	t := &task{f: f, n: n, parts: parts, done: make(chan struct{}, 1)}
	t.left.Store(int32(len(helpers)))
	for _, h := range helpers {
		h.give(t)
	}
	func() {
		defer func() {
			t.wait()
			giveSpare(helpers)
		}()
		t.lead()
	}()
	if t.fail != nil {
		panic(t.fail)
	}
}

// wait returns when every helper has finished with t: spinning for a
// while, then blocked.
func (t *task) wait() {
	start := time.Now()
	for i := 0; t.left.Load() != 0; i++ {
		if i%16 == 15 && time.Since(start) > spin {
			<-t.done
			return
		}
		runtime.Gosched()
	}
}

// parallelWork is the number of multiply-adds from which a product is
// split over spare CPUs: about 20 µs of one core's work, against a few
// microseconds to start and join a goroutine.
const parallelWork = 1 << 21
