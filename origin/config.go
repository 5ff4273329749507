package origin

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/shoal-cdn/shoal/conf"
	"github.com/shoal-cdn/shoal/origin/balance"
)

// maxBackoffDoublings caps the ejection backoff at 16x passive.backoff.
const maxBackoffDoublings = 4

// settings is a conf.Pool with every default applied; the pool reads nothing else.
type settings struct {
	name, balance, hostRewrite                string
	connectTimeout, firstByteTimeout, idleTTL time.Duration
	retries, maxConns, maxQueue               int
	queueTimeout, slowStart                   time.Duration
	health                                    healthSettings
	passiveErrors                             int // 0 means passive ejection is off
	passiveBackoff                            time.Duration
	observe5xx                                bool // passive.observe layer7
	stickyCookie                              string
	stickySource                              bool
	stickyMaxAge                              time.Duration
	servers                                   []serverSettings
}

type healthSettings struct {
	path, expectBody, host string
	interval, timeout      time.Duration
	rise, fall             int
	expectStatus           int
}

type serverSettings struct {
	url    *url.URL
	raw    string
	addr   string // host:port with the scheme's default port filled in
	tls    bool
	weight int // 0 means drained
	backup bool
	id     string
}

// Validate reports the first problem in cfg that NewPool would refuse, without starting anything;
// `shoal check` calls it. The error names the pool and the key.
func Validate(cfg *conf.Pool) error {
	_, err := resolve(cfg)
	return err
}

func resolve(cfg *conf.Pool) (settings, error) {
	if cfg == nil {
		return settings{}, errors.New("origin: nil pool configuration")
	}
	s, err := resolveFields(cfg)
	if err != nil {
		return settings{}, fmt.Errorf("origin: pool %q: %w", cfg.Name, err)
	}
	return s, nil
}

// resolveFields applies conf.DefaultPool to the keys whose zero value means the default, so a
// pool built in code with only servers set behaves as one loaded from a file without the keys.
// Retries and passive.errors keep 0 (and -1) as "off".
func resolveFields(cfg *conf.Pool) (settings, error) {
	def := conf.DefaultPool()
	s := settings{
		name:             cfg.Name,
		balance:          cfg.Balance,
		hostRewrite:      cfg.HostRewrite,
		connectTimeout:   orDefault(cfg.ConnectTimeout.D(), def.ConnectTimeout.D()),
		firstByteTimeout: orDefault(cfg.FirstByteTimeout.D(), def.FirstByteTimeout.D()),
		idleTTL:          orDefault(cfg.IdleTimeout.D(), def.IdleTimeout.D()),
		retries:          cfg.Retries,
		maxConns:         cfg.MaxConns,
		maxQueue:         cfg.MaxQueue,
		queueTimeout:     orDefault(cfg.QueueTimeout.D(), def.QueueTimeout.D()),
		slowStart:        cfg.SlowStart.D(),
		passiveErrors:    cfg.Passive.Errors,
		passiveBackoff:   orDefault(cfg.Passive.Backoff.D(), def.Passive.Backoff.D()),
		stickyCookie:     cfg.Sticky.Cookie,
		stickySource:     cfg.Sticky.Source,
		stickyMaxAge:     cfg.Sticky.MaxAge.D(),
	}
	if s.balance == "" {
		s.balance = def.Balance
	}
	if !balance.Known(s.balance) {
		return s, fmt.Errorf("balance: unknown balancer %q (want roundrobin, leastconn, random2, source, uri or first)", s.balance)
	}
	if s.retries == -1 { // the old spelling of "off"
		s.retries = 0
	}
	if s.maxQueue == 0 {
		s.maxQueue = def.MaxQueue
	}
	switch {
	case s.passiveErrors == -1:
		s.passiveErrors = 0
	case s.passiveErrors < 0:
		return s, fmt.Errorf("passive.errors: %d is negative (0 or -1 turns passive ejection off)", cfg.Passive.Errors)
	}
	switch cfg.Passive.Observe {
	case "", conf.ObserveLayer4:
	case conf.ObserveLayer7:
		s.observe5xx = true
	default:
		return s, fmt.Errorf("passive.observe: %q: want layer4 or layer7", cfg.Passive.Observe)
	}
	for _, f := range []struct {
		key string
		v   int
	}{{"retries", s.retries}, {"max_conns", cfg.MaxConns}, {"max_queue", cfg.MaxQueue}} {
		if f.v < 0 {
			return s, fmt.Errorf("%s: %d is negative", f.key, f.v)
		}
	}
	if s.hostRewrite != "" && strings.ContainsAny(s.hostRewrite, " \t\r\n/") {
		return s, fmt.Errorf("host: %q is not a host name", s.hostRewrite)
	}
	if s.stickyCookie != "" && !isToken(s.stickyCookie) {
		return s, fmt.Errorf("sticky.cookie: %q is not a valid cookie name", s.stickyCookie)
	}
	var err error
	if s.health, err = resolveHealth(cfg.Health); err != nil {
		return s, err
	}
	s.servers, err = resolveServers(cfg.Name, cfg.Servers)
	return s, err
}

