package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/term"
)

// Progress shows that slow work is under way: one line on stderr, redrawn
// in place, only when stderr is a terminal (never in a pipe, a file or a
// CI log) and only once the work has run for progressDelay, so that quick
// commands print nothing.
var (
	progressDelay = time.Second
	progressTick  = 250 * time.Millisecond
)

// A progress line; a nil *progress does nothing.
type progress struct {
	w     io.Writer
	label string
	start time.Time

	mu    sync.Mutex
	done  int64 // items done, for progress with a total
	total int64
	drawn bool

	stopc chan struct{}
	wg    sync.WaitGroup
}

// startProgress starts a progress line for label on stderr, if stderr is
// a terminal. TERM=dumb terminals cannot redraw a line, so they get none.
func startProgress(stderr io.Writer, label string) *progress {
	f, ok := stderr.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) || os.Getenv("TERM") == "dumb" {
		return nil
	}
	p := &progress{w: f, label: label, start: time.Now(), stopc: make(chan struct{})}
	if progressDelay <= 0 {
		p.draw() // tests: the first line at once, deterministically
	}
	p.wg.Add(1)
	go p.loop()
	return p
}

func (p *progress) loop() {
	defer p.wg.Done()
	wait := time.NewTimer(progressDelay)
	defer wait.Stop()
	select {
	case <-p.stopc:
		return
	case <-wait.C:
	}
	tick := time.NewTicker(progressTick)
	defer tick.Stop()
	for {
		p.draw()
		select {
		case <-p.stopc:
			return
		case <-tick.C:
		}
	}
}

// set records how many of total items are done.
func (p *progress) set(done, total int64) {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.done, p.total = done, total
	p.mu.Unlock()
}

func (p *progress) draw() {
	p.mu.Lock()
	defer p.mu.Unlock()
	line := fmt.Sprintf("kerascope: %s… %ds", p.label, int(time.Since(p.start).Seconds()))
	if p.total > 0 {
		line = fmt.Sprintf("kerascope: %s… %d/%d (%d%%) %ds", p.label, p.done, p.total, p.done*100/p.total, int(time.Since(p.start).Seconds()))
	}
	// \r returns to the line's start and \x1b[K clears what a longer
	// earlier line left.
	fmt.Fprintf(p.w, "\r%s\x1b[K", line)
	p.drawn = true
}

// stop ends the progress line and erases it, so that what follows on the
// terminal (an error line, the prompt) starts on a clean line.
func (p *progress) stop() {
	if p == nil {
		return
	}
	close(p.stopc)
	p.wg.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
}
