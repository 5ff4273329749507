package edge

import (
	"encoding/json"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/cachestore"
	"github.com/shoal-cdn/shoal/edge/h2"
)

// fieldRecorder is an h2.ResponseWriter that keeps the answer's status, fields and body,
// whether it was given inline (Respond) or on a detached goroutine; done is closed once the
// stream ended.
type fieldRecorder struct {
	mu       sync.Mutex
	status   int
	fields   map[string]string
	body     []byte
	detached bool
	done     chan struct{}
	once     sync.Once
}

func newFieldRecorder() *fieldRecorder { return &fieldRecorder{done: make(chan struct{})} }

func (w *fieldRecorder) head(status int, fields []h2.Field) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.status, w.fields = status, map[string]string{}
	for _, f := range fields {
		w.fields[f.Name] = f.Value
	}
}
func (w *fieldRecorder) end() { w.once.Do(func() { close(w.done) }) }
func (w *fieldRecorder) Respond(status int, fields []h2.Field, body []byte) error {
	w.head(status, fields)
	w.mu.Lock()
	w.body = append([]byte(nil), body...)
	w.mu.Unlock()
	w.end()
	return nil
}
func (w *fieldRecorder) WriteInterim(int, []h2.Field) error { return nil }
func (w *fieldRecorder) WriteHeader(status int, fields []h2.Field) error {
	w.head(status, fields)
	return nil
}
func (w *fieldRecorder) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.body = append(w.body, p...)
	return len(p), nil
}
func (w *fieldRecorder) Close([]h2.Field) error { w.end(); return nil }
func (w *fieldRecorder) Abort()                 { w.end() }
func (w *fieldRecorder) Detach()                { w.detached = true }
func (w *fieldRecorder) Done() <-chan struct{}  { return nil }

// wait returns once the stream ended (at most 5 s).
func (w *fieldRecorder) wait(t *testing.T) {
	t.Helper()
	select {
	case <-w.done:
	case <-time.After(5 * time.Second):
		t.Fatal("no answer in 5 s")
	}
}

// handoffNode starts a node (with yaml before its one cache route) in front of origin, past
// its adoption window, its clock the returned one; it returns its configuration too.
func handoffNode(t *testing.T, yaml string, opts Options, origin http.HandlerFunc) (*Node, *atomic.Int64, string) {
	t.Helper()
	o := startOrigin(t, origin)
	var clock atomic.Int64
	clock.Store(time.Now().UnixNano())
	opts.Now = func() time.Time { return time.Unix(0, clock.Load()) }
	yaml += oneRoute(true, o.URL)
	n := startNode(t, yaml, opts)
	long := time.Now().Add(-time.Hour)
	n.started.Store(&long)
	return n, &clock, yaml
}

// h2Get is an HTTP/2 GET (or HEAD) for path from addr, as edge/h2 hands it to the handler.
func h2Get(method, path, addr string, fields ...string) *h2.Request {
	r := &h2.Request{Method: method, Scheme: "https", Authority: "www.example.test", Path: path,
		ContentLength: -1, Body: new(h2.Body), RemoteAddr: &net.TCPAddr{IP: net.ParseIP(addr), Port: 40000}, TLS: true}
	for i := 0; i+1 < len(fields); i += 2 {
		r.Fields = append(r.Fields, h2.Field{Name: fields[i], Value: fields[i+1]})
	}
	return r
}

// warmH2 fetches path through h (a miss: answered on a detached goroutine) and waits for
// the fill to be stored.
func warmH2(t *testing.T, n *Node, h h2handler, path string, fields ...string) {
	t.Helper()
	w := newFieldRecorder()
	h.ServeH2(w, h2Get("GET", path, "127.0.0.1", fields...))
	w.wait(t)
	if w.status != 200 {
		t.Fatalf("warming %s: %d", path, w.status)
	}
	n.settleFills()
}

