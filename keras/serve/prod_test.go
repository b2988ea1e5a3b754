package serve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
)

// metricValue reads one series of the server's registry: a gauge's or
// counter's value, or a histogram's sample count.
func metricValue(t testing.TB, s *Server, name string, labels map[string]string) float64 {
	t.Helper()
	families, err := s.metrics.registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	next:
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if want, ok := labels[l.GetName()]; ok && want != l.GetValue() {
					continue next
				}
			}
			switch f.GetType() {
			case dto.MetricType_GAUGE:
				return m.GetGauge().GetValue()
			case dto.MetricType_COUNTER:
				return m.GetCounter().GetValue()
			case dto.MetricType_HISTOGRAM:
				return float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return 0
}

// waitFor polls cond for up to 10s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// mlpRequests builds one single-row request per row of bench_mlp's input,
// with Keras's output for that row.
func mlpRequests(t testing.TB) (bodies [][]byte, want [][]float32) {
	in, out := fixtureIO(t, "bench_mlp", "k3.keras")
	for r := range in[0].Shape[0] {
		bodies = append(bodies, mustJSON(t, map[string]any{"instances": []any{row(in[0], r)}}))
		inner := len(out[0].Data) / out[0].Shape[0]
		want = append(want, out[0].Data[r*inner:(r+1)*inner])
	}
	return bodies, want
}

// checkRow checks a single-row predict answer against Keras's row.
func checkRow(body []byte, want []float32) error {
	var doc struct{ Predictions []any }
	if err := json.Unmarshal(body, &doc); err != nil {
		return err
	}
	if len(doc.Predictions) != 1 {
		return fmt.Errorf("want 1 row, got %d", len(doc.Predictions))
	}
	got, err := flatten(doc.Predictions[0], []int{len(want)})
	if err != nil {
		return err
	}
	return closeTo(got, want)
}

func post(url string, body []byte) (int, []byte, error) {
	resp, err := http.Post(url, "application/json", bytesReader(body))
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// TestMicroBatching sends concurrent single-row requests and wants each
// answer equal to Keras's row while they ran in fewer Predict calls.
func TestMicroBatching(t *testing.T) {
	bodies, want := mlpRequests(t)
	s, ts := newTestServer(t, []Model{{Name: "mlp", Path: filepath.Join(modelsDir, "bench_mlp", "k3.keras")}},
		Options{BatchMax: 64, BatchTimeout: 200 * time.Millisecond, MaxConcurrent: 1})
	var wg sync.WaitGroup
	errs := make([]error, len(bodies))
	for i, b := range bodies {
		wg.Go(func() {
			code, body, err := post(ts.URL+"/v1/models/mlp:predict", b)
			if err == nil && code != 200 {
				err = fmt.Errorf("status %d: %s", code, body)
			}
			if err == nil {
				err = checkRow(body, want[i])
			}
			errs[i] = err
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if runs := metricValue(t, s, "kerascope_serve_batch_rows", nil); runs >= float64(len(bodies)) || runs == 0 {
		t.Errorf("%d requests ran in %v Predict calls; want fewer", len(bodies), runs)
	}
}

// TestQueueFull holds requests in a batch, fills the queue and wants 503
// with Retry-After, then every admitted request answered.
func TestQueueFull(t *testing.T) {
	bodies, want := mlpRequests(t)
	s, ts := newTestServer(t, []Model{{Name: "mlp", Path: filepath.Join(modelsDir, "bench_mlp", "k3.keras")}},
		Options{BatchMax: 64, BatchTimeout: 5 * time.Second, MaxConcurrent: 1, MaxQueue: 1})
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range 2 {
		wg.Go(func() {
			code, body, err := post(ts.URL+"/v1/models/mlp:predict", bodies[i])
			if err == nil && code != 200 {
				err = fmt.Errorf("status %d: %s", code, body)
			}
			if err == nil {
				err = checkRow(body, want[i])
			}
			errs[i] = err
		})
	}
	waitFor(t, "two requests in flight", func() bool { return metricValue(t, s, "kerascope_serve_in_flight_requests", nil) == 2 })
	resp, err := http.Post(ts.URL+"/v1/models/mlp:predict", "application/json", bytesReader(bodies[2]))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
		t.Errorf("a third request: %d (Retry-After %q) %s; want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"), b)
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if got := metricValue(t, s, "kerascope_serve_requests_total", map[string]string{"code": "503"}); got != 1 {
		t.Errorf("503s counted: %v", got)
	}
}

// copyVersion installs a model file as version n of a base directory the
// way a deployment should: written aside, then renamed into place.
func copyVersion(t testing.TB, base string, n int, src string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(base, fmt.Sprintf(".%d.tmp", n))
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tmp, "model"+filepath.Ext(src)), b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(base, fmt.Sprint(n))); err != nil {
		t.Fatal(err)
	}
}

// TestReloadUnderLoad adds a version while clients send requests: no
// request may fail, the new version must take over and the old one be
// retired.
func TestReloadUnderLoad(t *testing.T) {
	base := t.TempDir()
	src := filepath.Join(modelsDir, "bench_mlp", "k3.keras")
	copyVersion(t, base, 1, src)
	bodies, want := mlpRequests(t)
	s, ts := newTestServer(t, []Model{{Name: "mlp", BasePath: base}}, Options{PollInterval: -1})
	const clients, perClient = 4, 100
	var done atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, clients)
	for c := range clients {
		wg.Go(func() {
			for i := range perClient {
				k := (c*perClient + i) % len(bodies)
				code, body, err := post(ts.URL+"/v1/models/mlp:predict", bodies[k])
				if err == nil && code != 200 {
					err = fmt.Errorf("status %d: %s", code, body)
				}
				if err == nil {
					err = checkRow(body, want[k])
				}
				if err != nil {
					errs[c] = fmt.Errorf("client %d request %d: %w", c, i, err)
					return
				}
				done.Add(1)
			}
		})
	}
	waitFor(t, "a quarter of the requests", func() bool { return done.Load() >= clients*perClient/4 })
	copyVersion(t, base, 2, src)
	s.PollNow()
	before := done.Load()
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if before >= clients*perClient {
		t.Fatal("the load ended before the reload; the test proves nothing")
	}
	if v := metricValue(t, s, "kerascope_serve_model_version", map[string]string{"model": "mlp"}); v != 2 {
		t.Errorf("serving version %v, want 2", v)
	}
	waitFor(t, "version 1 retired", func() bool {
		st := s.models["mlp"].statusOf(1)
		return len(st) == 1 && st[0].state == stateEnd
	})
}

