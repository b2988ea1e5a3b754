// Command kerascope-loadtest drives `kerascope serve` with concurrent
// clients on loopback and reports throughput and latency, with and
// without micro-batching, next to in-process Predict: `make loadtest`.
//
// Every run is bounded by a request count and a time limit, and connects
// only to 127.0.0.1, where it starts the server itself (--port 0).
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kerascope/kerascope/keras"
	"github.com/kerascope/kerascope/keras/tensor"
)

func main() {
	bin := flag.String("bin", "bin/kerascope", "the kerascope binary to serve with")
	models := flag.String("models", "bench_mlp,bench_cnn,bench_lstm", "benchmark models under testdata/models")
	requests := flag.Int("requests", 10000, "requests per loaded run (bounded also by -time-limit)")
	clients := flag.Int("clients", 8, "concurrent clients in loaded runs")
	limit := flag.Duration("time-limit", 30*time.Second, "the longest any one run may take")
	batchMax := flag.Int("batch-max", 32, "--batch-max of the micro-batching runs")
	batchTimeout := flag.Duration("batch-timeout", 2*time.Millisecond, "--batch-timeout of the micro-batching runs")
	flag.Parse()
	if err := loadtest(*bin, strings.Split(*models, ","), *requests, *clients, *limit, *batchMax, *batchTimeout); err != nil {
		fmt.Fprintln(os.Stderr, "kerascope-loadtest:", err)
		os.Exit(1)
	}
}

