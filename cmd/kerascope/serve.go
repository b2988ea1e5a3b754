//go:build !js

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/kerascope/kerascope/keras/serve"
)

const serveHelp = `Serves models over TensorFlow Serving's REST API, so that clients written
for TF Serving work unchanged:

  POST /v1/models/NAME[/versions/N]:predict   {"instances": ...} or {"inputs": ...}
  GET  /v1/models/NAME[/versions/N]           version status
  GET  /v1/models/NAME[/versions/N]/metadata  the serving_default signature
  GET  /healthz, /readyz, /metrics            liveness, readiness, Prometheus

Models: --model NAME=PATH for a file (served as version 1), or TF Serving's
layout, --model-base-path DIR with numbered version directories each
holding one .keras or .h5 file: the highest version is served, a new one is
loaded when it appears (--poll-interval) and the old one retired once its
requests finish.

The server listens on 127.0.0.1 unless --host says otherwise (TF Serving
listens on every interface; give --host 0.0.0.0 for that). SIGTERM or
SIGINT stops accepting connections and finishes every accepted request
before exiting. Exit codes: 0 after a clean shutdown; 1 a model that does
not load or a port that cannot be bound; 2 usage errors.`

type serveOptions struct {
	models          []string
	basePath        string
	modelName       string
	host            string
	port            int
	maxBody         int64
	maxValues       int
	maxConcurrent   int
	maxQueue        int
	batchMax        int
	batchTimeout    time.Duration
	pollInterval    time.Duration
	readTimeout     time.Duration
	writeTimeout    time.Duration
	idleTimeout     time.Duration
	shutdownTimeout time.Duration
	logFormat       string
	logLevel        string
}

func serveFlags(out io.Writer) (*pflagSet, *serveOptions) {
	o := &serveOptions{}
	fs := newFlagSet("serve", out)
	fs.StringArrayVar(&o.models, "model", nil, "serve a model file as `NAME=PATH`; repeat for more models")
	fs.StringVar(&o.basePath, "model-base-path", "", "serve the numbered version directories of `DIR`, as TF Serving does")
	fs.StringVar(&o.modelName, "model-name", "default", "the name of the --model-base-path model")
	fs.StringVar(&o.host, "host", "127.0.0.1", "the `ADDRESS` to listen on (0.0.0.0: every interface)")
	fs.IntVar(&o.port, "port", 8501, "the TCP port (TF Serving's REST port; 0 picks a free one)")
	fs.Int64Var(&o.maxBody, "max-body-bytes", 32<<20, "refuse request bodies longer than `N` bytes (413)")
	fs.IntVar(&o.maxValues, "max-tensor-values", 16<<20, "refuse requests whose input tensors hold more than `N` values (413), before allocating them")
	fs.IntVar(&o.maxConcurrent, "max-concurrent", 0, "run at most `N` predictions at once (default: the number of CPUs)")
	fs.IntVar(&o.maxQueue, "max-queue", 64, "let at most `N` more requests wait; past that answer 503 with Retry-After")
	fs.IntVar(&o.batchMax, "batch-max", 0, "micro-batching: stack concurrent requests into one prediction of up to `N` rows (0 or 1: off)")
	fs.DurationVar(&o.batchTimeout, "batch-timeout", 2*time.Millisecond, "micro-batching: how long a request waits for others to join its batch")
	fs.DurationVar(&o.pollInterval, "poll-interval", 2*time.Second, "how often --model-base-path is looked at for new versions")
	fs.DurationVar(&o.readTimeout, "read-timeout", 30*time.Second, "the longest a request may take to arrive, body included")
	fs.DurationVar(&o.writeTimeout, "write-timeout", 60*time.Second, "the longest from a request's headers to the end of its answer")
	fs.DurationVar(&o.idleTimeout, "idle-timeout", 120*time.Second, "how long an idle keep-alive connection stays open")
	fs.DurationVar(&o.shutdownTimeout, "shutdown-timeout", 30*time.Second, "on SIGTERM, how long to wait for accepted requests to finish")
	fs.StringVar(&o.logFormat, "log-format", "text", "log format on stderr: text or json")
	fs.StringVar(&o.logLevel, "log-level", "info", "log level: debug (every request), info, warn or error")
	return fs, o
}

