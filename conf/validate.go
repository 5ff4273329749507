package conf

import (
	"fmt"
	"math"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// validator applies defaults and collects every problem with its key and line.
type validator struct {
	file string
	dir  string
	pos  *positions
	errs Errors
}

func (v *validator) fail(key, format string, args ...any) {
	v.errs = append(v.errs, &Error{File: v.file, Line: v.pos.line(key), Key: key, Msg: fmt.Sprintf(format, args...)})
}

func (v *validator) config(c *Config) {
	v.node(&c.Node)
	v.listen(&c.Listen)
	v.limits(&c.Limits)
	v.cache(&c.Cache)
	for _, name := range sortedKeys(c.Origins) {
		v.pool(name, c.Origins[name])
	}
	v.policyBlock(&c.Policy, &c.Limits)
	for i := range c.Routes {
		key := fmt.Sprintf("routes[%d]", i)
		v.inherit(key, &c.Routes[i], &c.Policy)
		v.route(key, &c.Routes[i], c.Origins)
		v.routePolicy(key, &c.Routes[i].RoutePolicy)
		v.routeOwn(key, &c.Routes[i], &c.Limits)
	}
	v.shadowedRoutes(c.Routes)
	v.errorPages(&c.ErrorPages)
	v.cluster(&c.Cluster)
	if c.Cluster.Bind != "" && c.Listen.Peer == "" {
		v.fail("listen.peer", "missing: cluster members reach each other's caches on the peer port")
	}
	v.gslb(&c.GSLB)
	v.distinctSockets(c)
	v.vip(&c.VIP, c)
	v.purge(&c.Purge)
	v.tls(&c.TLS)
	if c.TLS.RedirectHTTP && c.Listen.HTTPS == "" {
		// Every plain-HTTP request would be sent to an https:// URL no listener of ours serves.
		v.fail("tls.redirect_http", "needs listen.https: without it every request is redirected to a port that does not answer")
	}
	if c.Listen.HTTPS != "" && len(c.TLS.Certificates) == 0 {
		v.fail("listen.https", "needs tls.certificates: a TLS listener without a certificate completes no handshake")
	}
	v.compression(&c.Compression)
	v.log(&c.Log)
	v.cidrs("admin.allow", c.Admin.Allow)
	v.trustedProxies(c.TrustedProxies)
	if len(c.Admin.Allow) == 0 {
		c.Admin.Allow = []string{"127.0.0.0/8", "::1/128"}
	}
}

func (v *validator) node(n *Node) {
	if n.Name == "" {
		host, err := os.Hostname()
		if err != nil || host == "" {
			host = "shoal"
		}
		n.Name = host
	}
	if strings.ContainsAny(n.Name, " \t/;,=") {
		v.fail("node.name", "%q: no spaces, slashes, commas, semicolons or equals signs", n.Name)
	}
	if n.PublicAddr != "" {
		if a, err := netip.ParseAddr(n.PublicAddr); err != nil {
			v.fail("node.public_addr", "%q is not an IP address", n.PublicAddr)
		} else if a.IsUnspecified() || a.IsMulticast() {
			// DNS hands it to clients, who cannot connect to it.
			v.fail("node.public_addr", "%q is not an address a client can connect to", n.PublicAddr)
		}
	}
	if n.Weight < 0 {
		v.fail("node.weight", "must not be negative")
	}
	if n.Weight > MaxWeight {
		// Every member builds cluster.vnodes ring points per unit, and refuses metadata
		// above 65536 (the node would own nothing).
		v.fail("node.weight", "%d is above %d (HAProxy's largest server weight): each unit is cluster.vnodes points on every member's ring", n.Weight, MaxWeight)
	}
	if n.Weight == 0 {
		n.Weight = 1
	}
}

// MaxWeight bounds node.weight and a server's weight, as HAProxy bounds a server's (0-256):
// a weight is a share, and 100000 for 100 is a typo, not a wish.
const MaxWeight = 256

func (v *validator) listen(l *Listen) {
	if l.Admin == "" {
		l.Admin = "127.0.0.1:9090"
	}
	for key, addr := range map[string]string{"listen.http": l.HTTP, "listen.https": l.HTTPS, "listen.peer": l.Peer, "listen.admin": l.Admin, "listen.h2c": l.H2C} {
		v.hostPort(key, addr)
	}
	if l.HTTP == "" && l.HTTPS == "" {
		v.fail("listen", "needs http or https: a node with no data listener serves nothing")
	}
}

func (v *validator) hostPort(key, addr string) {
	if addr == "" {
		return
	}
	if _, port, err := net.SplitHostPort(addr); err != nil {
		v.fail(key, "%q is not host:port (for all addresses write \":8080\")", addr)
	} else if !validPort(port) {
		v.fail(key, "%q: the port must be a number from 0 to 65535", addr)
	}
}

// Upper bounds of limits: the HTTP/1.1 server gives every connection a read buffer of
// max_header_bytes and allocates a request body's whole Content-Length, up to max_body_bytes,
// before reading it. Above these one connection (max_header_bytes: 64GiB) or one request
// (max_body_bytes: 100GiB and a Content-Length of 50GiB) ended the process out of memory.
const (
	maxHeaderBytes = 1 << 20 // Go's http.DefaultMaxHeaderBytes
	maxBodyBytes   = 1 << 30
	maxHdr         = 32767
)

func (v *validator) limits(l *Limits) {
	setSize(&l.MaxHeaderBytes, 16<<10)
	setSize(&l.MaxBodyBytes, 16<<20)
	setDuration(&l.ReadTimeout, 30*time.Second)
	setDuration(&l.WriteTimeout, 60*time.Second)
	setDuration(&l.IdleTimeout, 60*time.Second)
	if l.MaxConns == 0 {
		l.MaxConns = 65536
	}
	if l.MaxHdr == 0 {
		l.MaxHdr = 101
	}
	if l.MaxHeaderBytes < 1024 {
		v.fail("limits.max_header_bytes", "%s is too small (at least 1KiB)", l.MaxHeaderBytes)
	}
	if l.MaxHeaderBytes > maxHeaderBytes {
		v.fail("limits.max_header_bytes", "%s is above %s: every connection's read buffer is this size", l.MaxHeaderBytes, Size(maxHeaderBytes))
	}
	if l.MaxBodyBytes > maxBodyBytes {
		v.fail("limits.max_body_bytes", "%s is above %s: a body a cluster member forwards on the peer port is held in memory whole", l.MaxBodyBytes, Size(maxBodyBytes))
	}
	v.notNegative("limits.max_conns", l.MaxConns)
	v.notNegative("limits.maxhdr", l.MaxHdr)
	if l.MaxHdr > maxHdr {
		v.fail("limits.maxhdr", "%d is above %d, HAProxy's bound for tune.http.maxhdr", l.MaxHdr, maxHdr)
	}
	v.notNegative("limits.max_conns_per_ip", l.MaxConnsPerIP)
}

// peerAddr checks an address other nodes dial (a join target, the advertised address): a
// listener's ":7946" or "0.0.0.0:7946" means every local address, but dialled it is this
// machine, and advertised it sends every peer to itself; "" joined nothing. Each was ok.
func (v *validator) peerAddr(key, addr string) {
	host, port, err := net.SplitHostPort(addr)
	switch {
	case err != nil:
		v.fail(key, "%q is not host:port, such as 192.0.2.12:7946", addr)
	case host == "":
		v.fail(key, "%q has no host: other nodes dial it, so it names one of them", addr)
	case net.ParseIP(host) != nil && net.ParseIP(host).IsUnspecified():
		v.fail(key, "%q is every address of a machine, not one a node can dial", addr)
	case !validPort(port) || port == "0":
		v.fail(key, "%q: the port must be a number from 1 to 65535", addr)
	}
}

func (v *validator) cache(c *Cache) {
	def := DefaultCache()
	setSize(&c.Memory, def.Memory)
	setSize(&c.MaxObjectSize, def.MaxObjectSize)
	if _, written := v.pos.lines["cache.max_object_size"]; !written {
		// Unwritten, the largest object is the default or the whole cache when that is
		// smaller, so that a small cache.memory alone is a valid config; written larger
		// than the cache, it is refused below.
		c.MaxObjectSize = min(c.MaxObjectSize, c.Memory)
	}
	setDuration(&c.HeuristicMax, def.HeuristicMax.D())
	setDuration(&c.FillTimeout, def.FillTimeout.D())
	setDuration(&c.HotTTL, def.HotTTL.D())
	if c.HeuristicFraction == 0 {
		c.HeuristicFraction = def.HeuristicFraction
	}
	if c.TargetedField == "" {
		c.TargetedField = def.TargetedField
	} else if !validToken(c.TargetedField) {
		// No response can carry a field named with a space or a colon: the origin's
		// instructions would be ignored without a word.
		v.fail("cache.targeted_field", "%q is not a header field name", c.TargetedField)
	}
	if !(c.HeuristicFraction >= 0 && c.HeuristicFraction <= 1) { // NaN too
		v.fail("cache.heuristic_fraction", "%v is outside 0..1", c.HeuristicFraction)
	}
	if c.MaxObjectSize > c.Memory {
		v.fail("cache.max_object_size", "%s is larger than cache.memory (%s)", c.MaxObjectSize, c.Memory)
	}
	if c.Memory < 1<<20 {
		v.fail("cache.memory", "%s is too small (at least 1MiB)", c.Memory)
	}
	v.disk(&c.Disk)
}

var balancers = map[string]bool{"roundrobin": true, "leastconn": true, "random2": true, "source": true, "uri": true, "first": true}

func (v *validator) pool(name string, p *Pool) {
	key := "origins." + name
	if p == nil {
		v.fail(key, "empty pool: needs servers")
		return
	}
	p.Name = name
	if !validName(name) {
		v.fail(key, "pool name %q: letters, digits, - and _ only", name)
	}
	if p.Balance == "" {
		p.Balance = "roundrobin"
	}
	if !balancers[p.Balance] {
		v.fail(key+".balance", "unknown balancer %q (roundrobin, leastconn, random2, source, uri, first)", p.Balance)
	}
	if len(p.Servers) == 0 {
		v.fail(key+".servers", "a pool needs at least one server")
	}
	seen := map[string]int{}
	for i := range p.Servers {
		s := &p.Servers[i]
		skey := fmt.Sprintf("%s.servers[%d]", key, i)
		u, err := url.Parse(s.URL)
		switch {
		case s.URL == "":
			v.fail(skey+".url", "missing")
		case err != nil:
			v.fail(skey+".url", "unparsable URL %q: %v", s.URL, err)
		case u.Scheme != "http" && u.Scheme != "https":
			v.fail(skey+".url", "%q: scheme must be http or https", s.URL)
		case u.Hostname() == "":
			// "http://:80" has a host part but no host: dialled, ":80" reaches this machine.
			v.fail(skey+".url", "%q: no host", s.URL)
		case u.Path != "" && u.Path != "/" || u.RawQuery != "":
			v.fail(skey+".url", "%q: a server URL has no path or query", s.URL)
		case u.Port() != "" && (!validPort(u.Port()) || u.Port() == "0"):
			v.fail(skey+".url", "%q: the port must be a number from 1 to 65535", s.URL)
		}
		// One server however written: scheme and host case, the scheme's default port, a "/".
		same := s.URL
		if err == nil && u.Host != "" {
			port := u.Port()
			if port == "" || u.Scheme == "http" && port == "80" || u.Scheme == "https" && port == "443" {
				port = "default"
			}
			same = strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Hostname()) + ":" + port
		}
		if j, dup := seen[same]; dup && s.URL != "" {
			v.fail(skey+".url", "duplicate of %s.servers[%d]", key, j)
		}
		seen[same] = i
		switch {
		case s.Weight != nil && *s.Weight < 0:
			v.fail(skey+".weight", "must not be negative")
		case s.Weight != nil && *s.Weight > MaxWeight:
			v.fail(skey+".weight", "%d is above %d (HAProxy's largest server weight)", *s.Weight, MaxWeight)
		}
		if s.Weight == nil {
			one := 1
			s.Weight = &one
		}
	}
	if len(p.Servers) > 0 && !AnyServerTakesRequests(p.Servers) {
		// Weight 0 drains a server; draining all of them (no backup either) is a pool that
		// answers every request 503, which is an outage written as a config, not a drain.
		v.fail(key+".servers", "every server weighs 0 and none is a backup: the pool could take no request")
	}
	v.poolDefaults(key, p)
}