func resolveHealth(h conf.Health) (healthSettings, error) {
	def := conf.DefaultPool().Health
	hs := healthSettings{
		path:         h.Path,
		expectBody:   h.ExpectBody,
		host:         h.Host,
		interval:     orDefault(h.Interval.D(), def.Interval.D()),
		timeout:      h.Timeout.D(),
		rise:         h.Rise,
		fall:         h.Fall,
		expectStatus: h.ExpectStatus,
	}
	// HAProxy: the check timeout is `inter` unless `timeout check` is set.
	hs.timeout = orDefault(hs.timeout, hs.interval)
	if hs.rise == 0 {
		hs.rise = def.Rise
	}
	if hs.fall == 0 {
		hs.fall = def.Fall
	}
	if hs.path == "" {
		return hs, nil // no active checks: the rest does not matter
	}
	switch {
	case !strings.HasPrefix(hs.path, "/"):
		return hs, fmt.Errorf("health.path: %q must start with /", hs.path)
	case hs.timeout > hs.interval:
		return hs, fmt.Errorf("health.timeout: %s must not be above health.interval %s", hs.timeout, hs.interval)
	case hs.rise < 0 || hs.fall < 0:
		return hs, fmt.Errorf("health.rise/fall: %d/%d must be positive", hs.rise, hs.fall)
	case hs.expectStatus != 0 && (hs.expectStatus < 100 || hs.expectStatus > 599):
		return hs, fmt.Errorf("health.expect_status: %d is not an HTTP status", hs.expectStatus)
	}
	return hs, nil
}

func resolveServers(pool string, servers []conf.Server) ([]serverSettings, error) {
	if len(servers) == 0 {
		return nil, errors.New("servers: the pool has no servers")
	}
	if !conf.AnyServerTakesRequests(servers) {
		return nil, errors.New("servers: every server weighs 0 and none is a backup: the pool could take no request")
	}
	out := make([]serverSettings, len(servers))
	seenURL, seenID := map[string]int{}, map[string]int{}
	for i, cs := range servers {
		s, err := resolveServer(pool, i, cs)
		if err != nil {
			return nil, fmt.Errorf("servers[%d]: %w", i, err)
		}
		if j, dup := seenURL[s.raw]; dup {
			return nil, fmt.Errorf("servers[%d]: url %q repeats servers[%d]", i, s.raw, j)
		}
		if j, dup := seenID[s.id]; dup {
			return nil, fmt.Errorf("servers[%d]: id %q repeats servers[%d]", i, s.id, j)
		}
		seenURL[s.raw], seenID[s.id] = i, i
		out[i] = s
	}
	return out, nil
}

func resolveServer(pool string, position int, cs conf.Server) (serverSettings, error) {
	s := serverSettings{raw: cs.URL, weight: 1, backup: cs.Backup, id: cs.ID}
	u, err := url.Parse(cs.URL)
	if err != nil {
		return s, fmt.Errorf("url: %w", err)
	}
	switch u.Scheme {
	case "http":
	case "https":
		s.tls = true
	default:
		return s, fmt.Errorf("url %q: want http:// or https://", cs.URL)
	}
	if u.Hostname() == "" {
		return s, fmt.Errorf("url %q: no host", cs.URL)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil || u.Fragment != "" {
		return s, fmt.Errorf("url %q: only scheme://host[:port] is allowed (no path, query or credentials)", cs.URL)
	}
	s.url = u
	s.addr = u.Host
	if u.Port() == "" {
		port := "80"
		if s.tls {
			port = "443"
		}
		s.addr = net.JoinHostPort(u.Hostname(), port)
	}
	if cs.Weight != nil {
		if *cs.Weight < 0 {
			return s, fmt.Errorf("weight: %d is negative (0 drains the server)", *cs.Weight)
		}
		if *cs.Weight > conf.MaxWeight {
			return s, fmt.Errorf("weight: %d is above %d (HAProxy's largest server weight)", *cs.Weight, conf.MaxWeight)
		}
		s.weight = *cs.Weight
	}
	if s.id == "" {
		s.id = derivedID(pool, position, cs.URL)
	} else if !isToken(s.id) {
		return s, fmt.Errorf("id: %q may hold only cookie-safe characters (letters, digits, -._~)", s.id)
	}
	return s, nil
}

// derivedID names a server in sticky cookies without revealing its address to clients: a hash of
// the pool, its position and its URL. It is stable across restarts and reloads as long as the
// server keeps its place in the list.
func derivedID(pool string, position int, rawURL string) string {
	h := xxhash.Sum64String(fmt.Sprintf("shoal-origin\x00%s\x00%d\x00%s", pool, position, rawURL))
	return fmt.Sprintf("%016x", h)
}

// isToken reports whether s is a non-empty run of characters safe in a cookie name or value.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-._~", r)
		if !ok {
			return false
		}
	}
	return true
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}