// serveModels turns the model flags into the server's models.
func serveModels(o *serveOptions) ([]serve.Model, error) {
	var models []serve.Model
	for _, m := range o.models {
		name, path, ok := strings.Cut(m, "=")
		if !ok || name == "" || path == "" {
			return nil, usagef("serve: --model %q: want NAME=PATH", m)
		}
		models = append(models, serve.Model{Name: name, Path: path})
	}
	if o.basePath != "" {
		models = append(models, serve.Model{Name: o.modelName, BasePath: o.basePath})
	}
	if len(models) == 0 {
		return nil, usagef("serve: give --model NAME=PATH or --model-base-path DIR")
	}
	return models, nil
}

func newLogger(o *serveOptions, stderr io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(o.logLevel)); err != nil {
		return nil, usagef("serve: --log-level %q: want debug, info, warn or error", o.logLevel)
	}
	hopts := &slog.HandlerOptions{Level: level}
	switch o.logFormat {
	case "text":
		return slog.New(slog.NewTextHandler(stderr, hopts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(stderr, hopts)), nil
	}
	return nil, usagef("serve: --log-format %q: want text or json", o.logFormat)
}

// serveCommand is serve's line in the command table. The browser build
// leaves the server out (serve_js.go): it cannot listen there, and it and
// its dependencies (net/http's server, Prometheus) were half the bundle.
func serveCommand() *command {
	return &command{name: "serve", args: "[flags] --model NAME=PATH... | --model-base-path DIR", short: "serve models over TensorFlow Serving's REST API", long: serveHelp,
		flags:  func(w io.Writer) *pflagSet { fs, _ := serveFlags(w); return fs },
		values: map[string][]string{"log-format": {"text", "json"}}, run: runServe}
}

// serveSignals are what stop the server; tests replace them.
var serveSignals = []os.Signal{syscall.SIGTERM, os.Interrupt}

func runServe(args []string, stdout, stderr io.Writer) error {
	fs, o := serveFlags(stderr)
	if err := fs.Parse(args); err != nil {
		return flagError(fs, err)
	}
	if fs.NArg() > 0 {
		return usagef("serve: unexpected argument %q", fs.Arg(0))
	}
	models, err := serveModels(o)
	if err != nil {
		return err
	}
	if o.port < 0 || o.port > 65535 {
		return usagef("serve: --port %d: want 0 to 65535", o.port)
	}
	if o.basePath != "" {
		if fi, err := os.Stat(o.basePath); err != nil || !fi.IsDir() {
			return fmt.Errorf("--model-base-path %s: not a directory", filepath.Clean(o.basePath))
		}
	}
	log, err := newLogger(o, stderr)
	if err != nil {
		return err
	}
	s, err := serve.New(models, serve.Options{
		MaxBodyBytes: o.maxBody, MaxTensorValues: o.maxValues,
		MaxConcurrent: o.maxConcurrent, MaxQueue: o.maxQueue,
		BatchMax: o.batchMax, BatchTimeout: o.batchTimeout,
		PollInterval: o.pollInterval, Logger: log,
	})
	if err != nil {
		return usagef("serve: %v", err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), serveSignals...)
	defer stop()
	ln, err := net.Listen("tcp", net.JoinHostPort(o.host, strconv.Itoa(o.port)))
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: min(o.readTimeout, 10*time.Second),
		ReadTimeout:       o.readTimeout,
		WriteTimeout:      o.writeTimeout,
		IdleTimeout:       o.idleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	// Listening before loading lets /healthz and /readyz answer while
	// large models load.
	log.Info("listening", "addr", ln.Addr().String())
	if err := s.Start(); err != nil {
		srv.Close()
		s.Close()
		return err
	}
	log.Info("ready", "models", len(models))

	select {
	case err := <-served:
		s.Close()
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing accepted requests", "timeout", o.shutdownTimeout)
	s.Drain()
	sctx, cancel := context.WithTimeout(context.Background(), o.shutdownTimeout)
	defer cancel()
	err = srv.Shutdown(sctx)
	s.Close()
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("shutdown: requests still running after %s", o.shutdownTimeout)
	}
	log.Info("stopped")
	return err
}