// poolDefaults fills the keys whose zero means the default (a pool written as `{}` or built
// in code) from DefaultPool, turns -1 (the old spelling of "off") into 0, and checks the
// values. Keys where 0 has a meaning of its own (retries, passive.errors, max_conns,
// slow_start) keep it.
func (v *validator) poolDefaults(key string, p *Pool) {
	def := DefaultPool()
	h := &p.Health
	setDuration(&h.Interval, def.Health.Interval.D())
	setDuration(&h.Timeout, h.Interval.D()) // HAProxy: the check timeout is `inter` unless set
	if h.Rise == 0 {
		h.Rise = def.Health.Rise
	}
	if h.Fall == 0 {
		h.Fall = def.Health.Fall
	}
	if h.Path != "" && !strings.HasPrefix(h.Path, "/") {
		v.fail(key+".health.path", "%q must start with /", h.Path)
	}
	if h.Timeout > h.Interval {
		v.fail(key+".health.timeout", "%s is above the interval %s", h.Timeout, h.Interval)
	}
	v.notNegative(key+".health.rise", h.Rise)
	v.notNegative(key+".health.fall", h.Fall)
	if h.ExpectStatus != 0 && (h.ExpectStatus < 100 || h.ExpectStatus > 599) {
		v.fail(key+".health.expect_status", "%d is not an HTTP status", h.ExpectStatus)
	}
	switch {
	case p.Passive.Errors == -1:
		p.Passive.Errors = 0
	case p.Passive.Errors < 0:
		v.fail(key+".passive.errors", "%d is negative (0 or -1 turns passive ejection off)", p.Passive.Errors)
	}
	setDuration(&p.Passive.Backoff, def.Passive.Backoff.D())
	switch p.Passive.Observe {
	case "":
		p.Passive.Observe = def.Passive.Observe
	case ObserveLayer4, ObserveLayer7:
	default:
		v.fail(key+".passive.observe", "%q: layer4 (connection errors and timeouts) or layer7 (also 5xx)", p.Passive.Observe)
	}
	if p.Sticky.Cookie != "" && p.Sticky.Source {
		v.fail(key+".sticky", "choose cookie or source, not both")
	}
	setDuration(&p.ConnectTimeout, def.ConnectTimeout.D())
	setDuration(&p.FirstByteTimeout, def.FirstByteTimeout.D())
	setDuration(&p.IdleTimeout, def.IdleTimeout.D())
	setDuration(&p.QueueTimeout, def.QueueTimeout.D())
	switch {
	case p.Retries == -1:
		p.Retries = 0
	case p.Retries < 0:
		v.fail(key+".retries", "%d is negative (0 or -1 turns retries off)", p.Retries)
	}
	if p.MaxQueue == 0 {
		p.MaxQueue = def.MaxQueue
	}
	v.notNegative(key+".max_conns", p.MaxConns)
	v.notNegative(key+".max_queue", p.MaxQueue)
}