// TestShutdownFinishesAccepted holds requests in a batch, shuts the HTTP
// server down, and wants every accepted request answered.
func TestShutdownFinishesAccepted(t *testing.T) {
	bodies, want := mlpRequests(t)
	s, err := New([]Model{{Name: "mlp", Path: filepath.Join(modelsDir, "bench_mlp", "k3.keras")}},
		Options{BatchMax: 64, BatchTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: s}
	go srv.Serve(ln)
	url := "http://" + ln.Addr().String()
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			code, body, err := post(url+"/v1/models/mlp:predict", bodies[i])
			if err == nil && code != 200 {
				err = fmt.Errorf("status %d: %s", code, body)
			}
			if err == nil {
				err = checkRow(body, want[i])
			}
			errs[i] = err
		})
	}
	waitFor(t, "requests in flight", func() bool { return metricValue(t, s, "kerascope_serve_in_flight_requests", nil) == n })
	s.Drain()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	s.Close()
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if _, _, err := post(url+"/v1/models/mlp:predict", bodies[0]); err == nil {
		t.Error("a request after shutdown was answered")
	}
}

// TestHealthReady: /healthz answers at once, /readyz only once every model
// serves and until draining.
func TestHealthReady(t *testing.T) {
	base := t.TempDir()
	s, ts := newTestServer(t, []Model{{Name: "mlp", BasePath: base}}, Options{PollInterval: -1})
	get := func(path string) int {
		code, _ := call(t, "GET", ts.URL+path, nil)
		return code
	}
	if get("/healthz") != 200 || get("/readyz") != 503 {
		t.Fatalf("before any version: healthz %d readyz %d", get("/healthz"), get("/readyz"))
	}
	copyVersion(t, base, 3, filepath.Join(modelsDir, "bench_mlp", "k3.keras"))
	s.PollNow()
	if get("/readyz") != 200 {
		t.Errorf("readyz %d once loaded", get("/readyz"))
	}
	s.Drain()
	if get("/readyz") != 503 {
		t.Errorf("readyz %d while draining", get("/readyz"))
	}
	code, body := call(t, "GET", ts.URL+"/metrics", nil)
	if code != 200 || !bytesContains(body, "kerascope_serve_in_flight_requests") {
		t.Errorf("/metrics: %d", code)
	}
}

// TestBadVersionKeepsServing: a version that does not load leaves the
// current one serving, and the status tells why.
func TestBadVersionKeepsServing(t *testing.T) {
	base := t.TempDir()
	copyVersion(t, base, 1, filepath.Join(modelsDir, "bench_mlp", "k3.keras"))
	s, ts := newTestServer(t, []Model{{Name: "mlp", BasePath: base}}, Options{PollInterval: -1})
	if err := os.MkdirAll(filepath.Join(base, "2"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(base, "2", "model.keras"), []byte("not a zip"), 0o644); err != nil {
		t.Fatal(err)
	}
	s.PollNow()
	bodies, want := mlpRequests(t)
	code, body := call(t, "POST", ts.URL+"/v1/models/mlp:predict", bodies[0])
	if code != 200 || checkRow(body, want[0]) != nil {
		t.Fatalf("%d %s", code, body)
	}
	code, body = call(t, "GET", ts.URL+"/v1/models/mlp/versions/2", nil)
	if code != 200 || !bytesContains(body, `"state": "END"`) || !bytesContains(body, `"error_code": "UNKNOWN"`) {
		t.Errorf("status of the bad version: %d %s", code, body)
	}
}

// TestClientLeavesQueue: a request whose client gives up while it waits
// for a compute slot is dropped (TF Serving's CANCELLED, 499), and the
// queue gauge comes back to zero.
func TestClientLeavesQueue(t *testing.T) {
	bodies, _ := mlpRequests(t)
	s, ts := newTestServer(t, []Model{{Name: "mlp", Path: filepath.Join(modelsDir, "bench_mlp", "k3.keras")}},
		Options{MaxConcurrent: 1})
	s.compute <- struct{}{} // every slot busy
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "POST", ts.URL+"/v1/models/mlp:predict", bytesReader(bodies[0]))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	waitFor(t, "a queued request", func() bool { return metricValue(t, s, "kerascope_serve_queue_depth", nil) == 1 })
	cancel()
	if err := <-done; err == nil {
		t.Error("the cancelled request was answered")
	}
	waitFor(t, "the request dropped", func() bool {
		return metricValue(t, s, "kerascope_serve_requests_total", map[string]string{"code": "499"}) == 1 &&
			metricValue(t, s, "kerascope_serve_queue_depth", nil) == 0
	})
	<-s.compute
}
