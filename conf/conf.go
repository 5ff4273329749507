// Package conf is Shoal's configuration: the YAML schema as Go types, defaults, validation and
// loading. Every error names the key and the line it came from. It knows nothing of the other
// packages; they receive the section they need and never read YAML, flags or globals.
package conf

// Config is one node's whole configuration file.
type Config struct {
	Node        Node             `yaml:"node"`
	Listen      Listen           `yaml:"listen"`
	Limits      Limits           `yaml:"limits"`
	Cache       Cache            `yaml:"cache"`
	Origins     map[string]*Pool `yaml:"origins"`
	Routes      []Route          `yaml:"routes"`
	Cluster     Cluster          `yaml:"cluster"`
	GSLB        GSLB             `yaml:"gslb"`
	VIP         VIP              `yaml:"vip"`
	Purge       Purge            `yaml:"purge"`
	TLS         TLS              `yaml:"tls"`
	Compression Compression      `yaml:"compression"`
	Log         Log              `yaml:"log"`
	Admin       Admin            `yaml:"admin"`
	// Policy is the node-wide default of every route's policy keys (issue 17).
	Policy RoutePolicy `yaml:"policy"`
	// ErrorPages are the bodies of the answers the node makes itself, and maintenance.
	ErrorPages ErrorPages `yaml:"error_pages"`
	// TrustedProxies are the client CIDRs (front load balancers) whose X-Forwarded-Host,
	// X-Original-URL and similar fields reach origins; from anyone else they are removed.
	TrustedProxies []string `yaml:"trusted_proxies"`
}

// Node identifies this edge. Name defaults to the host name.
type Node struct {
	Name       string `yaml:"name"`
	Region     string `yaml:"region"`
	PublicAddr string `yaml:"public_addr"` // address DNS hands out for this edge; default: none
	Weight     int    `yaml:"weight"`      // share of keys and DNS answers; 0 means 1
}

// Listen holds the listener addresses. Empty http, https or peer means that listener is off;
// admin defaults to 127.0.0.1:9090.
type Listen struct {
	HTTP  string `yaml:"http"`
	HTTPS string `yaml:"https"`
	Peer  string `yaml:"peer"`
	Admin string `yaml:"admin"`
	// H2C is a cleartext HTTP/2 listener for clients with prior knowledge (RFC 9113 section
	// 3.3), e.g. a TLS-terminating load balancer in front; empty means off.
	H2C string `yaml:"h2c"`
}

// Limits protect the data plane from slow and oversized clients. Zero means the default.
type Limits struct {
	MaxHeaderBytes Size     `yaml:"max_header_bytes"` // default 16KiB; larger gets 431
	MaxBodyBytes   Size     `yaml:"max_body_bytes"`   // request bodies; default 16MiB; larger gets 413
	ReadTimeout    Duration `yaml:"read_timeout"`     // a head from its first byte, then each wait for its body; default 30s
	WriteTimeout   Duration `yaml:"write_timeout"`    // default 60s; bounds a response write without progress (no byte acknowledged by the client)
	IdleTimeout    Duration `yaml:"idle_timeout"`     // keep-alive; default 60s
	MaxConns       int      `yaml:"max_conns"`        // concurrent client connections; default 65536
	MaxConnsPerIP  int      `yaml:"max_conns_per_ip"` // 0 means unlimited
	// MaxHdr bounds the field lines of a request head (HAProxy's tune.http.maxhdr, whose
	// default it takes: 101); more get 431 and the connection closed, on HTTP/1.1 and
	// HTTP/2 (where the crumbs of a split cookie count once). max_header_bytes alone
	// admits 4,096 four-byte lines ("a:" CRLF) in a 16 KiB head.
	MaxHdr int `yaml:"maxhdr"`
	// UnderscoresInHeaders keeps request fields whose names hold '_' (nginx's
	// underscores_in_headers). Default false: they are dropped on receipt, since CGI,
	// FastCGI, WSGI and Rack origins read X_Real_IP as X-Real-IP.
	UnderscoresInHeaders bool `yaml:"underscores_in_headers"`
}