func (v *validator) route(key string, r *Route, origins map[string]*Pool) {
	if r.Origin == "" {
		if !v.hasRedirect(key, r) {
			v.fail(key+".origin", "missing: a route names its origin pool (or redirects)")
		}
	} else if _, ok := origins[r.Origin]; !ok {
		v.fail(key+".origin", "unknown origin %q (defined: %s)", r.Origin, strings.Join(sortedKeys(origins), ", "))
	}
	m := &r.Match
	if m.PathPrefix != "" && !strings.HasPrefix(m.PathPrefix, "/") {
		v.fail(key+".match.path_prefix", "%q must start with /", m.PathPrefix)
	}
	if m.PathRegex != "" {
		if _, err := regexp.Compile(m.PathRegex); err != nil {
			v.fail(key+".match.path_regex", "%v", err)
		}
	}
	for i, ext := range m.Extensions {
		m.Extensions[i] = strings.ToLower(strings.TrimPrefix(ext, "."))
		if m.Extensions[i] == "" || strings.ContainsAny(m.Extensions[i], "/.") {
			v.fail(fmt.Sprintf("%s.match.extensions[%d]", key, i), "%q is not a file extension", ext)
		}
	}
	for i, method := range m.Methods {
		m.Methods[i] = strings.ToUpper(method)
		if !validToken(m.Methods[i]) {
			v.fail(fmt.Sprintf("%s.match.methods[%d]", key, i), "%q is not an HTTP method", method)
		}
	}
	for i, host := range m.Host {
		m.Host[i] = routeHost(host)
		if msg := routeHostProblem(m.Host[i]); msg != "" {
			v.fail(fmt.Sprintf("%s.match.host[%d]", key, i), "%q %s", host, msg)
		}
	}
	if r.RateLimit.Rate < 0 {
		v.fail(key+".rate_limit.rate", "%v is negative", r.RateLimit.Rate)
	} else if !finite(r.RateLimit.Rate) {
		v.fail(key+".rate_limit.rate", "%v is not a finite number", r.RateLimit.Rate)
	}
	v.notNegative(key+".rate_limit.burst", r.RateLimit.Burst)
}

