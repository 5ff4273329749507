package edge

import (
	"log/slog"
	"net"
	"sync/atomic"
	"time"

	"github.com/shoal-cdn/shoal/cachestore"
	"github.com/shoal-cdn/shoal/edge/coalesce"
	"github.com/shoal-cdn/shoal/edge/tlscert"
	"github.com/shoal-cdn/shoal/purge"
	"github.com/shoal-cdn/shoal/ring"
	"golang.org/x/sync/singleflight"
)

// pipeline is the data plane: what a request touches on its way from a listener to an
// answer (route, key, owner, lookup, fill, serve, pass, purge hooks). Its entry is handle,
// which every listener calls with an exchange (exchange.go).
//
// Its configuration (routes, pools, policy, hit templates: settings) is one value that a
// reload swaps atomically; a request holds the settings it started with to its end. The
// store, the fills in flight and the cluster views carry over a reload: a reload never
// drops the cache.
type pipeline struct {
	name string
	// certs are listen.https's certificates (nil without it), set by Start before the
	// listener serves: a request's host is checked against the one its connection got
	// (misdirected.go).
	certs *tlscert.Store
	// viaValue is "1.1 <name>", this node's Via member on responses (it received them over
	// HTTP/1.1 from the origin or a peer); via10 and via2 are the members a request received
	// over HTTP/1.0 or HTTP/2 carries to the origin (requestVia).
	viaValue, via10, via2 string
	log                   *slog.Logger
	access                *accessLog
	now                   func() time.Time
	metrics               *metrics

	rt atomic.Pointer[settings]

	store    *cachestore.Memory
	disk     *diskTier // cache.disk; nil without one
	fills    coalesce.Group[*fillHead]
	passMark passMarks
	// largeMark remembers URLs whose object is beyond every size limit: a ranged miss of
	// one is passed to the origin with its Range (rangepass.go).
	largeMark passMarks
	// onHijackEnd is called once a hijacker is done with its connection (see hijack);
	// nil in tests that build a pipeline without a node.
	onHijackEnd func(net.Conn)
	// compressing makes each compressed variant once, however many clients ask at once.
	compressing singleflight.Group
	bg          background // fills and revalidations that outlive their request

	// The cluster as the data plane sees it: set by Node.Start before the first request,
	// read-only after it.
	ring       *ring.Ring
	purge      *purge.Service
	peers      peerClients
	peerSecret string
	// peerAccepted are secrets accepted besides peerSecret (cluster.accept_secret_files).
	peerAccepted []string
	popularity   popularity
	inflight     inflight // requests in flight per member, for bounded loads
	// started is when Start finished (nil before); adoption of keys runs for a while after
	// it. Atomic: requests are already being served when Start records it.
	started atomic.Pointer[time.Time]
}
