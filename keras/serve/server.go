package serve

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kerascope/kerascope/keras"
	"github.com/kerascope/kerascope/keras/tensor"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Options are a Server's limits and behaviour; zero values take the
// defaults named.
type Options struct {
	// MaxBodyBytes bounds a request body (default 32 MiB); a longer one
	// is refused with 413 before it is read past the limit.
	MaxBodyBytes int64
	// MaxTensorValues bounds the values of a request's input tensors
	// (default 16M, 64 MiB of float32), checked from the shapes before
	// any tensor is allocated.
	MaxTensorValues int
	// MaxConcurrent is how many Predict calls run at once (default
	// GOMAXPROCS).
	MaxConcurrent int
	// MaxQueue is how many more requests may wait beyond those running
	// (default 64); past it a request is answered 503 with Retry-After.
	MaxQueue int
	// BatchMax > 1 turns on micro-batching: concurrent requests on one
	// version are stacked into one Predict of up to BatchMax rows,
	// waiting at most BatchTimeout (default 2ms) for others to join.
	BatchMax     int
	BatchTimeout time.Duration
	// PollInterval is how often base directories are looked at for new
	// versions (default 2s; negative: never, call PollNow).
	PollInterval time.Duration
	// Logger receives structured logs (default: discarded).
	Logger *slog.Logger
}

// A Server serves Keras models over TensorFlow Serving's REST API. It is
// an http.Handler answering:
//
//	POST /v1/models/NAME[/versions/N]:predict   TF Serving's predict API
//	GET  /v1/models/NAME[/versions/N]           model version status
//	GET  /v1/models/NAME[/versions/N]/metadata  the serving_default signature
//	GET  /healthz                               200 while the process runs
//	GET  /readyz                                200 once every model serves
//	GET  /metrics                               Prometheus metrics
type Server struct {
	opts    Options
	log     *slog.Logger
	models  map[string]*served
	order   []string
	metrics *metrics
	compute chan struct{} // Predict slots
	// admitted counts requests inside the handler, bounded by
	// MaxConcurrent + MaxQueue.
	admitted atomic.Int64
	draining atomic.Bool

	stop     chan struct{}
	polling  sync.WaitGroup
	retiring sync.WaitGroup
	bufs     sync.Pool
	once     sync.Once
}

// New checks the configuration and returns a Server that has loaded
// nothing yet: Start loads the models.
func New(models []Model, opts Options) (*Server, error) {
	if len(models) == 0 {
		return nil, errors.New("no model to serve")
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 32 << 20
	}
	if opts.MaxTensorValues <= 0 {
		opts.MaxTensorValues = tensor.DefaultMaxValues // what predict reads from a stream, too
	}
	if opts.MaxConcurrent <= 0 {
		opts.MaxConcurrent = runtime.GOMAXPROCS(0)
	}
	if opts.MaxQueue < 0 {
		return nil, errors.New("the queue length cannot be negative")
	}
	if opts.MaxQueue == 0 {
		opts.MaxQueue = 64
	}
	if opts.BatchTimeout <= 0 {
		opts.BatchTimeout = 2 * time.Millisecond
	}
	if opts.PollInterval == 0 {
		opts.PollInterval = 2 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{opts: opts, log: opts.Logger, models: make(map[string]*served), metrics: newMetrics(),
		compute: make(chan struct{}, opts.MaxConcurrent), stop: make(chan struct{})}
	for _, m := range models {
		switch {
		case m.Name == "" || !validName.MatchString(m.Name):
			return nil, fmt.Errorf("model name %q: want letters, digits, '-', '_' or '.'", m.Name)
		case s.models[m.Name] != nil:
			return nil, fmt.Errorf("model %q given twice", m.Name)
		case (m.Path == "") == (m.BasePath == ""):
			return nil, fmt.Errorf("model %q: give a file or a base directory", m.Name)
		}
		s.models[m.Name] = &served{cfg: m, failed: make(map[string]string)}
		s.order = append(s.order, m.Name)
	}
	return s, nil
}

var validName = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)

// Start loads every model: files, and the highest version of each base
// directory. It returns the first error of a file that does not load (a
// base directory without a loadable version is polled until it has one),
// and starts polling base directories.
func (s *Server) Start() error {
	var first error
	for _, name := range s.order {
		m := s.models[name]
		var err error
		if m.cfg.Path != "" {
			err = s.loadFile(m)
		} else if err = s.poll(m); err != nil {
			s.log.Error("model version not loaded", "model", name, "err", err)
			err = nil
		}
		if err != nil && first == nil {
			first = err
		}
	}
	if s.opts.PollInterval > 0 {
		s.polling.Add(1)
		go s.pollLoop(s.opts.PollInterval)
	}
	return first
}

// Ready reports whether every model serves a version and the server is
// not draining.
func (s *Server) Ready() bool {
	if s.draining.Load() {
		return false
	}
	for _, m := range s.models {
		m.mu.RLock()
		ok := m.current != nil
		m.mu.RUnlock()
		if !ok {
			return false
		}
	}
	return true
}

