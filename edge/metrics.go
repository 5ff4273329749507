package edge

import (
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the data plane's counters, namespaced shoal_edge_.
type metrics struct {
	requests        *prometheus.CounterVec // by policy and result
	responses       *prometheus.CounterVec // by status class
	rejected        *prometheus.CounterVec // by reason
	hits            prometheus.Counter
	misses          prometheus.Counter
	coalesced       prometheus.Counter
	stored          prometheus.Counter
	notStored       *prometheus.CounterVec
	originSeconds   *prometheus.HistogramVec
	bytesIn         prometheus.Counter
	bytesOut        prometheus.Counter
	fillsAborted    prometheus.Counter
	reloads         *prometheus.CounterVec
	inFlightFills   prometheus.Gauge
	clusterMembers  prometheus.Gauge
	forwarded       prometheus.Counter
	forwardFailures prometheus.Counter
	forwardTimeouts prometheus.Counter
	peerRefused     prometheus.Counter
	hotCopies       prometheus.Counter
	adopted         prometheus.Counter
	compressed      *prometheus.CounterVec
	compressedHits  *prometheus.CounterVec
	compressedSaved prometheus.Counter
	hintsDropped    prometheus.Counter

	// The per-request children of the vectors above (labelCache).
	requestsBy   *labelCache[prometheus.Counter]  // requests: policy, result
	responsesBy  *labelCache[prometheus.Counter]  // responses: class
	originTimeBy *labelCache[prometheus.Observer] // originSeconds: pool
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "shoal_edge_requests_total",
			Help: "Client requests, by route policy (cache, pass, purge, none) and result (hit, miss, stale, pass, forward, forward-error, error, aborted, rejected, forbidden, too_large, redirect, options, maintenance, purged, adopt_miss, upgrade)."}, []string{"policy", "result"}),
		responses: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "shoal_edge_responses_total",
			Help: "Responses sent to clients, by status class (2xx, 3xx, 4xx, 5xx)."}, []string{"class"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "shoal_edge_rejected_requests_total",
			Help: "Requests and connections refused, by reason (smuggling, version, method, bad_method, bad_target, malformed, timeout, header_too_large, uri_too_long, body_too_large, h2_malformed, no_route, rate_limited, access, loop, misdirected, purge_forbidden, admin_forbidden, max_conns, tls_handshake, plain_http)."}, []string{"reason"}),
		hits: prometheus.NewCounter(prometheus.CounterOpts{Name: "shoal_edge_cache_hits_total",
			Help: "Requests answered from the cache without contacting the origin (fresh, or stale while revalidating)."}),
		misses: prometheus.NewCounter(prometheus.CounterOpts{Name: "shoal_edge_cache_misses_total",
			Help: "Cache-route requests that needed the origin (miss or validation), followers included; one per request however many fill attempts it takes."}),
		coalesced: prometheus.NewCounter(prometheus.CounterOpts{Name: "shoal_edge_coalesced_followers_total",
			Help: "Requests answered by another request's origin fill instead of one of their own; once per request, however many fills it joined."}),
		stored: prometheus.NewCounter(prometheus.CounterOpts{Name: "shoal_edge_objects_stored_total",
			Help: "Responses handed to the store after a fill."}),
		notStored: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "shoal_edge_objects_not_stored_total",
			Help: "Responses of cache routes not stored, by reason (policy, too_large, incomplete, refused, framing)."}, []string{"reason"}),
		originSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "shoal_edge_origin_seconds",
			Help:    "Time from sending a request to an origin pool to its response head, by pool.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)}, []string{"pool"}),
		bytesIn: prometheus.NewCounter(prometheus.CounterOpts{Name: "shoal_edge_origin_bytes_total",
			Help: "Body bytes received from origins."}),
		bytesOut: prometheus.NewCounter(prometheus.CounterOpts{Name: "shoal_edge_client_bytes_total",
			Help: "Body bytes sent to clients."}),
		fillsAborted: prometheus.NewCounter(prometheus.CounterOpts{Name: "shoal_edge_fills_aborted_total",
			Help: "Origin fills ended by an error or the fill timeout; their waiters got an error."}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "shoal_edge_reloads_total",
			Help: "Configuration reloads, by result (ok, refused)."}, []string{"result"}),
		inFlightFills: prometheus.NewGauge(prometheus.GaugeOpts{Name: "shoal_edge_fills_in_flight",
			Help: "Origin fills running now."}),
		clusterMembers: prometheus.NewGauge(prometheus.GaugeOpts{Name: "shoal_edge_cluster_members",
			Help: "Members in this node's view of the ring, itself included."}),
		forwarded: prometheus.NewCounter(prometheus.CounterOpts{Name: "shoal_edge_forwarded_total",
			Help: "Cacheable requests forwarded to the owning peer and answered by it."}),
		forwardFailures: prometheus.NewCounter(prometheus.CounterOpts{Name: "shoal_edge_forward_failures_total",
			Help: "Forwards that failed: a peer that could not be connected to (the next owner or the origin served instead), or one that received the request and failed (the client got that failure)."}),
		forwardTimeouts: prometheus.NewCounter(prometheus.CounterOpts{Name: "shoal_edge_forward_timeouts_total",
			Help: "Forwards whose owner sent no byte within cluster.forward_timeout; this node served them itself."}),
		peerRefused: prometheus.NewCounter(prometheus.CounterOpts{Name: "shoal_edge_peer_refused_total",
			Help: "Requests on the peer port refused for lacking the cluster secret."}),
		hotCopies: prometheus.NewCounter(prometheus.CounterOpts{Name: "shoal_edge_hot_copies_total",
			Help: "Short-lived local copies kept of popular objects another node owns."}),
		compressed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "shoal_edge_compressed_variants_total",
			Help: "Compressed variants made (once per stored object and encoding), by encoding."}, []string{"encoding"}),
		compressedHits: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "shoal_edge_compressed_hits_total",
			Help: "Responses served from a stored compressed variant, by encoding."}, []string{"encoding"}),
		compressedSaved: prometheus.NewCounter(prometheus.CounterOpts{Name: "shoal_edge_compression_saved_bytes_total",
			Help: "Bytes saved by compressing variants (identity size minus compressed size, once per variant)."}),
		adopted: prometheus.NewCounter(prometheus.CounterOpts{Name: "shoal_edge_adopted_objects_total",
			Help: "Objects a node took back from the peer that held them while it was away, instead of the origin."}),
		hintsDropped: prometheus.NewCounter(prometheus.CounterOpts{Name: "shoal_edge_early_hints_dropped_total",
			Help: "103 (Early Hints) responses not relayed to an HTTP/1.1 client because an earlier pipelined response could still be held in the write buffer, where the 103 would have overtaken it."}),
	}
	m.requestsBy = newLabelCache(m.requests.WithLabelValues)
	m.responsesBy = newLabelCache(m.responses.WithLabelValues)
	m.originTimeBy = newLabelCache(m.originSeconds.WithLabelValues)
	if reg != nil {
		reg.MustRegister(m.requests, m.responses, m.rejected, m.hits, m.misses, m.coalesced, m.stored,
			m.notStored, m.originSeconds, m.bytesIn, m.bytesOut, m.fillsAborted, m.reloads, m.inFlightFills,
			m.clusterMembers, m.forwarded, m.forwardFailures, m.forwardTimeouts, m.peerRefused, m.hotCopies, m.adopted, m.compressed, m.compressedHits, m.compressedSaved,
			m.hintsDropped)
	}
	return m
}

