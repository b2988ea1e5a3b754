// Command kerascope-bench is the Go half of `make bench-keras`: a worker
// that loads one model, then times predictions on request, so that a
// driver (testdata/gen/bench_keras.py) can alternate it with a Keras
// worker on the same machine in one run.
//
// Usage:
//
//	kerascope-bench MODEL INPUT.npy [BATCH]
//
// It reads commands from stdin, one per line, and answers each with one
// JSON line on stdout:
//
//	single N   N predictions of the input's first sample: {"ns": [t1, ...]}
//	batch N    N predictions of a batch of BATCH samples: {"ns": [t1, ...]}
//	rss        peak resident memory:                      {"maxrss_kb": K}
//	dump PATH  the batch's first output, written to PATH as .npy: {"ok": true}
//	quit       exit
//
// BATCH is 64 unless given. A batch repeats the input's samples when it
// holds fewer than BATCH.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/kerascope/kerascope/keras"
	"github.com/kerascope/kerascope/keras/tensor"
)

const defaultBatch = 64

func main() {
	batchSize := defaultBatch
	if len(os.Args) == 4 {
		n, err := strconv.Atoi(os.Args[3])
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "kerascope-bench: bad batch size %q\n", os.Args[3])
			os.Exit(2)
		}
		batchSize = n
	}
	if len(os.Args) != 3 && len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: kerascope-bench MODEL INPUT.npy [BATCH]")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2], batchSize, os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "kerascope-bench:", err)
		os.Exit(1)
	}
}

func run(modelPath, inputPath string, batchSize int, stdin io.Reader, stdout io.Writer) error {
	net, err := keras.Load(modelPath)
	if err != nil {
		return err
	}
	f, err := os.Open(inputPath)
	if err != nil {
		return err
	}
	x, err := tensor.ReadNPY(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("%s: %w", inputPath, err)
	}
	if len(x.Shape) == 0 || x.Shape[0] == 0 {
		return fmt.Errorf("%s: empty input", inputPath)
	}
	single := x.Slice(0, 1)
	batch := tile(x, batchSize)
	// Warm up both paths once, so the first timed call is not the first.
	for _, in := range []*keras.Tensor{single, batch} {
		if _, err := net.Predict(in); err != nil {
			return err
		}
	}
	fmt.Fprintf(os.Stderr, "kerascope-bench: %s ready (BLAS: %s)\n", modelPath, keras.BLAS())
	out := bufio.NewWriter(stdout)
	sc := bufio.NewScanner(stdin)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		var reply any
		switch fields[0] {
		case "single", "batch":
			n := 1
			if len(fields) > 1 {
				if n, err = strconv.Atoi(fields[1]); err != nil || n < 1 {
					return fmt.Errorf("bad count in %q", sc.Text())
				}
			}
			in := single
			if fields[0] == "batch" {
				in = batch
			}
			ns := make([]int64, n)
			for i := range ns {
				start := time.Now()
				if _, err := net.Predict(in); err != nil {
					return err
				}
				ns[i] = time.Since(start).Nanoseconds()
			}
			reply = map[string]any{"ns": ns}
		case "rss":
			var ru syscall.Rusage
			if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
				return err
			}
			reply = map[string]any{"maxrss_kb": ru.Maxrss}
		case "dump":
			if len(fields) != 2 {
				return fmt.Errorf("bad dump command %q", sc.Text())
			}
			out, err := net.Predict(batch)
			if err != nil {
				return err
			}
			if err := writeNPY(fields[1], out[0]); err != nil {
				return err
			}
			reply = map[string]any{"ok": true}
		case "quit":
			return nil
		default:
			return fmt.Errorf("unknown command %q", sc.Text())
		}
		b, _ := json.Marshal(reply)
		out.Write(append(b, '\n'))
		out.Flush()
	}
	return sc.Err()
}

func writeNPY(path string, t *keras.Tensor) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := tensor.WriteNPY(f, t); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	return f.Close()
}

// tile returns a batch of n samples, repeating x's samples in order.
func tile(x *keras.Tensor, n int) *keras.Tensor {
	per := len(x.Data) / x.Shape[0]
	shape := append([]int{n}, x.Shape[1:]...)
	t := &keras.Tensor{Shape: shape, Data: make([]float32, n*per)}
	for i := 0; i < n; i++ {
		j := i % x.Shape[0]
		copy(t.Data[i*per:(i+1)*per], x.Data[j*per:(j+1)*per])
	}
	return t
}