func (v *validator) cluster(c *Cluster) {
	def := DefaultCluster()
	if c.VNodes == 0 {
		c.VNodes = def.VNodes
	}
	if c.VNodes < 1 || c.VNodes > 4096 {
		v.fail("cluster.vnodes", "%d is outside 1..4096", c.VNodes)
	}
	v.hostPort("cluster.bind", c.Bind)
	if c.Advertise != "" {
		v.peerAddr("cluster.advertise", c.Advertise)
	}
	for i, j := range c.Join {
		v.peerAddr(fmt.Sprintf("cluster.join[%d]", i), j)
	}
	setDuration(&c.ProbeInterval, def.ProbeInterval.D())
	setDuration(&c.ProbeTimeout, def.ProbeTimeout.D())
	setDuration(&c.ForwardTimeout, def.ForwardTimeout.D())
	setDuration(&c.AdoptTimeout, def.AdoptTimeout.D())
	if c.SuspicionMult == 0 {
		c.SuspicionMult = def.SuspicionMult
	}
	if c.ProbeTimeout >= c.ProbeInterval {
		v.fail("cluster.probe_timeout", "%s is not below probe_interval %s", c.ProbeTimeout, c.ProbeInterval)
	}
	if c.SuspicionMult < 1 {
		v.fail("cluster.suspicion_mult", "must be at least 1")
	}
	if c.BoundedLoad != 0 && !(c.BoundedLoad > 1 && finite(c.BoundedLoad)) { // NaN too
		v.fail("cluster.bounded_load", "%v must be above 1 (1.25 is usual) or 0 for off", c.BoundedLoad)
	}
	c.Secret = v.readSecret("cluster.secret_file", c.SecretFile)
	if c.Bind != "" && c.SecretFile == "" {
		v.fail("cluster.secret_file", "a cluster needs a shared secret: it encrypts gossip and admits members to the peer port")
	}
	c.AcceptSecrets = nil
	for i, file := range c.AcceptSecretFiles {
		c.AcceptSecrets = append(c.AcceptSecrets, v.readSecret(fmt.Sprintf("cluster.accept_secret_files[%d]", i), file))
	}
	if len(c.AcceptSecretFiles) > 0 && c.SecretFile == "" {
		v.fail("cluster.accept_secret_files", "needs cluster.secret_file, the secret this node sends")
	}
}

