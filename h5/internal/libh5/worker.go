//go:build libhdf5

package libh5

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"gonum.org/v1/hdf5"
)

// All libhdf5 calls run on one goroutine locked to its OS thread:
//   - error printing is a per-thread setting in thread-safe builds, and a
//     thread where nobody switched it off prints "HDF5-DIAG" blocks to
//     stderr on every failed lookup;
//   - the error stack read after a failure is per thread too;
//   - builds that are not thread-safe must see one thread only, and
//     thread-safe ones serialise the whole API behind one lock anyway, so
//     no parallelism is lost.
//
// The worker lives as long as the process.
//
// Handing work to a goroutine locked to its thread costs futex wake-ups
// whenever a side sleeps: about 45 µs for an empty call on a 2-core
// Firecracker VM, against 1 µs when both sides spin first, and ReadFloat32
// of a small weight took 150 µs instead of 50 µs (of which 42 µs are
// libhdf5's own). A Keras file takes hundreds of calls, so when there is
// more than one P, the caller spins (yielding its P with Gosched) while its
// call runs, up to callerSpin, and the worker polls for the next call for
// workerSpin before it sleeps. A shorter caller spin was worse than none:
// giving up just before the call ends pays the wake-up anyway.
const (
	callerSpin = 500 * time.Microsecond
	workerSpin = 50 * time.Microsecond
)

// A call is one closure run on the worker.
type call struct {
	fn       func()
	finished atomic.Bool   // set by the worker when fn has returned
	wake     chan struct{} // closed after finished is set
	panicked bool          // fn panicked with panicVal
	panicVal any
}

var (
	workerOnce sync.Once
	workerCh   chan *call
	workerErr  error // set once, before workerCh is first used

	// lockingPreset records whether the user set HDF5_USE_FILE_LOCKING
	// before we did (tests skip the locking check then).
	lockingPreset bool
)

// do runs fn on the worker thread and waits for it. A panic in fn is
// re-raised in the caller, so the worker survives it. fn must not call do.
func do(fn func()) error {
	workerOnce.Do(startWorker)
	if workerErr != nil {
		return workerErr
	}
	c := &call{fn: fn, wake: make(chan struct{})}
	workerCh <- c
	if spinning() {
		for deadline := time.Now().Add(callerSpin); !c.finished.Load() && time.Now().Before(deadline); {
			runtime.Gosched() // lets other goroutines use this P meanwhile
		}
	}
	<-c.wake
	if c.panicked {
		panic(c.panicVal)
	}
	return nil
}

// spinning says whether waiting by spinning can pay: with one P, a
// spinning side only delays the other.
func spinning() bool { return runtime.GOMAXPROCS(0) > 1 }

// next returns the next call, spinning for a while before it sleeps.
func next() *call {
	if spinning() {
		for deadline := time.Now().Add(workerSpin); time.Now().Before(deadline); {
			select {
			case c := <-workerCh:
				return c
			default:
			}
		}
	}
	return <-workerCh
}

func (c *call) run() {
	defer func() {
		if c.panicked {
			c.panicVal = recover()
		}
		c.finished.Store(true)
		close(c.wake)
	}()
	c.panicked = true
	c.fn()
	c.panicked = false
}

func startWorker() {
	// libhdf5 reads HDF5_USE_FILE_LOCKING when it opens a file (checked on
	// 1.10.8, after gonum's init has already initialised the library).
	// Read-only opens take a shared flock that fails with errno 11 while a
	// writer holds the file, and fails outright on some network file
	// systems; a reader gains nothing from it. A value the user set wins.
	if _, ok := os.LookupEnv("HDF5_USE_FILE_LOCKING"); ok {
		lockingPreset = true
	} else {
		os.Setenv("HDF5_USE_FILE_LOCKING", "FALSE")
	}
	// Filter plugins are shared libraries that libhdf5 dlopen()s from
	// HDF5_PLUGIN_PATH (or a compiled-in directory) when a dataset names an
	// unknown filter. Keras never compresses with plugins; allow them only
	// if the user pointed HDF5_PLUGIN_PATH somewhere on purpose.
	_, plugins := os.LookupEnv("HDF5_PLUGIN_PATH")

	ready := make(chan error)
	// Buffered so that a caller can hand over a call while the worker
	// spins, without waiting to rendezvous.
	workerCh = make(chan *call, 16)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread stays silenced
		err := hdf5.DisplayErrors(false)
		if err == nil {
			err = initThread(!plugins)
		}
		ready <- err
		if err != nil {
			return
		}
		for {
			next().run()
		}
	}()
	if err := <-ready; err != nil {
		workerErr = fmt.Errorf("h5: initialising libhdf5: %w", err)
	}
}
