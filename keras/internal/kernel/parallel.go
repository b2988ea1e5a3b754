package kernel

import (
	"runtime"
	"sync"
	"sync/atomic"
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

// spare holds one token per CPU beyond the caller's own.
var spare = func() chan struct{} {
	c := make(chan struct{}, maxParts-1)
	for range maxParts - 1 {
		c <- struct{}{}
	}
	return c
}()

// takeSpare takes up to want spare CPUs without waiting and returns how
// many it got.
func takeSpare(want int) int {
	got := 0
	for got < want {
		select {
		case <-spare:
			got++
		default:
			return got
		}
	}
	return got
}

func giveSpare(n int) {
	for range n {
		spare <- struct{}{}
	}
}

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
	helpers := takeSpare(parts - 1)
	var next atomic.Int64
	work := func() {
		for {
			p := int(next.Add(1)) - 1
			if p >= parts {
				return
			}
			f(p*n/parts, (p+1)*n/parts)
		}
	}
	if helpers == 0 {
		work()
		return
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failure any
	for range helpers {
		wg.Go(func() {
			// A panic on another goroutine would end the process; the
			// caller's recover (the forward pass turns panics into
			// errors) only sees its own, so carry it over.
			defer func() {
				if r := recover(); r != nil {
					mu.Lock()
					failure = r
					mu.Unlock()
				}
			}()
			work()
		})
	}
	func() {
		defer func() {
			wg.Wait()
			giveSpare(helpers)
		}()
		work()
	}()
	if failure != nil {
		panic(failure)
	}
}

// parallelWork is the number of multiply-adds from which a product is
// split over spare CPUs: about 20 µs of one core's work, against a few
// microseconds to start and join a goroutine.
const parallelWork = 1 << 21
