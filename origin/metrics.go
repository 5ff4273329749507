package origin

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the pool's Prometheus series. Every pool of a node shares one set of vectors
// (labelled by pool), so a second pool, or a reloaded one, on the same Registerer reuses what the
// first registered. A nil *metrics (no Registerer) records nothing.
type metrics struct {
	requests     *prometheus.CounterVec
	errors       *prometheus.CounterVec
	up           *prometheus.GaugeVec
	active       *prometheus.GaugeVec
	latency      *prometheus.HistogramVec
	retries      *prometheus.CounterVec
	queueTimeout *prometheus.CounterVec
	queued       *prometheus.GaugeVec
	checks       *prometheus.CounterVec
	ejections    *prometheus.CounterVec
	staleRetries *prometheus.CounterVec
	allEjected   *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	if reg == nil {
		return nil
	}
	server := []string{"pool", "server"}
	return &metrics{
		requests: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shoal_origin_requests_total",
			Help: "Responses received from origin servers, by status code.",
		}, []string{"pool", "server", "code"})),
		errors: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shoal_origin_errors_total",
			Help: "Exchanges with origin servers that got no response, by kind (connect, timeout, reset, protocol).",
		}, []string{"pool", "server", "kind"})),
		up: register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "shoal_origin_server_up",
			Help: "1 when the server may take requests, 0 when active or passive checks hold it down.",
		}, server)),
		active: register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "shoal_origin_active_connections",
			Help: "Requests in flight on the server, from the pick to the end of the response body.",
		}, server)),
		latency: register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "shoal_origin_response_seconds",
			Help:    "Time from sending a request to an origin server to having its response head.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, server)),
		retries: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shoal_origin_retries_total",
			Help: "Requests sent again to another server after a connect failure or reset.",
		}, []string{"pool"})),
		queueTimeout: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shoal_origin_queue_timeouts_total",
			Help: "Requests refused because every server was at max_conns past queue_timeout, or the queue was full.",
		}, []string{"pool"})),
		queued: register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "shoal_origin_queued_requests",
			Help: "Requests waiting for a connection slot.",
		}, []string{"pool"})),
		checks: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shoal_origin_health_checks_total",
			Help: "Active health checks, by result (success, failure).",
		}, []string{"pool", "server", "result"})),
		ejections: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shoal_origin_ejections_total",
			Help: "Times a server was taken out by passive checks (consecutive connection errors and timeouts; 5xx too with observe layer7).",
		}, server)),
		staleRetries: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shoal_origin_stale_connection_retries_total",
			Help: "Idempotent requests repeated on a new connection because the reused one had been closed by the server while idle.",
		}, server)),
		allEjected: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shoal_origin_all_ejected_picks_total",
			Help: "Requests sent to the least recently failed server because passive checks had ejected every server (a pool never ejects itself into emptiness).",
		}, []string{"pool"})),
	}
}

// register adds c to reg, or returns the collector already registered under the same name.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		// Only a programming error (two different metrics under one name) gets here; an
		// unregistered vector still works, it is just not exported.
	}
	return c
}

func (m *metrics) failure(pool, server, kind string) {
	if m != nil {
		m.errors.WithLabelValues(pool, server, kind).Inc()
	}
}

func (m *metrics) setUp(pool, server string, up bool) {
	if m == nil {
		return
	}
	v := 0.0
	if up {
		v = 1
	}
	m.up.WithLabelValues(pool, server).Set(v)
}

func (m *metrics) retry(pool string) {
	if m != nil {
		m.retries.WithLabelValues(pool).Inc()
	}
}

func (m *metrics) timedOut(pool string) {
	if m != nil {
		m.queueTimeout.WithLabelValues(pool).Inc()
	}
}

func (m *metrics) setQueued(pool string, n int) {
	if m != nil {
		m.queued.WithLabelValues(pool).Set(float64(n))
	}
}

func (m *metrics) check(pool, server string, ok bool) {
	if m == nil {
		return
	}
	result := "failure"
	if ok {
		result = "success"
	}
	m.checks.WithLabelValues(pool, server, result).Inc()
}

func (m *metrics) ejected(pool, server string) {
	if m != nil {
		m.ejections.WithLabelValues(pool, server).Inc()
	}
}

func (m *metrics) staleRetry(pool, server string) {
	if m != nil {
		m.staleRetries.WithLabelValues(pool, server).Inc()
	}
}

func (m *metrics) pickedAllEjected(pool string) {
	if m != nil {
		m.allEjected.WithLabelValues(pool).Inc()
	}
}