func (v *validator) purge(p *Purge) {
	p.Token = v.readSecret("purge.token_file", p.TokenFile)
	v.cidrs("purge.allow", p.Allow)
	if len(p.Allow) == 0 {
		p.Allow = []string{"127.0.0.0/8", "::1/128"}
	}
	setDuration(&p.Timeout, 2*time.Second)
}

func (v *validator) readSecret(key, file string) string {
	if file == "" {
		return ""
	}
	data, err := ReadFile(v.resolve(file), MaxSecretBytes, "a secret file")
	if err != nil {
		v.fail(key, "%v", err)
		return ""
	}
	secret := strings.TrimSpace(string(data))
	if len(secret) < 16 {
		v.fail(key, "the secret in %s is shorter than 16 characters", file)
	}
	return secret
}

func (v *validator) resolve(file string) string {
	if filepath.IsAbs(file) || v.dir == "" {
		return file
	}
	return filepath.Join(v.dir, file)
}

func (v *validator) cidrs(key string, list []string) {
	for i, c := range list {
		if _, err := netip.ParsePrefix(c); err != nil {
			v.fail(fmt.Sprintf("%s[%d]", key, i), "%q is not a CIDR such as 10.0.0.0/8", c)
		}
	}
}

func (v *validator) tls(t *TLS) {
	for i := range t.Certificates {
		c := &t.Certificates[i]
		key := fmt.Sprintf("tls.certificates[%d]", i)
		for field, file := range map[string]*string{"cert": &c.Cert, "key": &c.Key} {
			if *file == "" {
				v.fail(key+"."+field, "missing")
				continue
			}
			*file = v.resolve(*file)
			if _, err := os.Stat(*file); err != nil {
				v.fail(key+"."+field, "%v", err)
			}
		}
	}
}

