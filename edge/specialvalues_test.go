package edge

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/edge/compress"
)

// Issue 13, input 7: every special value (0, -1, "") that examples/shoal.yaml documents outside
// the origins section is loaded from YAML through conf and checked through a running node.
// Pool keys have their own walk, origin.TestPool_specialValuesOfTheReferenceConfig.

// svClock is a settable clock for rows that need time to pass without sleeping.
type svClock struct{ off atomic.Int64 }

func (c *svClock) now() time.Time          { return time.Now().Add(time.Duration(c.off.Load())) }
func (c *svClock) advance(d time.Duration) { c.off.Add(int64(d)) }

// svOrigin answers every request with a body counting the requests so far and the fields
// set returns; fail makes it answer 503 instead.
type svOrigin struct {
	*countingOrigin
	mu     sync.Mutex
	fields map[string]string
	fail   atomic.Bool
	seen   []http.Header
}

func startSVOrigin(t *testing.T, fields ...string) *svOrigin {
	o := &svOrigin{fields: map[string]string{}}
	for i := 0; i+1 < len(fields); i += 2 {
		o.fields[fields[i]] = fields[i+1]
	}
	o.countingOrigin = startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		o.mu.Lock()
		o.seen = append(o.seen, r.Header.Clone())
		for k, v := range o.fields {
			w.Header().Set(k, v)
		}
		o.mu.Unlock()
		if o.fail.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, "response %d %s", o.requests.Load(), strings.Repeat("x", 1024))
	})
	return o
}

func (o *svOrigin) lastHeader() http.Header {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.seen) == 0 {
		return nil
	}
	return o.seen[len(o.seen)-1]
}

// svNode starts a node with the listeners on loopback, one pool on origin and one route
// (cache true or false) carrying routeExtra, and the top-level YAML in extra.
func svNode(t *testing.T, origin string, cache bool, routeExtra, extra string, opts Options) *Node {
	t.Helper()
	yaml := fmt.Sprintf(`node: {name: sv}
origins: {o: {servers: [{url: %q}]}}
routes: [{match: {path_prefix: /}, origin: o, cache: %v%s}]
%s`, origin, cache, routeExtra, extra)
	if !strings.Contains(extra, "\ncache:") && !strings.HasPrefix(extra, "cache:") {
		yaml += "cache: {memory: 128MiB, max_object_size: 1MiB, fill_timeout: 5s}\n"
	}
	if !strings.HasPrefix(extra, "listen:") {
		yaml = "listen: {http: \"127.0.0.1:0\", admin: \"127.0.0.1:0\"}\n" + yaml
	}
	return startNode(t, yaml, opts)
}