// Cache configures the object store and freshness defaults. Load starts from DefaultCache.
type Cache struct {
	Memory               Size     `yaml:"memory"`                 // the node's memory for its cache: shoal run gives the store up to this (headers+body) and Go a soft limit near it (cmd/shoal/memory.go); default 256MiB
	MaxObjectSize        Size     `yaml:"max_object_size"`        // larger objects stream through uncached; default 64MiB, or cache.memory when smaller
	StaleIfError         Duration `yaml:"stale_if_error"`         // serve stale this long when the origin fails; default 10m, 0 turns it off
	StaleWhileRevalidate Duration `yaml:"stale_while_revalidate"` // default grace when the origin sends none; default 0
	HeuristicFraction    float64  `yaml:"heuristic_fraction"`     // of (Date - Last-Modified); default 0.1
	HeuristicMax         Duration `yaml:"heuristic_max"`          // cap on heuristic freshness; default 24h
	DefaultTTL           Duration `yaml:"default_ttl"`            // for cache routes with no explicit freshness and no validator; default 0 (not stored)
	TargetedField        string   `yaml:"targeted_field"`         // RFC 9213 field for Shoal only; default Shoal-Cache-Control
	FillTimeout          Duration `yaml:"fill_timeout"`           // bound on one origin fill; default 30s
	HotLocal             bool     `yaml:"hot_local"`              // non-owners keep hot objects briefly
	HotTTL               Duration `yaml:"hot_ttl"`                // default 5s
	Disk                 Disk     `yaml:"disk"`                   // the disk tier; none without disk.path
}

// Pool is one origin pool. Load starts from DefaultPool: a key left out of the file keeps the
// default named on its field.
type Pool struct {
	Balance     string   `yaml:"balance"` // roundrobin (default), leastconn, random2, source, uri, first
	Servers     []Server `yaml:"servers"`
	Health      Health   `yaml:"health"`
	Passive     Passive  `yaml:"passive"`
	Sticky      Sticky   `yaml:"sticky"`
	HostRewrite string   `yaml:"host"` // Host header sent to the servers; default the client's
	// Timeouts; zero means the default.
	ConnectTimeout   Duration `yaml:"connect_timeout"`    // default 2s
	FirstByteTimeout Duration `yaml:"first_byte_timeout"` // default 15s
	IdleTimeout      Duration `yaml:"idle_timeout"`       // idle keep-alive connections; default 4s, capped by the server's Keep-Alive: timeout
	Retries          int      `yaml:"retries"`            // extra attempts on other servers; default 2; 0 or -1 none
	MaxConns         int      `yaml:"max_conns"`          // per server; 0 means unlimited
	MaxQueue         int      `yaml:"max_queue"`          // waiters when max_conns is reached; default 128 (also for 0)
	QueueTimeout     Duration `yaml:"queue_timeout"`      // default 5s; then 503
	SlowStart        Duration `yaml:"slow_start"`         // ramp for a server coming back; default 0 (off)

	Name string `yaml:"-"` // the map key, filled by Load
}

// Server is one origin server.
type Server struct {
	URL    string `yaml:"url"`    // http://host:port; https:// also accepted
	Weight *int   `yaml:"weight"` // default 1; 0 means drained
	Backup bool   `yaml:"backup"` // used only when every primary is down
	ID     string `yaml:"id"`     // opaque id in sticky cookies; default derived from the URL
}

