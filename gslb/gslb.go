// Package gslb is Shoal's authoritative DNS server: it answers SOA, NS and A/AAAA for one zone
// with the nearest healthy edges of the cluster, finding the client's region from EDNS Client
// Subnet or else from the resolver's address.
//
// Every node can answer for the zone and they agree: with the same config and the same edge
// list, every node gives a client the same answer set (the choice is seeded by the client's
// subnet, the SOA serial is derived from the config), only the order differs. While nodes join,
// fail and leave, nodes agree again as soon as the ring has converged and each node's SetEdges
// has run; a query sees the edge list before or after a SetEdges, never a mix. ServeDNS is safe
// for concurrent use.
package gslb

import (
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/shoal-cdn/shoal/conf"
)

// Edge is one edge node as DNS sees it.
type Edge struct {
	Name    string
	Region  string
	Addrs   []netip.Addr // its VIPs when VIPs are configured, else its public address(es); v4 and/or v6
	Weight  int          // 0 means 1
	Healthy bool         // alive in the ring and ready (not draining, not overloaded, origins reachable)
}

// Options are the collaborators of a Server. The zero value works: a nil Logger discards and a
// nil Registerer registers nothing.
type Options struct {
	Logger     *slog.Logger
	Registerer prometheus.Registerer

	// UDPReaders is how many goroutines answer UDP on a specific listen address; 0 means
	// one per CPU (GOMAXPROCS, less the Ps added for blocking readers already listening).
	UDPReaders int
	// UDPSharedSocket makes the readers share one socket instead of binding one each with
	// SO_REUSEPORT. It exists to compare the two (gslb/bench/gslbserve -shared-socket).
	UDPSharedSocket bool
	// UDPBusyPoll is how long a UDP reader under heavy load keeps polling its empty socket
	// before it parks (Linux only); 0 means never. It is armed only by a read that found
	// several datagrams queued and disarmed by a poll that found nothing, so a lightly loaded
	// server never polls; under heavy load it spends the idle share of the reader's CPU to skip
	// a park and a wake-up per batch. Measured on loopback with 20 µs: 2.7% more queries per
	// second at full load for 3-8% more server CPU per query, so it is for hosts that do
	// little else; a node that also serves HTTP on the same cores should leave it off.
	UDPBusyPoll time.Duration
	// UDPNetpoll makes the UDP readers park in the Go netpoller on non-blocking sockets
	// instead of the default (Linux): each reader waits for datagrams inside recvmmsg on a
	// blocking socket of its own, keeping its thread and its P, as gdnsd's threads wait, so a
	// datagram wakes it directly. While the server listens, GOMAXPROCS is raised by the number
	// of blocking readers, so that they do not hold the Ps the rest of the process runs on (see
	// reserveProcs; this ends the runtime's own updates of GOMAXPROCS to a CPU quota); should
	// something lower GOMAXPROCS again to no more than the readers hold, they wait so that the
	// runtime can take their P (procsShort). Elsewhere than Linux readers always use the
	// netpoller. Measured with each server limited to half a core (bench/dnsperf.sh): blocking
	// readers spent 3.5-3.8 µs of CPU per query against the netpoller's 4.1-5.0 (gdnsd
	// 3.4-4.0), and beside HTTP load on the same process they took nothing from it
	// (bench/corun.sh). UDPBusyPoll applies to both kinds.
	UDPNetpoll bool
	// TCPIdleTimeout is how long a TCP connection may go without a query before it is closed
	// (RFC 7766 section 6.2.3), and how long a client may take to accept an answer; 0 means
	// 2 s.
	TCPIdleTimeout time.Duration
	// Identity is this server's name, answered to the CHAOS TXT queries id.server and
	// hostname.bind (RFC 4892), which tell an operator which of several servers answered;
	// empty means those get REFUSED. version.bind and version.server are answered "shoal",
	// no version number, as gdnsd does.
	Identity string
}

// Server is the authoritative DNS server for one zone. It is a dns.Handler; ListenAndServe
// puts it on UDP and TCP, or a caller may mount it on a dns.Server of its own.
type Server struct {
	zone     *zone
	listen   string
	edges    atomic.Pointer[snapshot]
	rotation atomic.Uint64 // per-query rotation of answers; need not agree between nodes (UDP readers claim a batch at a time)
	log      *slog.Logger
	metrics  *metrics

	mu          sync.Mutex // guards the listeners
	listeners   []*dns.Server
	udpLoop     *udpLoop // UDP on a specific address; nil when miekg/dns serves UDP too
	udpAddr     net.Addr // the bound UDP address; nil when not listening
	tcpListener net.Listener
	tcp         *tcpServer

	udpReaders      int           // Options.UDPReaders
	udpSharedSocket bool          // Options.UDPSharedSocket
	udpBusyPoll     time.Duration // Options.UDPBusyPoll
	udpBlocking     bool          // not Options.UDPNetpoll
	tcpIdle         time.Duration // Options.TCPIdleTimeout
	identity        string        // Options.Identity
	tcpMaxConns     int           // 0 means maxTCPConns; tests set fewer
}

// New validates cfg, applies the defaults stated in conf.GSLB and returns a Server with no
// edges: until SetEdges, address queries get NODATA, while SOA and NS already answer.
func New(cfg conf.GSLB, opts Options) (*Server, error) {
	z, err := compile(cfg)
	if err != nil {
		return nil, fmt.Errorf("gslb: %w", err)
	}
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, fmt.Errorf("gslb: %w", err)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{zone: z, listen: cfg.Listen, log: log, metrics: m,
		udpReaders: opts.UDPReaders, udpSharedSocket: opts.UDPSharedSocket, udpBusyPoll: opts.UDPBusyPoll,
		udpBlocking: !opts.UDPNetpoll, tcpIdle: opts.TCPIdleTimeout, identity: opts.Identity}
	s.edges.Store(buildSnapshot(z, nil))
	return s, nil
}

// SetEdges replaces the edge list; the edge calls it on every ring change. It may run
// concurrently with queries and with itself (the last call to store wins). edges is not
// retained: the caller may reuse it.
func (s *Server) SetEdges(edges []Edge) {
	edges = slices.Clone(edges)
	for i := range edges {
		edges[i].Addrs = slices.Clone(edges[i].Addrs)
	}
	s.edges.Store(buildSnapshot(s.zone, edges))
}