func loadtest(bin string, models []string, requests, clients int, limit time.Duration, batchMax int, batchTimeout time.Duration) error {
	fmt.Printf("| model | run | clients | requests | failed | req/s | p50 ms | p99 ms | heap after warm-up → end MiB | RSS after warm-up → end MiB |\n")
	fmt.Printf("|---|---|---|---|---|---|---|---|---|---|\n")
	failed := 0
	for _, name := range models {
		dir := filepath.Join("testdata", "models", name)
		file := filepath.Join(dir, "k3.keras")
		net, err := keras.Load(file)
		if err != nil {
			return err
		}
		in, err := readNPY(filepath.Join(dir, "input.npy"))
		if err != nil {
			return err
		}
		rows, bodies := singleRows(in)

		// In-process: one goroutine calling Predict on one row, the
		// work a request does without HTTP and JSON.
		lat, n, err := inProcess(net, rows, min(requests, 2000), limit)
		if err != nil {
			return err
		}
		base := percentile(lat, 50)
		fmt.Printf("| %s | in-process Predict, 1 row | 1 | %d | 0 | %.0f | %.3f | %.3f | | |\n", name, n, float64(n)/sum(lat).Seconds(), ms(base), ms(percentile(lat, 99)))

		runs := []struct {
			label   string
			clients int
			count   int
			args    []string
		}{
			{"served, 1 row, sequential", 1, min(requests, 2000), nil},
			{"served, 1 row", clients, requests, nil},
			{fmt.Sprintf("served, 1 row, --batch-max %d --batch-timeout %s", batchMax, batchTimeout), clients, requests,
				[]string{"--batch-max", strconv.Itoa(batchMax), "--batch-timeout", batchTimeout.String()}},
		}
		for _, r := range runs {
			res, err := served(bin, file, bodies, r.clients, r.count, limit, r.args)
			if err != nil {
				return fmt.Errorf("%s, %s: %w", name, r.label, err)
			}
			failed += res.failed
			p50 := percentile(res.lat, 50)
			extra := ""
			if r.clients == 1 {
				extra = fmt.Sprintf(" (+%.3f ms over in-process)", ms(p50-base))
			}
			fmt.Printf("| %s | %s | %d | %d | %d | %.0f | %.3f%s | %.3f | %.1f → %.1f | %.1f → %.1f |\n", name, r.label, r.clients,
				len(res.lat), res.failed, float64(len(res.lat))/res.wall.Seconds(), ms(p50), extra, ms(percentile(res.lat, 99)),
				mib(res.heap0), mib(res.heap1), mib(res.rss0), mib(res.rss1))
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d requests failed", failed)
	}
	return nil
}

func readNPY(path string) (*keras.Tensor, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return tensor.ReadNPY(f)
}

// singleRows splits a batch into one-row tensors and the request bodies
// that send them.
func singleRows(in *keras.Tensor) ([]*keras.Tensor, [][]byte) {
	inner := len(in.Data) / in.Shape[0]
	var rows []*keras.Tensor
	var bodies [][]byte
	for r := range in.Shape[0] {
		t := &keras.Tensor{Shape: append([]int{1}, in.Shape[1:]...), Data: in.Data[r*inner : (r+1)*inner]}
		rows = append(rows, t)
		var b bytes.Buffer
		b.WriteString(`{"instances": [`)
		writeNested(&b, t.Shape[1:], t.Data)
		b.WriteString(`]}`)
		bodies = append(bodies, b.Bytes())
	}
	return rows, bodies
}

func writeNested(b *bytes.Buffer, shape []int, data []float32) {
	if len(shape) == 0 {
		b.WriteString(strconv.FormatFloat(float64(data[0]), 'g', -1, 32))
		return
	}
	inner := len(data) / shape[0]
	b.WriteByte('[')
	for i := range shape[0] {
		if i > 0 {
			b.WriteByte(',')
		}
		writeNested(b, shape[1:], data[i*inner:(i+1)*inner])
	}
	b.WriteByte(']')
}

func inProcess(net *keras.Net, rows []*keras.Tensor, count int, limit time.Duration) ([]time.Duration, int, error) {
	var lat []time.Duration
	end := time.Now().Add(limit)
	for i := 0; i < count && time.Now().Before(end); i++ {
		t0 := time.Now()
		if _, err := net.Predict(rows[i%len(rows)]); err != nil {
			return nil, 0, err
		}
		lat = append(lat, time.Since(t0))
	}
	return lat, len(lat), nil
}

type result struct {
	lat                      []time.Duration
	failed                   int
	wall                     time.Duration
	heap0, heap1, rss0, rss1 float64
}

// served starts the server on a free loopback port, warms it up, then
// sends count requests from the given number of clients.
func served(bin, file string, bodies [][]byte, clients, count int, limit time.Duration, extra []string) (*result, error) {
	args := append([]string{"serve", "--model", "m=" + file, "--port", "0", "--host", "127.0.0.1", "--log-format", "json", "--max-queue", "1024"}, extra...)
	cmd := exec.Command(bin, args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	url, err := waitListening(stderr)
	if err != nil {
		return nil, err
	}
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if resp, err := client.Get(url + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			return nil, errors.New("the server did not get ready")
		}
	}
	predict := url + "/v1/models/m:predict"
	// Warm-up, then the memory baseline.
	if _, failed := drive(client, predict, bodies, clients, min(500, count), limit); failed > 0 {
		return nil, fmt.Errorf("%d warm-up requests failed", failed)
	}
	res := &result{}
	res.heap0, res.rss0 = memory(client, url, cmd.Process.Pid)
	t0 := time.Now()
	res.lat, res.failed = drive(client, predict, bodies, clients, count, limit)
	res.wall = time.Since(t0)
	res.heap1, res.rss1 = memory(client, url, cmd.Process.Pid)
	return res, nil
}

func waitListening(r io.Reader) (string, error) {
	addr := regexp.MustCompile(`"addr":"(127\.0\.0\.1:\d+)"`)
	lines := bufio.NewScanner(r)
	for lines.Scan() {
		if m := addr.FindStringSubmatch(lines.Text()); m != nil {
			go io.Copy(io.Discard, r)
			return "http://" + m[1], nil
		}
	}
	return "", errors.New("the server exited before listening")
}

// drive sends count requests from clients goroutines, stopping at the
// time limit; it returns the latency of each answered request and the
// number of failures (errors or statuses other than 200).
func drive(client *http.Client, url string, bodies [][]byte, clients, count int, limit time.Duration) ([]time.Duration, int) {
	var next, failed atomic.Int64
	lat := make([]time.Duration, count)
	end := time.Now().Add(limit)
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= count || time.Now().After(end) {
					return
				}
				t0 := time.Now()
				resp, err := client.Post(url, "application/json", bytes.NewReader(bodies[i%len(bodies)]))
				if err != nil {
					failed.Add(1)
					lat[i] = -1
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					failed.Add(1)
					lat[i] = -1
					continue
				}
				lat[i] = time.Since(t0)
			}
		})
	}
	wg.Wait()
	var out []time.Duration
	for _, d := range lat {
		if d > 0 {
			out = append(out, d)
		}
	}
	return out, int(failed.Load())
}

// memory reads the server's Go heap in use (from /metrics) and its
// resident set (from /proc).
func memory(client *http.Client, url string, pid int) (heap, rss float64) {
	if resp, err := client.Get(url + "/metrics"); err == nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if m := regexp.MustCompile(`(?m)^go_memstats_heap_inuse_bytes (\S+)$`).FindSubmatch(b); m != nil {
			heap, _ = strconv.ParseFloat(string(m[1]), 64)
		}
	}
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
		if m := regexp.MustCompile(`VmRSS:\s+(\d+) kB`).FindSubmatch(b); m != nil {
			kb, _ := strconv.ParseFloat(string(m[1]), 64)
			rss = kb * 1024
		}
	}
	return heap, rss
}

func percentile(lat []time.Duration, p int) time.Duration {
	if len(lat) == 0 {
		return 0
	}
	s := slices.Clone(lat)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)]
}

func sum(lat []time.Duration) time.Duration {
	var t time.Duration
	for _, d := range lat {
		t += d
	}
	return t
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }
func mib(b float64) float64      { return b / (1 << 20) }
