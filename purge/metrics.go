package purge

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Sources of a purge: the "source" label of shoal_purge_requests_total.
const (
	sourceAPI     = "api"     // admin API or Service.Purge
	sourcePeer    = "peer"    // fan-out from another node
	sourceGossip  = "gossip"  // memberlist broadcast
	sourceMethod  = "method"  // the PURGE method on the data port
	sourceUnsafe  = "unsafe"  // a non-error answer to an unsafe request (Service.Invalidate)
	sourceCatchUp = "catchup" // pulled from a peer's ban log
)

// Reasons a request was refused: the "reason" label of shoal_purge_refused_total.
const (
	reasonNoToken = "no_token" // no purge token configured: the API is off
	reasonAddress = "address"  // client address outside purge.allow
	reasonToken   = "token"    // missing or wrong bearer token
	reasonSecret  = "secret"   // peer request without the cluster secret
	reasonInvalid = "invalid"  // malformed or meaningless request
)

type metrics struct {
	requests   *prometheus.CounterVec
	objects    *prometheus.CounterVec
	refused    *prometheus.CounterVec
	fanout     prometheus.Histogram
	stragglers prometheus.Counter

	reg        prometheus.Registerer
	registered []prometheus.Collector
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "shoal", Subsystem: "purge", Name: "requests_total",
			Help: "Purges applied on this node (duplicates by id not counted), by kind (url, prefix, key, all) and source (api, method, unsafe, peer, gossip, catchup).",
		}, []string{"kind", "source"}),
		objects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "shoal", Subsystem: "purge", Name: "objects_total",
			Help: "Objects this node's store removed, or marked stale for soft purges, by kind of purge (url, prefix, key, all).",
		}, []string{"kind"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "shoal", Subsystem: "purge", Name: "refused_total",
			Help: "Purge requests refused before anything was purged, by reason (no_token, address, token, secret, invalid).",
		}, []string{"reason"}),
		fanout: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "shoal", Subsystem: "purge", Name: "fanout_seconds",
			Help:    "Time from the start of a fan-out until every peer acked or the timeout passed.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}),
		stragglers: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "shoal", Subsystem: "purge", Name: "stragglers_total",
			Help: "Peers that did not acknowledge a fan-out within the timeout, one per peer per purge.",
		}),
	}
	if reg == nil {
		return m, nil
	}
	m.reg = reg
	for _, c := range []prometheus.Collector{m.requests, m.objects, m.refused, m.fanout, m.stragglers} {
		if err := reg.Register(c); err != nil {
			m.unregister()
			return nil, fmt.Errorf("purge: registering metrics: %w", err)
		}
		m.registered = append(m.registered, c)
	}
	return m, nil
}

// unregister removes what newMetrics registered, so a Service can be rebuilt on one registry.
func (m *metrics) unregister() {
	for _, c := range m.registered {
		m.reg.Unregister(c)
	}
	m.registered = nil
}