// Drain makes /readyz answer 503 so that a load balancer stops sending
// requests; call it before http.Server.Shutdown.
func (s *Server) Drain() { s.draining.Store(true) }

// Close stops polling and, once every request has finished (after
// http.Server.Shutdown), the batchers.
func (s *Server) Close() {
	s.once.Do(func() {
		close(s.stop)
		s.polling.Wait()
		s.retiring.Wait()
		for _, m := range s.models {
			m.mu.Lock()
			if v := m.current; v != nil && v.batch != nil {
				v.active.Wait()
				v.batch.stop()
			}
			m.mu.Unlock()
		}
	})
}

// TF Serving's REST paths (http_rest_api_util.cc), matched on the escaped
// path; names are then unescaped.
var (
	predictPath = regexp.MustCompile(`^(?i)/v1/models/([^/:]+)(?:(?:/versions/(\d+))|(?:/labels/([^/:]+)))?:(classify|regress|predict)$`)
	statusPath  = regexp.MustCompile(`^(?i)/v1/models(?:/([^/:]+))?(?:(?:/versions/(\d+))|(?:/labels/([^/:]+)))?(?:/(metadata))?$`)
)

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/healthz":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
		return
	case "/readyz":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if !s.Ready() {
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, "not ready\n")
			return
		}
		io.WriteString(w, "ready\n")
		return
	case "/metrics":
		promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{}).ServeHTTP(w, r)
		return
	}
	start := time.Now()
	if len(r.URL.Path) < 3 || !(r.URL.Path[:3] == "/v1" || r.URL.Path[:3] == "/V1") {
		s.reply(w, start, "", "", &apiError{404, "no such endpoint: " + r.URL.Path})
		return
	}
	// Admission: past MaxConcurrent+MaxQueue, refuse at once rather than
	// let requests (and their bodies) pile up.
	if s.admitted.Add(1) > int64(s.opts.MaxConcurrent+s.opts.MaxQueue) {
		s.admitted.Add(-1)
		w.Header().Set("Retry-After", "1")
		s.reply(w, start, "", "", &apiError{503, "the server is at capacity: too many requests queued; retry later"})
		return
	}
	s.metrics.inFlight.Inc()
	defer func() { s.admitted.Add(-1); s.metrics.inFlight.Dec() }()

	path := r.URL.EscapedPath()
	if r.Method == http.MethodPost {
		if m := predictPath.FindStringSubmatch(path); m != nil {
			s.predict(w, r, start, m[1], m[2], m[3], m[4])
			return
		}
	} else if r.Method == http.MethodGet {
		if m := statusPath.FindStringSubmatch(path); m != nil {
			s.status(w, start, m[1], m[2], m[3], m[4] != "")
			return
		}
	}
	s.reply(w, start, "", "", invalid("Malformed request: %s %s", r.Method, path))
}

// resolve finds the model of a request and the version number it asks
// for (0: the latest), with TF Serving's errors.
func (s *Server) resolve(rawName, ver, label string) (*served, int64, string, *apiError) {
	name, err := url.PathUnescape(rawName)
	if err != nil {
		return nil, 0, "", invalid("Failed to decode model name:%s", rawName)
	}
	var num int64
	if ver != "" {
		if num, err = strconv.ParseInt(ver, 10, 64); err != nil {
			return nil, 0, name, invalid("Failed to convert version: %s to numeric.", ver)
		}
	}
	m := s.models[name]
	if label != "" {
		// kerascope defines no version labels.
		l, _ := url.PathUnescape(label)
		return nil, 0, name, invalid("Unrecognized servable version label: %s", l)
	}
	if m == nil {
		if ver != "" {
			return nil, 0, name, &apiError{404, fmt.Sprintf("Servable not found for request: Specific(%s, %d)", name, num)}
		}
		return nil, 0, name, &apiError{404, fmt.Sprintf("Servable not found for request: Latest(%s)", name)}
	}
	return m, num, name, nil
}

func notFound(name string, num int64) *apiError {
	if num != 0 {
		return &apiError{404, fmt.Sprintf("Servable not found for request: Specific(%s, %d)", name, num)}
	}
	return &apiError{404, fmt.Sprintf("Servable not found for request: Latest(%s)", name)}
}

