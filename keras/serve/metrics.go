package serve

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// errUnbatchable marks a batched Predict whose outputs do not keep the
// batch first, so they cannot be cut back into requests.
var errUnbatchable = errors.New("an output does not have the batch as its first dimension")

// metrics are the server's Prometheus series, in a registry of its own so
// that two servers in one process do not collide.
type metrics struct {
	registry  *prometheus.Registry
	requests  *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	inFlight  prometheus.Gauge
	queued    prometheus.Gauge
	batchSize *prometheus.HistogramVec
	version   *prometheus.GaugeVec
}

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kerascope_serve_requests_total",
			Help: "REST API requests answered, by model, API (predict, status, metadata) and HTTP status code.",
		}, []string{"model", "api", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "kerascope_serve_request_duration_seconds",
			Help:    "Time from a REST API request's arrival to its answer, by model, API and HTTP status code.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 18), // 100µs to 13s
		}, []string{"model", "api", "code"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kerascope_serve_in_flight_requests",
			Help: "REST API requests admitted and not yet answered.",
		}),
		queued: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kerascope_serve_queue_depth",
			Help: "Predict requests read and waiting for a compute slot or a batch.",
		}),
		batchSize: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "kerascope_serve_batch_rows",
			Help:    "Rows (batch size) of each Predict run, micro-batched or not, by model.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 12), // 1 to 2048
		}, []string{"model"}),
		version: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "kerascope_serve_model_version",
			Help: "The version each model serves.",
		}, []string{"model"}),
	}
	m.registry.MustRegister(m.requests, m.latency, m.inFlight, m.queued, m.batchSize, m.version,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}