// TestH2Serve_hitIsAnsweredAtTheProbesReading: the pipeline takes the fresh-hit probe's walk
// (its lookup and its verdict at the request's start) instead of looking again: with the
// clock moved 5 s between the probe and the pipeline, the answer's Age is the probe's
// reading, 0, not 5. The neighbours that read the verdict and the request view: HEAD, a
// conditional GET (304), a Range (206) and a variant (Vary). Before the hand-over every row
// said Age 5.
func TestH2Serve_hitIsAnsweredAtTheProbesReading(t *testing.T) {
	n, clock, _ := handoffNode(t, "", Options{}, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=3600")
		w.Header().Set("ETag", `"v1"`)
		if r.URL.Path == "/vary.css" {
			w.Header().Set("Vary", "X-Variant")
		}
		w.Write([]byte("0123456789"))
	})
	h := h2handler{n: n, strs: newFieldStrings()}
	warmH2(t, n, h, "/age.css")
	warmH2(t, n, h, "/vary.css", "x-variant", "a")
	base := clock.Load()
	moved := h2handler{n: n, strs: h.strs, afterProbe: func(*cachestore.Object) { clock.Add(int64(5 * time.Second)) }}
	for _, tc := range []struct {
		name, method, path string
		fields             []string
		status             int
		body               string
	}{
		{"GET", "GET", "/age.css", nil, 200, "0123456789"},
		{"HEAD", "HEAD", "/age.css", nil, 200, ""},
		{"If-None-Match", "GET", "/age.css", []string{"if-none-match", `"v1"`}, 304, ""},
		{"Range", "GET", "/age.css", []string{"range", "bytes=2-4"}, 206, "234"},
		{"Vary", "GET", "/vary.css", []string{"x-variant", "a"}, 200, "0123456789"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock.Store(base) // the probe reads it
			w := newFieldRecorder()
			moved.ServeH2(w, h2Get(tc.method, tc.path, "127.0.0.1", tc.fields...))
			w.wait(t)
			if w.detached {
				t.Fatal("not answered inline")
			}
			if w.status != tc.status || string(w.body) != tc.body || w.fields["age"] != "0" {
				t.Errorf("%d %q, age %q; want %d %q, age 0 (the probe's reading)", w.status, w.body, w.fields["age"], tc.status, tc.body)
			}
			if cs := w.fields["cache-status"]; !strings.Contains(cs, "; hit; ttl=3599;") && !strings.Contains(cs, "; hit; ttl=3600;") {
				t.Errorf("Cache-Status %q, want a hit with the probe's ttl (3599 or 3600)", cs)
			}
		})
	}
}

// TestH2Serve_handedHitCountsAsAnyHit: a hit whose walk the probe handed over counts in the
// store (shoal_cachestore hits, the eviction policy's count), in the node's metrics and in
// the access log as the same hit counts when the pipeline looks it up itself (a reload
// between the probe and the pipeline makes it walk again).
func TestH2Serve_handedHitCountsAsAnyHit(t *testing.T) {
	var buf syncBuffer
	buf.Write(nil)
	n, _, yaml := handoffNode(t, "log: {access: json}\n", Options{AccessLog: &buf}, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=3600")
		w.Write([]byte("counted"))
	})
	h := h2handler{n: n, strs: newFieldStrings()}
	warmH2(t, n, h, "/count.css")
	// The walk is not handed over when the settings it read are no longer the node's.
	rewalk := h2handler{n: n, strs: h.strs, afterProbe: func(*cachestore.Object) {
		if err := reloadConfig(t, n, yaml); err != nil {
			t.Error(err)
		}
	}}
	type counts struct{ store, hits, requests uint64 }
	read := func() counts {
		return counts{uint64(n.Store().Stats().Hits), counterValue(n.metrics.hits), counterValue(n.metrics.requests.WithLabelValues("cache", "hit"))}
	}
	for _, tc := range []struct {
		name string
		h    h2handler
	}{{"handed", h}, {"walked again", rewalk}} {
		t.Run(tc.name, func(t *testing.T) {
			before := read()
			w := newFieldRecorder()
			tc.h.ServeH2(w, h2Get("GET", "/count.css", "127.0.0.1"))
			w.wait(t)
			after := read()
			if w.detached || w.status != 200 || string(w.body) != "counted" {
				t.Fatalf("detached %v, %d %q", w.detached, w.status, w.body)
			}
			if d := (counts{after.store - before.store, after.hits - before.hits, after.requests - before.requests}); d != (counts{1, 1, 1}) {
				t.Errorf("store hits, node hits, requests{cache,hit} went up by %v, want 1 each", d)
			}
		})
	}
	var results []string
	for _, line := range strings.Split(buf.String(), "\n") {
		var e accessEntry
		if json.Unmarshal([]byte(line), &e) == nil && e.URI == "/count.css" {
			results = append(results, e.Result+" "+strings.Split(e.CacheStatus, ";")[1])
		}
	}
	if strings.Join(results, ",") != "miss  fwd=uri-miss,hit  hit,hit  hit" {
		t.Errorf("access log for /count.css: %q, want the miss and two hits alike", results)
	}
}