func (v *validator) compression(c *Compression) {
	for i, enc := range c.Encodings {
		if enc != "br" && enc != "gzip" && enc != "zstd" {
			v.fail(fmt.Sprintf("compression.encodings[%d]", i), "%q: br, zstd or gzip", enc)
		}
	}
	if len(c.Types) == 0 {
		c.Types = []string{"text/*", "application/json", "application/javascript", "application/xml", "image/svg+xml"}
	}
	for i, typ := range c.Types {
		// The edge compares type and subtype alone: an entry that is not one ("html", "",
		// "text/html; charset=utf-8") matched no response, so that type went uncompressed.
		major, minor, ok := strings.Cut(typ, "/")
		if !ok || !mediaPart(major) || !mediaPart(minor) {
			v.fail(fmt.Sprintf("compression.types[%d]", i), "%q is not a media type such as text/html or text/* (no parameters)", typ)
		}
	}
	if c.MinSize == 0 {
		c.MinSize = 256
	}
	if c.Level < 0 || c.Level > 9 {
		// It was clamped to 1 or 9 without a word, as nginx's gzip_comp_level 42 is not.
		v.fail("compression.level", "%d is outside 1..9 (0 means 6)", c.Level)
	}
}

func (v *validator) log(l *Log) {
	if l.Level == "" {
		l.Level = "info"
	}
	if l.Access == "" {
		l.Access = "json"
	}
	switch l.Level {
	case "debug", "info", "warn", "error":
	default:
		v.fail("log.level", "%q: debug, info, warn or error", l.Level)
	}
	switch l.Access {
	case "off", "json", "combined":
	default:
		v.fail("log.access", "%q: off, json or combined", l.Access)
	}
}

func setSize(s *Size, def Size) {
	if *s == 0 {
		*s = def
	}
}

func setDuration(d *Duration, def time.Duration) {
	if *d == 0 {
		*d = Duration(def)
	}
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

// mediaPart reports whether s is a media type's type or subtype (an RFC 9110 token) or *.
func mediaPart(s string) bool { return s == "*" || validToken(s) }

func validToken(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r <= ' ' || r >= 0x7f || strings.ContainsRune("()<>@,;:\\\"/[]?={}", r) {
			return false
		}
	}
	return true
}

// finite reports whether f is a number a component can use: YAML's .nan and .inf decode into
// float64 keys, and NaN passes any bound written as "f < lo || f > hi".
func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// routeHost folds a match.host as the edge folds a request's host before matching routes:
// lower case, no trailing dot, an IPv6 literal in brackets in its canonical form.
func routeHost(h string) string {
	h = strings.ToLower(h)
	if strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]") {
		if a, err := netip.ParseAddr(h[1 : len(h)-1]); err == nil && a.Is6() && a.Zone() == "" {
			return "[" + a.String() + "]"
		}
		return h
	}
	return strings.TrimSuffix(h, ".")
}

// routeHostProblem says why a folded match.host can match no request, or "": requests are
// matched by host without port, so one written with a port, a wildcard other than a leading
// "*.", or an IPv6 address outside brackets would silently leave its route unused.
func routeHostProblem(h string) string {
	switch {
	case h == "" || strings.ContainsAny(h, "/ "):
		return "is not a host name"
	case strings.HasPrefix(h, "["):
		if _, err := netip.ParseAddr(strings.TrimSuffix(h[1:], "]")); err != nil || !strings.HasSuffix(h, "]") {
			return "is not an IPv6 literal in brackets (a route matches the host without its port)"
		}
	case strings.Contains(h, ":"):
		return "has a port or is an IPv6 address without brackets: a route matches the host without its port"
	case strings.Contains(strings.TrimPrefix(h, "*."), "*") || h == "*.":
		return `is not a host name or "*.suffix" (a wildcard is only a leading "*.")`
	}
	return ""
}

// notNegative refuses a negative count, naming its own key (and so its line).
func (v *validator) notNegative(key string, n int) {
	if n < 0 {
		v.fail(key, "%d is negative", n)
	}
}

// AnyServerTakesRequests reports whether a server of the pool may be picked: one with a
// weight above 0, or a backup (a backup takes requests whatever its weight).
func AnyServerTakesRequests(servers []Server) bool {
	for _, s := range servers {
		if s.Backup || s.Weight == nil || *s.Weight > 0 {
			return true
		}
	}
	return false
}
