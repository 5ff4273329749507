package conf

import "time"

// Defaults, in memberlist's shape: each component's section has one constructor that returns it
// with every default set, and Load decodes the file over it, so a key left out means its
// default while a key written with 0 or -1 means what examples/shoal.yaml says of that value.
// The components read the same constructors for the zero values of sections built in code:
// one place states each default.

// Pool key values with a meaning of their own.
const (
	// ObserveLayer4 counts connection failures and timeouts against a server (HAProxy
	// "observe layer4"; nginx's proxy_next_upstream error timeout).
	ObserveLayer4 = "layer4"
	// ObserveLayer7 also counts 5xx answers other than 501 and 505 (HAProxy "observe layer7";
	// nginx's proxy_next_upstream http_500 http_502 http_503 http_504).
	ObserveLayer7 = "layer7"
)

// DefaultPool returns an origin pool with every default set and no servers. The idle keep-alive
// (4s) is below Apache's KeepAliveTimeout of 5s, so the edge closes an idle connection before
// the commonest origin does and never sends a request into a connection being closed.
func DefaultPool() Pool {
	return Pool{
		Balance: "roundrobin",
		Health: Health{
			Interval: Duration(2 * time.Second),
			// Timeout 0: the interval, as HAProxy's check timeout is `inter` unless `timeout
			// check` is set. A fixed 1s took down a server whose health page answers in 1.2s
			// under load, three probes in a row: a slow origin turned into an outage.
			Rise: 2,
			Fall: 3,
			// ExpectStatus 0: any 2xx or 3xx, as HAProxy's httpchk and nginx Plus's health_check.
		},
		Passive: Passive{
			Errors:  5,
			Backoff: Duration(5 * time.Second),
			Observe: ObserveLayer4,
		},
		ConnectTimeout:   Duration(2 * time.Second),
		FirstByteTimeout: Duration(15 * time.Second),
		IdleTimeout:      Duration(4 * time.Second),
		Retries:          2,
		MaxQueue:         128,
		QueueTimeout:     Duration(5 * time.Second),
	}
}

// DefaultCache returns the cache section with every default set.
func DefaultCache() Cache {
	return Cache{
		Memory:        256 << 20,
		MaxObjectSize: 64 << 20,
		// StaleIfError: a stale copy answers when its revalidation fails (500, 502, 503,
		// 504, a timeout, a refused connection) for up to 10 minutes, so one origin error
		// on a popular object reaches no client (Varnish ships a grace, nginx needs
		// proxy_cache_use_stale). Only where RFC 9111 4.2.4 lets a shared cache serve
		// stale: never past must-revalidate, proxy-revalidate, s-maxage or no-cache, and a
		// response's own stale-if-error wins. A healthy origin is still asked once the
		// copy expires: stale_while_revalidate stays 0.
		StaleIfError:      Duration(10 * time.Minute),
		HeuristicFraction: 0.1,
		HeuristicMax:      Duration(24 * time.Hour),
		TargetedField:     "Shoal-Cache-Control",
		FillTimeout:       Duration(30 * time.Second),
		HotTTL:            Duration(5 * time.Second),
	}
}

// DefaultCluster returns the cluster section with every default set: a single node (no bind
// address) with memberlist timings for a LAN.
func DefaultCluster() Cluster {
	return Cluster{
		VNodes:         160,
		ProbeInterval:  Duration(200 * time.Millisecond),
		ProbeTimeout:   Duration(100 * time.Millisecond),
		SuspicionMult:  3,
		ForwardTimeout: Duration(5 * time.Second),
		AdoptTimeout:   Duration(time.Second),
	}
}

// UnmarshalYAML decodes a pool over DefaultPool, so that keys left out keep their defaults.
// It uses yaml.v3's function form on purpose: that decodes with the caller's decoder, which
// keeps Load's refusal of unknown keys.
func (p *Pool) UnmarshalYAML(unmarshal func(any) error) error {
	type plain Pool // no UnmarshalYAML: no recursion
	v := plain(DefaultPool())
	if err := unmarshal(&v); err != nil {
		return err
	}
	*p = Pool(v)
	return nil
}