// labelCache remembers a metric vector's children by label values, so the per-request paths
// (a response's policy and result, its status class, an origin pool's latency) find theirs
// with a few string comparisons instead of WithLabelValues, which hashes the values and
// takes the vector's lock on every call (about 8% of a memory hit's handling, measured).
// Label values must be strings that stay unchanged (constants, pool names), never views of
// request bytes. Safe for concurrent use; children are created on first use only, so the
// exposition is unchanged.
type labelCache[T any] struct {
	with func(...string) T // the vector's WithLabelValues
	mu   sync.Mutex        // serializes adding; readers never lock
	seen atomic.Pointer[[]labelChild[T]]
}

type labelChild[T any] struct {
	a, b  string
	child T
}

// maxCachedLabels bounds a cache; label sets past it go to the vector every time.
const maxCachedLabels = 64

func newLabelCache[T any](with func(...string) T) *labelCache[T] {
	return &labelCache[T]{with: with}
}

// get1 returns the child of a one-label vector.
func (c *labelCache[T]) get1(a string) T {
	if s := c.seen.Load(); s != nil {
		for i := range *s {
			if (*s)[i].a == a {
				return (*s)[i].child
			}
		}
	}
	return c.add(a, "", 1)
}

// get2 returns the child of a two-label vector.
func (c *labelCache[T]) get2(a, b string) T {
	if s := c.seen.Load(); s != nil {
		for i := range *s {
			if (*s)[i].a == a && (*s)[i].b == b {
				return (*s)[i].child
			}
		}
	}
	return c.add(a, b, 2)
}

func (c *labelCache[T]) add(a, b string, labels int) T {
	var child T
	if labels == 1 {
		child = c.with(a)
	} else {
		child = c.with(a, b)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var old []labelChild[T]
	if s := c.seen.Load(); s != nil {
		old = *s
	}
	if len(old) >= maxCachedLabels {
		return child
	}
	for _, e := range old {
		if e.a == a && e.b == b {
			return child // another request added it meanwhile
		}
	}
	next := make([]labelChild[T], len(old), len(old)+1)
	copy(next, old)
	next = append(next, labelChild[T]{a: a, b: b, child: child})
	c.seen.Store(&next)
	return child
}