// Health is the active probe of a pool's servers. Off when Path is empty.
type Health struct {
	Path         string   `yaml:"path"`
	Interval     Duration `yaml:"interval"`      // default 2s
	Timeout      Duration `yaml:"timeout"`       // default 1s; must be below interval
	Rise         int      `yaml:"rise"`          // successes to become up; default 2
	Fall         int      `yaml:"fall"`          // failures to become down; default 3
	ExpectStatus int      `yaml:"expect_status"` // status a healthy server answers; default 0: any 2xx or 3xx
	ExpectBody   string   `yaml:"expect_body"`   // substring the body must contain
	Host         string   `yaml:"host"`          // Host header of the probe
}

// Passive ejection from live traffic. Passive checks never take a pool's last servers out:
// when they have ejected every usable server, the least recently failed one still gets traffic.
type Passive struct {
	Errors  int      `yaml:"errors"`  // consecutive failures that eject a server; default 5; 0 or -1 off
	Backoff Duration `yaml:"backoff"` // first ejection; doubles up to 16x; default 5s
	Observe string   `yaml:"observe"` // what a failure is: layer4 (default: connection errors and timeouts), layer7 (also 5xx but 501, 505)
}

// Sticky keeps a client on one server: by inserted cookie, or by source address.
type Sticky struct {
	Cookie string   `yaml:"cookie"`  // cookie name; empty means off
	Source bool     `yaml:"source"`  // hash the client address instead
	MaxAge Duration `yaml:"max_age"` // cookie Max-Age; 0 means a session cookie
}

// Route maps requests to a pool and a policy. Routes are matched in order; first match wins.
type Route struct {
	Match  Match  `yaml:"match"`
	Origin string `yaml:"origin"`
	Cache  bool   `yaml:"cache"`
	// RateLimit is a per-client token bucket; off when Rate is 0.
	RateLimit RateLimit `yaml:"rate_limit"`
	// RoutePolicy holds the operator's rules (ttl, stale, cache_key, cookies, headers,
	// access, max_body_bytes); sections the route leaves out come from the top-level policy.
	// cache_key shapes the key of a cache route and the target the origin is sent.
	RoutePolicy `yaml:",inline"`
	Rewrite     Rewrite  `yaml:"rewrite"`
	Redirect    Redirect `yaml:"redirect"` // a route with a redirect needs no origin
}

// Match selects requests. Every set field must match; an empty Match matches everything.
type Match struct {
	Host       []string `yaml:"host"` // exact host names, or *.suffix
	PathPrefix string   `yaml:"path_prefix"`
	PathRegex  string   `yaml:"path_regex"`
	Extensions []string `yaml:"extensions"`
	Methods    []string `yaml:"methods"`
}

// RateLimit is nginx limit_req: Rate requests per second, Burst extra.
type RateLimit struct {
	Rate  float64 `yaml:"rate"`
	Burst int     `yaml:"burst"`
}

// Cluster is the memberlist ring. Load starts from DefaultCluster.
type Cluster struct {
	Bind       string   `yaml:"bind"`      // gossip address; empty means single node
	Advertise  string   `yaml:"advertise"` // address peers use; default the bind address
	Join       []string `yaml:"join"`
	VNodes     int      `yaml:"vnodes"`      // virtual nodes per unit of weight; default 160
	SecretFile string   `yaml:"secret_file"` // gossip encryption and peer-port secret
	Secret     string   `yaml:"-"`           // read from SecretFile by Load
	// AcceptSecretFiles hold secrets accepted besides Secret (gossip, peer port, peer
	// purges), for a rolling rotation: Secret is what this node sends.
	AcceptSecretFiles []string `yaml:"accept_secret_files"`
	AcceptSecrets     []string `yaml:"-"`            // read from AcceptSecretFiles by Load
	BoundedLoad       float64  `yaml:"bounded_load"` // >1 enables bounded loads with this factor; 0 off
	// Failure detection. The defaults suit a LAN: a crashed node leaves every view in about
	// 1-2 s. Across a WAN, or on heavily loaded hosts, raise probe_timeout with the round trip.
	ProbeInterval Duration `yaml:"probe_interval"` // default 200ms
	ProbeTimeout  Duration `yaml:"probe_timeout"`  // default 100ms; below probe_interval
	SuspicionMult int      `yaml:"suspicion_mult"` // default 3
	// ForwardTimeout bounds a forward to a key's owner until its first response byte (connect
	// included): an owner that sends nothing by then is given up on and this node serves the
	// request itself, as nginx's proxy_next_upstream timeout. An owner that must wait for its origin
	// says so at once (102 Processing), so a slow origin is still fetched once. Default 5s;
	// negative: no bound of its own (cache.fill_timeout, then 504).
	ForwardTimeout Duration `yaml:"forward_timeout"`
	// AdoptTimeout bounds an owner's adoption probe (in its first two minutes, a miss asks
	// the key's runner-up only-if-cached) until the runner-up's final head, its 102 Processing
	// included: a runner-up that answers nothing by then, or says 102 and then stalls, is
	// skipped and the owner fetches the object itself. A probe is an optimisation (an object
	// taken back without the origin), so it gets a bound shorter than forward_timeout's.
	// Default 1s; negative: no bound of its own (forward_timeout for the first byte, then
	// cache.fill_timeout between reads).
	AdoptTimeout Duration `yaml:"adopt_timeout"`
}

