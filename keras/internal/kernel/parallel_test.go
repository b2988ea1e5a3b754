package kernel

import (
	"sync"
	"testing"
	"time"
)

func TestParallelCoversOnce(t *testing.T) {
	for _, c := range []struct{ n, grain int }{{0, 1}, {1, 1}, {5, 1}, {100, 7}, {100, 60}, {3, 0}} {
		seen := make([]int32, c.n)
		var mu sync.Mutex
		Parallel(c.n, c.grain, func(lo, hi int) {
			mu.Lock()
			defer mu.Unlock()
			for i := lo; i < hi; i++ {
				seen[i]++
			}
		})
		for i, v := range seen {
			if v != 1 {
				t.Fatalf("n=%d grain=%d: item %d covered %d times", c.n, c.grain, i, v)
			}
		}
	}
	if len(spare) != cap(spare) {
		t.Fatalf("%d of %d spare CPUs were not given back", cap(spare)-len(spare), cap(spare))
	}
}

func TestParallelCarriesPanic(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("a panic in a part did not reach the caller")
		}
		if len(spare) != cap(spare) {
			t.Fatalf("%d of %d spare CPUs were not given back", cap(spare)-len(spare), cap(spare))
		}
	}()
	Parallel(100, 1, func(lo, hi int) {
		if hi == 100 {
			panic("boom")
		}
	})
}

func TestParallelCarriesOwnPanic(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("a panic in the caller's part did not reach the caller")
		}
		if len(spare) != cap(spare) {
			t.Fatalf("%d of %d spare CPUs were not given back", cap(spare)-len(spare), cap(spare))
		}
	}()
	Parallel(100, 1, func(lo, hi int) {
		if lo == 0 {
			panic("boom")
		}
	})
}

// coversOnce runs Parallel(n, 1, ...) and fails unless every item was
// covered exactly once.
func coversOnce(t *testing.T, n int) {
	seen := make([]int32, n)
	Parallel(n, 1, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			seen[i]++ // ranges do not overlap, so no two parts write one item
		}
	})
	for i, v := range seen {
		if v != 1 {
			t.Errorf("n=%d: item %d covered %d times", n, i, v) // not Fatal: callers run on other goroutines
			return
		}
	}
}

// A helper that has stopped spinning and blocked must be woken, and one
// given a task just as it decides to block must take it: calls spaced
// around the spin time hit both sides of that race.
func TestParallelWakesHelpers(t *testing.T) {
	for i := range 40 {
		coversOnce(t, 64)
		time.Sleep(time.Duration(i%5) * spin / 2)
	}
	if len(spare) != cap(spare) {
		t.Fatalf("%d of %d spare CPUs were not given back", cap(spare)-len(spare), cap(spare))
	}
}

// Callers on many goroutines share the helpers: each call still covers
// its range once, whether it got a helper or none.
func TestParallelConcurrentCallers(t *testing.T) {
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 200 {
				coversOnce(t, 100)
			}
		})
	}
	wg.Wait()
	if len(spare) != cap(spare) {
		t.Fatalf("%d of %d spare CPUs were not given back", cap(spare)-len(spare), cap(spare))
	}
}

// TestHelperStaleWake drives a helper through the interleaving that lost
// a wake: a task taken after a stale wake before its giver's own wake,
// which then finds nothing; the next task given must still be taken.
func TestHelperStaleWake(t *testing.T) {
	h := &helper{wake: make(chan struct{}, 1)}
	h.once.Do(func() {}) // no loop of its own: the test takes
	h.sleeping.Store(true)
	h.wake <- struct{}{} // a stale wake
	t1, t2 := &task{}, &task{}
	h.post.Store(t1) // give's first step only
	if got := h.take(); got != t1 {
		t.Fatalf("took %p, want the posted task %p", got, t1)
	}
	got := make(chan *task, 1)
	go func() { got <- h.take() }()
	time.Sleep(20 * time.Millisecond) // h blocked for its next task
	if h.sleeping.CompareAndSwap(true, false) {
		h.wake <- struct{}{} // give's second step, for t1: a stale wake
	}
	time.Sleep(20 * time.Millisecond) // h woken, found nothing, blocked again
	h.give(t2)
	select {
	case g := <-got:
		if g != t2 {
			t.Fatalf("took %p, want %p", g, t2)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the helper never took the task given to it")
	}
}