func (s *Server) predict(w http.ResponseWriter, r *http.Request, start time.Time, rawName, ver, label, method string) {
	m, num, name, aerr := s.resolve(rawName, ver, label)
	if aerr != nil {
		s.reply(w, start, s.modelLabel(name), "predict", aerr)
		return
	}
	if method != "predict" {
		s.reply(w, start, name, method, invalid("Expected %s signature method_name to be tensorflow/serving/%s. Was: tensorflow/serving/predict (a Keras model serves the predict API only)", map[string]string{"classify": "classification", "regress": "regression"}[method], method))
		return
	}
	v := m.acquire(num)
	if v == nil {
		s.reply(w, start, name, "predict", notFound(name, num))
		return
	}
	defer v.release()

	buf := s.getBuf()
	defer s.bufs.Put(buf)
	if r.ContentLength > s.opts.MaxBodyBytes {
		s.reply(w, start, name, "predict", &apiError{413, fmt.Sprintf("the request body of %d bytes exceeds the limit of %d", r.ContentLength, s.opts.MaxBodyBytes)})
		return
	}
	if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes)); err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			s.reply(w, start, name, "predict", &apiError{413, fmt.Sprintf("the request body exceeds the limit of %d bytes", s.opts.MaxBodyBytes)})
			return
		}
		s.reply(w, start, name, "predict", invalid("reading the request body: %v", err))
		return
	}
	inputs, f, aerr := parsePredict(buf.Bytes(), v.inputs, readLimits{maxElements: s.opts.MaxTensorValues})
	if aerr != nil {
		s.reply(w, start, name, "predict", aerr)
		return
	}
	s.metrics.queued.Inc()
	var outs []*keras.Tensor
	var err error
	if v.batch != nil {
		outs, err = v.batch.predict(inputs)
	} else {
		select {
		case s.compute <- struct{}{}:
		case <-r.Context().Done():
			// The client left while queued: TF Serving's CANCELLED.
			s.metrics.queued.Dec()
			s.reply(w, start, name, "predict", &apiError{499, "the client closed the request while it waited"})
			return
		}
		s.metrics.queued.Dec()
		s.metrics.batchSize.WithLabelValues(name).Observe(float64(max(batchRows(inputs), 1)))
		outs, err = v.net.Predict(inputs...)
		<-s.compute
	}
	if err != nil {
		// Everything Predict refuses is about the request's tensors
		// (TF Serving's INVALID_ARGUMENT from the session), except a
		// failure inside the model.
		code := 400
		if errors.Is(err, errUnbatchable) {
			code = 500
		}
		s.reply(w, start, name, "predict", &apiError{code, err.Error()})
		return
	}
	buf.Reset()
	body := appendResponse(buf.Bytes(), f, v.outputs, outs)
	w.Header().Set("Content-Type", "application/json")
	w.Write(body)
	s.observe(start, name, "predict", 200)
	// Keep the grown slice for the next request.
	*buf = *bytes.NewBuffer(body[:0])
}

func (s *Server) status(w http.ResponseWriter, start time.Time, rawName, ver, label string, metadata bool) {
	api := "status"
	if metadata {
		api = "metadata"
	}
	if rawName == "" {
		s.reply(w, start, "", api, invalid("Missing model name in request."))
		return
	}
	m, num, name, aerr := s.resolve(rawName, ver, label)
	if aerr != nil {
		if !metadata && aerr.code == 404 {
			// The status API's own not-found messages.
			if num != 0 {
				aerr.msg = fmt.Sprintf("Could not find version %d of model %s", num, name)
			} else {
				aerr.msg = "Could not find any versions of model " + name
			}
		}
		s.reply(w, start, s.modelLabel(name), api, aerr)
		return
	}
	var doc any
	if metadata {
		v := m.acquire(num)
		if v == nil {
			s.reply(w, start, name, api, notFound(name, num))
			return
		}
		doc = metadataDoc(name, v)
		v.release()
	} else {
		entries := m.statusOf(num)
		if len(entries) == 0 {
			msg := "Could not find any versions of model " + name
			if num != 0 {
				msg = fmt.Sprintf("Could not find version %d of model %s", num, name)
			}
			s.reply(w, start, name, api, &apiError{404, msg})
			return
		}
		doc = statusDoc(entries)
	}
	// protobuf's JSON printer with add_whitespace indents by one space.
	b, _ := json.MarshalIndent(doc, "", " ")
	w.Header().Set("Content-Type", "application/json")
	w.Write(append(b, '\n'))
	s.observe(start, name, api, 200)
}

// modelLabel keeps the metrics' model label to configured names, so that
// requests for arbitrary names cannot grow the series without bound.
func (s *Server) modelLabel(name string) string {
	if s.models[name] != nil {
		return name
	}
	return ""
}

func (s *Server) getBuf() *bytes.Buffer {
	if b, ok := s.bufs.Get().(*bytes.Buffer); ok {
		b.Reset()
		return b
	}
	return new(bytes.Buffer)
}

// reply answers an error as TF Serving does: {"error": "..."} with the
// status of its error code.
func (s *Server) reply(w http.ResponseWriter, start time.Time, model, api string, e *apiError) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.code)
	w.Write(appendError(nil, e.msg))
	s.observe(start, model, api, e.code)
	lvl := slog.LevelInfo
	if e.code >= 500 {
		lvl = slog.LevelWarn
	}
	s.log.Log(nil, lvl, "request refused", "model", model, "api", api, "code", e.code, "err", e.msg)
}

func (s *Server) observe(start time.Time, model, api string, code int) {
	c := strconv.Itoa(code)
	s.metrics.requests.WithLabelValues(model, api, c).Inc()
	s.metrics.latency.WithLabelValues(model, api, c).Observe(time.Since(start).Seconds())
	s.log.Debug("request", "model", model, "api", api, "code", code, "duration", time.Since(start))
}