// TestH2Serve_purgeAfterTheProbeIsSeen: a purge that begins after the probe read the store's
// generation makes the pipeline look again instead of serving the probe's verdict. A hard
// purge followed by a new fill: the new object is served. A soft purge: the object is
// served stale (ttl=-1) and revalidated, as a hit on HTTP/1.1 is. Both held before the
// hand-over (the pipeline always looked again); a hand-over that ignored purges would serve
// the old object as fresh.
func TestH2Serve_purgeAfterTheProbeIsSeen(t *testing.T) {
	var version atomic.Int64
	n, _, _ := handoffNode(t, "", Options{}, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=3600")
		w.Write([]byte("v" + strconv.FormatInt(version.Add(1), 10)))
	})
	h := h2handler{n: n, strs: newFieldStrings()}
	for _, tc := range []struct {
		name     string
		overtake func(probed *cachestore.Object)
		check    func(t *testing.T, w *fieldRecorder)
	}{
		{"hard purge and a new fill", func(probed *cachestore.Object) {
			n.Store().PurgeURL(probed.Key, false)
			n.fills.ForgetAll()
			// The new fill, through the same pipeline (its own exchange).
			warmH2(t, n, h2handler{n: n, strs: h.strs}, "/hard.css")
		}, func(t *testing.T, w *fieldRecorder) {
			if string(w.body) == "v1" || !strings.Contains(w.fields["cache-status"], "; hit") {
				t.Errorf("%q, Cache-Status %q: want the object of the fill after the purge, a hit", w.body, w.fields["cache-status"])
			}
		}},
		{"soft purge", func(*cachestore.Object) { n.Store().PurgeAll(true) }, func(t *testing.T, w *fieldRecorder) {
			if cs := w.fields["cache-status"]; !strings.Contains(cs, "ttl=-") {
				t.Errorf("Cache-Status %q, want the soft-purged object served stale (ttl below zero)", cs)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := "/" + strings.Fields(tc.name)[0] + ".css"
			warmH2(t, n, h, path)
			fetches := version.Load()
			var once sync.Once
			w := newFieldRecorder()
			h2handler{n: n, strs: h.strs, afterProbe: func(o *cachestore.Object) { once.Do(func() { tc.overtake(o) }) }}.
				ServeH2(w, h2Get("GET", path, "127.0.0.1"))
			w.wait(t)
			if w.detached || w.status != 200 {
				t.Fatalf("detached %v, status %d", w.detached, w.status)
			}
			tc.check(t, w)
			n.settleFills()
			if tc.name == "soft purge" && version.Load() == fetches {
				t.Error("the soft-purged object was not revalidated")
			}
		})
	}
}

// TestH2Serve_untrustedProxyFieldPicksNoVariant: the probe keys a request as the pipeline
// does, after the fields only a trusted proxy may send are dropped. An origin that varies on
// X-Real-IP stored a variant for a trusted proxy's X-Real-IP: 203.0.113.9; an untrusted
// client sending the same field must get the variant without it (the pipeline drops the
// field, and the origin never sees it), never the trusted client's. The same over HTTP/1.1.
func TestH2Serve_untrustedProxyFieldPicksNoVariant(t *testing.T) {
	n, _, _ := handoffNode(t, "trusted_proxies: [127.0.0.1/32]\n", Options{}, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=3600")
		w.Header().Set("Vary", "X-Real-IP")
		w.Write([]byte("ip=" + r.Header.Get("X-Real-IP")))
	})
	h := h2handler{n: n, strs: newFieldStrings()}
	warmH2(t, n, h, "/ip.css", "x-real-ip", "203.0.113.9") // the trusted proxy's variant
	for i := range 2 {                                     // a miss, then a hit of its own variant
		w := newFieldRecorder()
		h.ServeH2(w, h2Get("GET", "/ip.css", "192.0.2.7", "x-real-ip", "203.0.113.9"))
		w.wait(t)
		n.settleFills()
		if w.status != 200 || string(w.body) != "ip=" {
			t.Errorf("untrusted client, request %d: %d %q (Cache-Status %q), want the variant without X-Real-IP", i+1, w.status, w.body, w.fields["cache-status"])
		}
	}
}

// TestH2Serve_handedStaleHitRevalidates: a hit the probe finds stale but within
// stale-while-revalidate is answered inline from the handed walk, stale (ttl below zero),
// and revalidated once in the background, as on HTTP/1.1.
func TestH2Serve_handedStaleHitRevalidates(t *testing.T) {
	var fetches atomic.Int64
	n, clock, _ := handoffNode(t, "", Options{}, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=10, stale-while-revalidate=60")
		w.Write([]byte("v" + strconv.FormatInt(fetches.Add(1), 10)))
	})
	h := h2handler{n: n, strs: newFieldStrings()}
	warmH2(t, n, h, "/swr.css")
	clock.Add(int64(20 * time.Second))
	w := newFieldRecorder()
	h.ServeH2(w, h2Get("GET", "/swr.css", "127.0.0.1"))
	w.wait(t)
	if w.detached || w.status != 200 || string(w.body) != "v1" || !strings.Contains(w.fields["cache-status"], "; hit; ttl=-") {
		t.Fatalf("detached %v, %d %q, Cache-Status %q: want v1 inline, a stale hit", w.detached, w.status, w.body, w.fields["cache-status"])
	}
	for deadline := time.Now().Add(5 * time.Second); fetches.Load() < 2 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	n.settleFills()
	if fetches.Load() != 2 {
		t.Errorf("origin asked %d times, want 2 (the fill and one background revalidation)", fetches.Load())
	}
}