func svBody(t *testing.T, method, url string, body []byte, header ...string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// nodeSpecialValues has one row per documented special value: the dotted key as
// documentedSpecialKeys spells it, and a check of what the reference file's line promises.
var nodeSpecialValues = map[string]func(t *testing.T){
	"node.weight": func(t *testing.T) { // 0 means 1
		n := startNode(t, strings.Replace(oneRoute(true, "http://127.0.0.1:1"), "node: {name: test-edge}", "node: {name: w, weight: 0}", 1), Options{})
		if w := n.Ring().Self().Weight; w != 1 {
			t.Errorf("node.weight: 0: ring weight %d, want 1", w)
		}
		if _, self := n.Ring().Owner("/any"); !self {
			t.Errorf("node.weight: 0: the node owns no key of its own ring")
		}
	},
	"listen.http": func(t *testing.T) { // empty means off
		// conf refuses a node without any data listener, so HTTPS carries the data here.
		certFile, keyFile, _ := writeCert(t, t.TempDir(), "site", "www.example.test")
		n := startNode(t, fmt.Sprintf("listen: {http: \"\", https: \"127.0.0.1:0\", admin: \"127.0.0.1:0\"}\n"+
			"tls: {certificates: [{cert: %s, key: %s}]}\n", certFile, keyFile)+oneRoute(true, "http://127.0.0.1:1"), Options{})
		if a := n.HTTPAddr(); a != "" || n.httpLn != nil {
			t.Errorf(`listen.http: "": listening on %s, want no listener`, a)
		}
	},
	"listen.https": func(t *testing.T) { // empty means off
		n := startNode(t, "listen: {http: \"127.0.0.1:0\", https: \"\", admin: \"127.0.0.1:0\"}\n"+oneRoute(true, "http://127.0.0.1:1"), Options{})
		if a := n.HTTPSAddr(); a != "" {
			t.Errorf(`listen.https: "": listening on %s, want no listener`, a)
		}
	},
	"listen.h2c": func(t *testing.T) { // empty means off
		off := startNode(t, "listen: {http: \"127.0.0.1:0\", h2c: \"\", admin: \"127.0.0.1:0\"}\n"+oneRoute(true, "http://127.0.0.1:1"), Options{})
		if a := off.H2CAddr(); a != "" {
			t.Errorf(`listen.h2c: "": listening on %s, want no listener`, a)
		}
		on := startNode(t, "listen: {http: \"127.0.0.1:0\", h2c: \"127.0.0.1:0\", admin: \"127.0.0.1:0\"}\n"+oneRoute(true, "http://127.0.0.1:1"), Options{})
		if on.H2CAddr() == "" {
			t.Error("listen.h2c set: no listener either, so the row cannot tell off from on")
		}
	},
	"listen.peer": func(t *testing.T) { // empty means off
		n := startNode(t, "listen: {http: \"127.0.0.1:0\", peer: \"\", admin: \"127.0.0.1:0\"}\n"+oneRoute(true, "http://127.0.0.1:1"), Options{})
		if a := n.PeerAddr(); a != "" || n.peerLn != nil {
			t.Errorf(`listen.peer: "": peer address %q, want no listener`, a)
		}
	},
	"limits.max_conns_per_ip": func(t *testing.T) { // 0 means unlimited
		o := startSVOrigin(t, "Cache-Control", "max-age=60")
		n := svNode(t, o.URL, true, "", "limits: {max_conns_per_ip: 0}\n", Options{})
		const conns = 50
		var cs []net.Conn
		for range conns { // all open at once, from one address
			c, err := net.Dial("tcp", n.HTTPAddr())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			cs = append(cs, c)
		}
		served := 0
		for _, c := range cs {
			c.SetDeadline(time.Now().Add(5 * time.Second))
			io.WriteString(c, "GET /c HTTP/1.1\r\nHost: x\r\n\r\n")
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err == nil && resp.StatusCode == 200 {
				served++
			}
		}
		if served != conns {
			t.Errorf("limits.max_conns_per_ip: 0: %d of %d connections from one address served, want all", served, conns)
		}
	},
	"cache.default_ttl": func(t *testing.T) { // 0 means not stored
		o := startSVOrigin(t) // no freshness, no validator
		n := svNode(t, o.URL, true, "", "cache: {memory: 128MiB, default_ttl: 0s}\n", Options{})
		get(t, "http://"+n.HTTPAddr()+"/d")
		get(t, "http://"+n.HTTPAddr()+"/d")
		if got := o.requests.Load(); got != 2 {
			t.Errorf("cache.default_ttl: 0s: origin saw %d requests for two GETs, want 2 (nothing stored)", got)
		}
	},
	"cache.disk.segment_size":    diskDefaultsRow,
	"cache.disk.max_object_size": diskDefaultsRow,
	"cache.disk.admit_frequency": func(t *testing.T) { // -1 admits everything
		o := startSVOrigin(t, "Cache-Control", "max-age=60")
		n := svNode(t, o.URL, true, "", fmt.Sprintf("cache: {memory: 128MiB, disk: {path: %q, size: 64MiB, admit_frequency: -1}}\n", t.TempDir()), Options{})
		// conf must hand -1 on as it is: turned into 0 it would mean the default 2 (the
		// retries fault of this issue); cachestore/disk admits everything for a negative value.
		if n.disk == nil || n.rt.Load().cfg.Cache.Disk.AdmitFrequency != -1 {
			t.Errorf("cache.disk.admit_frequency: -1: tier %v, loaded as %d; want a tier given -1", n.disk != nil, n.rt.Load().cfg.Cache.Disk.AdmitFrequency)
		}
	},
	"routes[].match": func(t *testing.T) { // empty matches everything
		o := startSVOrigin(t)
		n := startNode(t, fmt.Sprintf("listen: {http: \"127.0.0.1:0\", admin: \"127.0.0.1:0\"}\n"+
			"origins: {o: {servers: [{url: %q}]}}\nroutes: [{match: {}, origin: o, cache: false}]\n", o.URL), Options{})
		for _, target := range []string{"/", "/a/b.css", "/x?y=1", "//double"} {
			code, _, _ := get(t, "http://"+n.HTTPAddr()+target, "Host", "any.example")
			if code != 200 {
				t.Errorf("routes[].match: {}: %s got %d, want the route (200)", target, code)
			}
		}
		if code, _, _ := svBody(t, "DELETE", "http://"+n.HTTPAddr()+"/d", nil); code != 200 {
			t.Errorf("routes[].match: {}: DELETE got %d, want the route (200)", code)
		}
	},
	"routes[].match.methods": func(t *testing.T) { // empty means any
		o := startSVOrigin(t)
		n := svNode(t, o.URL, false, "", "", Options{})
		for _, m := range []string{"GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"} {
			if code, _, _ := svBody(t, m, "http://"+n.HTTPAddr()+"/m", nil); code != 200 {
				t.Errorf("routes[].match.methods: []: %s got %d, want the route (200)", m, code)
			}
		}
	},
	"routes[].rate_limit.rate": func(t *testing.T) { // 0 means off
		o := startSVOrigin(t, "Cache-Control", "max-age=60")
		n := svNode(t, o.URL, true, ", rate_limit: {rate: 0, burst: 0}", "", Options{})
		for i := range 60 {
			if code, _, _ := get(t, "http://"+n.HTTPAddr()+"/r"); code != 200 {
				t.Fatalf("routes[].rate_limit.rate: 0: request %d of a burst got %d, want no limit", i+1, code)
			}
		}
	},
	"policy.ttl.min": func(t *testing.T) { // 0 is no clamp
		clock := &svClock{}
		// max-age 4, not 2: the origin's Date has whole seconds, so the object is up to a
		// second old when stored, and one more second of clock plus the test's own time
		// could reach a max-age of 2 (flaky under -race).
		o := startSVOrigin(t, "Cache-Control", "max-age=4")
		n := svNode(t, o.URL, true, "", "policy: {ttl: {min: 0s, max: 0s}}\n", Options{Now: clock.now})
		get(t, "http://"+n.HTTPAddr()+"/t")
		n.settleFills()
		clock.advance(time.Second)
		get(t, "http://"+n.HTTPAddr()+"/t")
		if got := o.requests.Load(); got != 1 {
			t.Errorf("policy.ttl.min: 0s: a fresh object was refetched (%d origin requests)", got)
		}
		clock.advance(5 * time.Second)
		get(t, "http://"+n.HTTPAddr()+"/t")
		if got := o.requests.Load(); got != 2 {
			t.Errorf("policy.ttl.min: 0s: after max-age origin saw %d requests, want 2 (no clamp)", got)
		}
	},
	"policy.stale.while_revalidate": func(t *testing.T) { // 0 keeps cache.stale_while_revalidate
		clock := &svClock{}
		o := startSVOrigin(t, "Cache-Control", "max-age=1")
		n := svNode(t, o.URL, true, "", "cache: {memory: 128MiB, stale_while_revalidate: 60s}\npolicy: {stale: {while_revalidate: 0s}}\n", Options{Now: clock.now})
		_, _, first := get(t, "http://"+n.HTTPAddr()+"/s")
		n.settleFills()
		clock.advance(10 * time.Second)
		if _, _, body := get(t, "http://"+n.HTTPAddr()+"/s"); body != first {
			t.Errorf("policy.stale.while_revalidate: 0s: a stale object within cache.stale_while_revalidate was not served stale: got %.12q, want %.12q", body, first)
		}
	},
	"cache.stale_if_error": func(t *testing.T) { // 0: off
		clock := &svClock{}
		o := startSVOrigin(t, "Cache-Control", "max-age=1")
		n := svNode(t, o.URL, true, "", "cache: {memory: 128MiB, stale_if_error: 0}\n", Options{Now: clock.now})
		get(t, "http://"+n.HTTPAddr()+"/e")
		n.settleFills()
		o.fail.Store(true)
		clock.advance(10 * time.Second)
		if code, _, _ := get(t, "http://"+n.HTTPAddr()+"/e"); code != http.StatusServiceUnavailable {
			t.Errorf("cache.stale_if_error: 0: origin failing on a stale object gave %d, want its 503 (no grace)", code)
		}
	},
	"policy.stale.if_error": func(t *testing.T) { // 0 keeps cache.stale_if_error
		clock := &svClock{}
		o := startSVOrigin(t, "Cache-Control", "max-age=1")
		n := svNode(t, o.URL, true, "", "cache: {memory: 128MiB, stale_if_error: 60s}\npolicy: {stale: {if_error: 0s}}\n", Options{Now: clock.now})
		_, _, first := get(t, "http://"+n.HTTPAddr()+"/e")
		n.settleFills()
		o.fail.Store(true)
		clock.advance(10 * time.Second)
		if code, _, body := get(t, "http://"+n.HTTPAddr()+"/e"); code != 200 || body != first {
			t.Errorf("policy.stale.if_error: 0s: origin failing within cache.stale_if_error gave %d %.12q, want the stale 200", code, body)
		}
	},
	"policy.access.allow": func(t *testing.T) { // empty: every client
		o := startSVOrigin(t)
		n := svNode(t, o.URL, false, "", "policy: {access: {allow: [], deny: []}}\n", Options{})
		if code, _, _ := get(t, "http://"+n.HTTPAddr()+"/a"); code != 200 {
			t.Errorf("policy.access.allow: []: got %d, want every client served", code)
		}
	},
	"policy.max_body_bytes": func(t *testing.T) { // 0 means limits.max_body_bytes
		o := startSVOrigin(t)
		n := svNode(t, o.URL, false, "", "limits: {max_body_bytes: 4KiB}\npolicy: {max_body_bytes: 0}\n", Options{})
		if code, _, _ := svBody(t, "POST", "http://"+n.HTTPAddr()+"/b", make([]byte, 3000)); code != 200 {
			t.Errorf("policy.max_body_bytes: 0: a body under limits.max_body_bytes got %d, want 200", code)
		}
		if code, _, _ := svBody(t, "POST", "http://"+n.HTTPAddr()+"/b", make([]byte, 5000)); code != 413 {
			t.Errorf("policy.max_body_bytes: 0: a body over limits.max_body_bytes got %d, want 413", code)
		}
	},
	"cluster.bind": func(t *testing.T) { // empty means a single node
		n := startNode(t, "cluster: {bind: \"\"}\n"+oneRoute(true, "http://127.0.0.1:1"), Options{})
		if a, m := n.Ring().GossipAddr(), n.Ring().Members(); a != "" || len(m) != 1 {
			t.Errorf(`cluster.bind: "": gossip address %q, members %v; want none and only this node`, a, m)
		}
	},
	"cluster.bounded_load": func(t *testing.T) { // 0 off
		nodes := startClusterWith(t, 2, "http://127.0.0.1:1", ", bounded_load: 0")
		n := nodes[0]
		n.inflight.add("node-2", 1000) // node-2 far above any factor of the mean
		defer n.inflight.add("node-2", -1000)
		rt := n.rt.Load()
		moved, owned := 0, 0
		for i := range 200 {
			key := "/k" + strconv.Itoa(i)
			want, _ := n.Ring().Owner(key)
			if want.Name != "node-2" {
				continue
			}
			owned++
			if got, _ := n.ownerOf(rt, key); got.Name != want.Name {
				moved++
			}
		}
		if owned == 0 || moved != 0 {
			t.Errorf("cluster.bounded_load: 0: %d of node-2's %d keys moved off the overloaded owner, want none (off)", moved, owned)
		}
	},
	"gslb.listen": func(t *testing.T) { // empty means off
		n := startNode(t, "listen: {http: \"127.0.0.1:0\", admin: \"127.0.0.1:0\"}\ngslb: {listen: \"\"}\n"+oneRoute(true, "http://127.0.0.1:1"), Options{})
		if a := n.DNSAddr(); a != "" {
			t.Errorf(`gslb.listen: "": DNS on %s, want none`, a)
		}
	},
	"gslb.udp_threads": func(t *testing.T) { // 0 means one reader (and socket) per CPU
		// Netpoller readers: blocking ones would add a P each, and GOMAXPROCS is the CPU count
		// here only while no blocking server listens.
		cpus := runtime.GOMAXPROCS(0)
		n := startNode(t, "listen: {http: \"127.0.0.1:0\", admin: \"127.0.0.1:0\"}\ngslb: {listen: \"127.0.0.1:0\", zone: cdn.example.com., names: [www], udp_threads: 0, udp_netpoll: true}\n"+
			oneRoute(true, "http://127.0.0.1:1"), Options{})
		_, port, err := net.SplitHostPort(n.DNSAddr())
		if err != nil {
			t.Fatal(err)
		}
		p, _ := strconv.Atoi(port)
		if got := udpSocketsOnPort(t, p); got != cpus {
			t.Errorf("gslb.udp_threads: 0: %d UDP sockets on the DNS port, want one per CPU (%d)", got, cpus)
		}
	},
	"vip.addresses": func(t *testing.T) { // [] with interface "": no shared address
		n := startNode(t, "listen: {http: \"127.0.0.1:0\", admin: \"127.0.0.1:0\"}\nvip: {interface: \"\", addresses: []}\n"+oneRoute(true, "http://127.0.0.1:1"), Options{})
		if v := n.Ring().Self().VIPs; n.vips != nil || len(v) != 0 {
			t.Errorf("vip.addresses: []: VIP manager %v, announced %v; want neither", n.vips != nil, v)
		}
	},
	"compression.encodings": func(t *testing.T) { // empty means off
		o := startSVOrigin(t, "Cache-Control", "max-age=60")
		n := svNode(t, o.URL, true, "", "compression: {encodings: []}\n", Options{})
		for range 2 { // miss and hit
			_, h, _ := get(t, "http://"+n.HTTPAddr()+"/z", "Accept-Encoding", "gzip, zstd, br")
			if ce := h.Get("Content-Encoding"); ce != "" {
				t.Errorf("compression.encodings: []: Content-Encoding %q, want none", ce)
			}
		}
	},
	"compression.level": func(t *testing.T) { // 0 means 6
		o := startSVOrigin(t, "Cache-Control", "max-age=60")
		n := svNode(t, o.URL, true, "", "compression: {encodings: [gzip], level: 0}\n", Options{})
		g, z := n.rt.Load().compressor.Level()
		wantG, wantZ := compress.New(6).Level()
		if g != wantG || z != wantZ {
			t.Errorf("compression.level: 0: gzip %d zstd %s, want level 6's gzip %d zstd %s", g, z, wantG, wantZ)
		}
	},
	"trusted_proxies": func(t *testing.T) { // empty: none
		o := startSVOrigin(t)
		n := svNode(t, o.URL, false, "", "trusted_proxies: []\n", Options{})
		get(t, "http://"+n.HTTPAddr()+"/p", "X-Forwarded-Host", "evil.example", "X-Real-IP", "192.0.2.9")
		if h := o.lastHeader(); h == nil || h.Get("X-Forwarded-Host") != "" || h.Get("X-Real-IP") != "" {
			t.Errorf("trusted_proxies: []: the origin saw a client's proxy fields: %v", h)
		}
	},
	"log.access": func(t *testing.T) { // off (the reference file lists it among the values)
		var buf syncBuffer
		o := startSVOrigin(t)
		n := svNode(t, o.URL, false, "", "log: {access: \"off\"}\n", Options{AccessLog: &buf})
		get(t, "http://"+n.HTTPAddr()+"/l")
		if s := buf.String(); s != "" {
			t.Errorf("log.access: off: access log got %q, want nothing", s)
		}
	},
}

// diskDefaultsRow: segment_size 0 and max_object_size 0 are accepted and the tier opens
// with the sizes cachestore/disk derives from size: conf hands 0 on, and disk.Config resolves
// it (size/16 between 1MiB and 1GiB; size/4), which the disk package's own tests cover.
func diskDefaultsRow(t *testing.T) {
	dir := t.TempDir()
	o := startSVOrigin(t, "Cache-Control", "max-age=60")
	n := svNode(t, o.URL, true, "", fmt.Sprintf("cache: {memory: 128MiB, disk: {path: %q, size: 64MiB, segment_size: 0, max_object_size: 0}}\n", dir), Options{})
	if d := n.rt.Load().cfg.Cache.Disk; n.disk == nil || d.SegmentSize != 0 || d.MaxObjectSize != 0 {
		t.Errorf("cache.disk sizes 0: tier %v, loaded as segment_size %d max_object_size %d; want a tier given 0 for both", n.disk != nil, d.SegmentSize, d.MaxObjectSize)
	}
}

func TestNode_specialValuesOfTheReferenceConfig(t *testing.T) {
	documented := documentedSpecialKeys(t, "../examples/shoal.yaml")
	covered := map[string]bool{}
	for _, key := range documented {
		if strings.HasPrefix(key, "origins.") {
			continue // origin.TestPool_specialValuesOfTheReferenceConfig
		}
		check, ok := nodeSpecialValues[key]
		if !ok {
			t.Errorf("examples/shoal.yaml documents a special value of %s that no row of nodeSpecialValues checks", key)
			continue
		}
		covered[key] = true
		t.Run(key, check)
	}
	for key, check := range nodeSpecialValues {
		if !covered[key] {
			t.Run(key, check) // rows for values the file states without a marker phrase
		}
	}
}
