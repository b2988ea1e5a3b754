//go:build linux

package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// openPTY opens a pseudo-terminal with the Linux ioctls (what openpty(3)
// does): the test reads what kerascope writes to the terminal side from
// the controlling side.
func openPTY(t *testing.T) (control, tty *os.File) {
	t.Helper()
	control, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	var unlock int32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, control.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); e != 0 {
		control.Close()
		t.Skipf("unlocking the pseudo-terminal: %v", e)
	}
	var n uint32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, control.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); e != 0 {
		control.Close()
		t.Skipf("naming the pseudo-terminal: %v", e)
	}
	tty, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		control.Close()
		t.Skipf("opening the pseudo-terminal: %v", err)
	}
	return control, tty
}

// runOnStderr runs kerascope with stderr the given file and returns what
// the reader side received.
func runOnStderr(t *testing.T, args []string, stderr *os.File, reader *os.File) (int, string) {
	t.Helper()
	got := make(chan string)
	go func() {
		var b bytes.Buffer
		io.Copy(&b, reader) // ends with EIO (a terminal) or EOF (a pipe) once stderr closes
		got <- b.String()
	}()
	var out bytes.Buffer
	code := run(args, &out, stderr)
	stderr.Close()
	select {
	case s := <-got:
		return code, s
	case <-time.After(10 * time.Second):
		t.Fatal("reading stderr did not end")
	}
	return code, ""
}

// TestProgress shows the progress line on a terminal, erased at the end,
// and nothing in a pipe or when the work ends before the delay.
func TestProgress(t *testing.T) {
	model := filepath.Join(modelsDir, "rnn_2units", "k3.keras")
	png := filepath.Join(t.TempDir(), "g.png")
	predict := []string{"predict", filepath.Join(modelsDir, "rnn_1unit", "k3.keras"), "-i", filepath.Join(modelsDir, "rnn_1unit", "input.npy"), "--batch-size", "1"}
	defer func(d time.Duration) { progressDelay = d }(progressDelay)
	for _, c := range []struct {
		name  string
		args  []string
		delay time.Duration
		tty   bool
		want  string // the start of what stderr receives; "" for nothing
	}{
		{"png on a terminal", []string{"graph", "--units", "-o", png, model}, 0, true, "\rkerascope: rendering PNG… 0s\x1b[K"},
		{"predict on a terminal", predict, 0, true, "\rkerascope: predicting 8 samples… 0s\x1b[K"},
		{"png in a pipe", []string{"graph", "--units", "-o", png, model}, 0, false, ""},
		{"predict in a pipe", predict, 0, false, ""},
		{"quick work on a terminal", []string{"graph", "--units", "-o", png, model}, time.Hour, true, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			progressDelay = c.delay
			var reader, w *os.File
			if c.tty {
				reader, w = openPTY(t)
			} else {
				var err error
				if reader, w, err = os.Pipe(); err != nil {
					t.Fatal(err)
				}
			}
			defer reader.Close()
			code, got := runOnStderr(t, c.args, w, reader)
			if code != exitOK {
				t.Fatalf("exit %d, stderr %q", code, got)
			}
			if c.want == "" {
				if got != "" {
					t.Errorf("stderr %q, want nothing", got)
				}
				return
			}
			if !strings.HasPrefix(got, c.want) {
				t.Errorf("stderr %q, want it to start with %q", got, c.want)
			}
			// The line is erased, so the prompt or an error starts clean.
			if !strings.HasSuffix(got, "\r\x1b[K") || strings.Contains(got, "\n") {
				t.Errorf("stderr %q does not end by erasing its line", got)
			}
		})
	}
}
