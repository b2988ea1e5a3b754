package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kerascope/kerascope/keras"
	"github.com/kerascope/kerascope/keras/tensor"
)

// TestMain lets a test run the command in a child process (this test
// binary, with KERASCOPE_CHILD_ARGS set), so that it can be sent SIGTERM.
func TestMain(m *testing.M) {
	if args := os.Getenv("KERASCOPE_CHILD_ARGS"); args != "" {
		os.Exit(run(strings.Split(args, "\x1f"), os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

func TestServeUsage(t *testing.T) {
	model := filepath.Join(modelsDir, "bench_mlp", "k3.keras")
	cases := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"serve"}, exitUsage, "give --model NAME=PATH or --model-base-path DIR"},
		{[]string{"serve", "--model", model}, exitUsage, "want NAME=PATH"},
		{[]string{"serve", "--model", "a=" + model, "--model", "a=" + model, "--port", "0"}, exitUsage, `model "a" given twice`},
		{[]string{"serve", "--model", "a/b=" + model}, exitUsage, `model name "a/b"`},
		{[]string{"serve", "--model", "a=" + model, "--log-format", "xml"}, exitUsage, "--log-format"},
		{[]string{"serve", "--model", "a=" + model, "--port", "70000"}, exitUsage, "--port 70000"},
		{[]string{"serve", "--model", "a=" + model, "extra"}, exitUsage, "unexpected argument"},
		{[]string{"serve", "--model-base-path", "nonexistent-dir"}, exitError, "nonexistent-dir: not a directory"},
		{[]string{"serve", "--model", "a=missing.keras", "--port", "0", "--log-level", "error"}, exitError, "missing.keras"},
		{[]string{"serve", "--model", "a=" + filepath.Join(modelsDir, "manifest.json"), "--port", "0", "--log-level", "error"}, exitNotKeras, "manifest.json"},
	}
	for _, c := range cases {
		var out, errb bytes.Buffer
		code := run(c.args, &out, &errb)
		first, _, _ := strings.Cut(errb.String(), "\n")
		if code != c.code || !strings.Contains(first, c.msg) || !strings.HasPrefix(first, "kerascope: error: ") {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and one line with %q", c.args, code, errb.String(), c.code, c.msg)
		}
	}
}

// startServe runs `kerascope serve ARGS --port 0` in a child process and
// returns its address once it listens.
func startServe(t *testing.T, args ...string) (*exec.Cmd, string, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "KERASCOPE_CHILD_ARGS="+strings.Join(append([]string{"serve", "--port", "0", "--log-format", "json"}, args...), "\x1f"))
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	var log bytes.Buffer
	lines := bufio.NewScanner(stderr)
	addr := regexp.MustCompile(`"addr":"(127\.0\.0\.1:\d+)"`)
	for lines.Scan() {
		log.WriteString(lines.Text() + "\n")
		if m := addr.FindStringSubmatch(lines.Text()); m != nil {
			go func() {
				for lines.Scan() {
				}
			}()
			return cmd, "http://" + m[1], &log
		}
	}
	t.Fatalf("the server did not listen:\n%s", log.String())
	return nil, "", nil
}

// TestServeSIGTERM sends requests that wait in a micro-batch, then
// SIGTERM: every accepted request must be answered correctly, the process
// exit 0, and nothing be accepted afterwards.
func TestServeSIGTERM(t *testing.T) {
	dir := filepath.Join(modelsDir, "bench_mlp")
	cmd, url, _ := startServe(t, "--model", "mlp="+filepath.Join(dir, "k3.keras"), "--batch-max", "64", "--batch-timeout", "5s")
	in := readTensor(t, filepath.Join(dir, "input.npy"))
	want := readTensor(t, filepath.Join(dir, "k3.keras.output.npy"))
	waitHTTP(t, url+"/readyz", 200)
	const n = 6
	inner, outer := in.Shape[1], want.Shape[1]
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			row := make([]float64, inner)
			for j := range row {
				row[j] = float64(in.Data[i*inner+j])
			}
			body, _ := json.Marshal(map[string]any{"instances": [][]float64{row}})
			resp, err := http.Post(url+"/v1/models/mlp:predict", "application/json", bytes.NewReader(body))
			if err != nil {
				errs[i] = err
				return
			}
			defer resp.Body.Close()
			var doc struct{ Predictions [][]float64 }
			b, _ := io.ReadAll(resp.Body)
			if err := json.Unmarshal(b, &doc); err != nil || resp.StatusCode != 200 || len(doc.Predictions) != 1 || len(doc.Predictions[0]) != outer {
				errs[i] = fmt.Errorf("request %d: %d %s", i, resp.StatusCode, b)
				return
			}
			for j, v := range doc.Predictions[0] {
				w := float64(want.Data[i*outer+j])
				if d := v - w; d > 1e-5+1e-4*abs(w) || -d > 1e-5+1e-4*abs(w) {
					errs[i] = fmt.Errorf("request %d value %d: %g, Keras gives %g", i, j, v, w)
				}
			}
		})
	}
	waitFor(t, func() bool {
		return strings.Contains(getBody(url+"/metrics"), fmt.Sprintf("kerascope_serve_in_flight_requests %d", n))
	})
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("exit: %v", err)
	}
	if _, err := http.Get(url + "/healthz"); err == nil {
		t.Error("still accepting after SIGTERM")
	}
}

func abs(x float64) float64 { return max(x, -x) }

func readTensor(t *testing.T, path string) *keras.Tensor {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	x, err := tensor.ReadNPY(f)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func getBody(url string) string {
	resp, err := http.Get(url)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func waitHTTP(t *testing.T, url string, code int) {
	t.Helper()
	waitFor(t, func() bool {
		resp, err := http.Get(url)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == code
	})
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("timed out")
}