// GSLB is the authoritative DNS server.
type GSLB struct {
	Listen  string             `yaml:"listen"` // empty means off
	Zone    string             `yaml:"zone"`   // absolute, with trailing dot
	Names   []string           `yaml:"names"`
	TTL     int                `yaml:"ttl"`     // default 20
	Answers int                `yaml:"answers"` // records per answer; default 2
	Regions map[string]*Region `yaml:"regions"`
	NS      []string           `yaml:"ns"` // name server host names in the zone; default ns1..
	// UDPThreads is how many readers answer UDP on the listen address, each on its own
	// SO_REUSEPORT socket (gdnsd's udp_threads); 0, the default, means one per CPU.
	UDPThreads int `yaml:"udp_threads"`
	// UDPNetpoll makes the UDP readers wait in Go's netpoller instead of inside recvmmsg on
	// blocking sockets of their own, the default on Linux (gslb.Options.UDPNetpoll says what
	// each costs).
	UDPNetpoll bool `yaml:"udp_netpoll"`
}

// Region is a client region: the networks it covers and the regions nearest to it, in order.
type Region struct {
	CIDRs []string `yaml:"cidrs"`
	Near  []string `yaml:"near"`
}

// VIP lists the shared virtual addresses.
type VIP struct {
	Interface string   `yaml:"interface"`
	Addresses []string `yaml:"addresses"` // CIDR notation, the prefix of the interface network
}

// Purge configures invalidation.
type Purge struct {
	TokenFile string   `yaml:"token_file"`
	Token     string   `yaml:"-"`       // read from TokenFile by Load
	Allow     []string `yaml:"allow"`   // client CIDRs for the API and the PURGE method
	Timeout   Duration `yaml:"timeout"` // wait for acknowledgements; default 2s
}

// TLS lists certificates selected by SNI.
type TLS struct {
	Certificates []Certificate `yaml:"certificates"`
	RedirectHTTP bool          `yaml:"redirect_http"`
}

// Certificate is one PEM certificate chain and key.
type Certificate struct {
	Cert string `yaml:"cert"`
	Key  string `yaml:"key"`
}

// Compression of compressible responses.
type Compression struct {
	Encodings []string `yaml:"encodings"` // br, zstd, gzip; empty means off
	Types     []string `yaml:"types"`
	Level     int      `yaml:"level"`
	MinSize   Size     `yaml:"min_size"`
}

// Log configures logging.
type Log struct {
	Level  string `yaml:"level"`  // debug, info (default), warn, error
	Access string `yaml:"access"` // off, json (default), combined
}

// Admin configures the admin listener.
type Admin struct {
	Allow []string `yaml:"allow"` // client CIDRs; default loopback only
}
