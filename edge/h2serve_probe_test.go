package edge

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/cachestore"
	"github.com/shoal-cdn/shoal/edge/h2"
	"golang.org/x/net/http2"
)

// TestH2Serve_inlineHitNeverFills: a request freshHit finds fresh is answered on the
// connection's goroutine; if a purge, an eviction or expiry overtakes it before the pipeline
// looks again, the pipeline must not fill there, or every other stream of the connection
// waits for the origin. The test purges (or moves the clock) right after the probe, holds the
// origin, and asks for another hit on the same connection: it must be answered while the
// origin is held. The origin is held until then (at most 3 s).
func TestH2Serve_inlineHitNeverFills(t *testing.T) {
	for _, tc := range []struct {
		name     string
		overtake func(n *Node, probed *cachestore.Object, clock *atomic.Int64)
	}{
		// The origin's Vary makes every key carry a secondary key; a purge of the URL takes
		// the URL's Vary record with it, so the pipeline looks the URL up alone.
		{"hard purge", func(n *Node, probed *cachestore.Object, _ *atomic.Int64) {
			url, _, _ := strings.Cut(probed.Key, "\x00") // without the secondary key (Vary)
			n.Store().PurgeURL(url, false)
			n.fills.ForgetAll() // as the purge API does (cluster.go)
		}},
		{"soft purge", func(n *Node, _ *cachestore.Object, _ *atomic.Int64) { n.Store().PurgeAll(true) }},
		{"eviction", func(n *Node, probed *cachestore.Object, _ *atomic.Int64) {
			n.Store().Del(probed.Key)
			n.settleFills()
		}},
		// The probed object is a variant: the key carries the secondary key (Vary).
		{"eviction of a variant", func(n *Node, probed *cachestore.Object, _ *atomic.Int64) {
			n.Store().Del(probed.Key)
			n.settleFills()
		}},
		// The object has half a second of freshness left when probed; the clock then moves a
		// second on.
		{"expiry", func(_ *Node, _ *cachestore.Object, clock *atomic.Int64) { clock.Add(int64(time.Second)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			release := make(chan struct{})
			var once sync.Once
			var obj atomic.Int64 // requests for /obj.css
			var held atomic.Bool // an origin request was held until the timeout
			origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Cache-Control", "max-age=10")
				w.Header().Set("Vary", "X-Variant")
				if r.URL.Path == "/obj.css" && obj.Add(1) > 1 {
					select {
					case <-release:
					case <-time.After(3 * time.Second):
						held.Store(true)
					}
				}
				w.Write([]byte("object " + r.URL.Path))
			})
			var clock atomic.Int64
			clock.Store(time.Now().UnixNano())
			dir := t.TempDir()
			certFile, keyFile, _ := writeCert(t, dir, "site", "www.example.test")
			n := startNode(t, `listen: {http: "127.0.0.1:0", https: "127.0.0.1:0", admin: "127.0.0.1:0"}
tls: {certificates: [{cert: `+certFile+`, key: `+keyFile+`}]}
`+oneRoute(true, origin.URL), Options{Now: func() time.Time { return time.Unix(0, clock.Load()) }})
			var variant []string
			if tc.name == "eviction of a variant" {
				variant = []string{"x-variant", "a"}
			}
			c := dialRawH2(t, n.HTTPSAddr())
			for i, path := range []string{"/obj.css", "/other.css"} {
				id := uint32(2*i + 1)
				c.request(id, "GET", path, nil, variant...)
				if _, body, reset := c.response(id); reset || !bytes.HasPrefix(body, []byte("object")) {
					t.Fatalf("stream %d: %q, reset %v", id, body, reset)
				}
			}
			n.settleFills()
			n.fills.ForgetAll() // the warm-up's fills no longer linger (Group.Linger)
			if tc.name == "expiry" {
				clock.Add(int64(9500 * time.Millisecond))
			}
			// A generation whose handler lets the overtaking happen once, after the probe.
			srv, err := h2.NewServer(n.h2Config(n.rt.Load().cfg.Limits), h2handler{n: n, strs: newFieldStrings(),
				afterProbe: func(probed *cachestore.Object) { once.Do(func() { tc.overtake(n, probed, &clock) }) }})
			if err != nil {
				t.Fatal(err)
			}
			if old := n.h2srv.Swap(srv); old != nil {
				go old.Shutdown(context.Background())
			}
			c = dialRawH2(t, n.HTTPSAddr())
			c.request(1, "GET", "/obj.css", nil, variant...)
			c.request(3, "GET", "/other.css", nil, variant...)
			// Both answers, in arrival order (one hpack decoder: every block is decoded).
			first := uint32(0)
			status, body := map[uint32]string{}, map[uint32][]byte{}
			for ended := 0; ended < 2; {
				switch f := c.next().(type) {
				case *http2.HeadersFrame:
					if first == 0 {
						first = f.StreamID
						close(release)
					}
					hf, err := c.dec.DecodeFull(f.HeaderBlockFragment())
					if err != nil {
						t.Fatal(err)
					}
					for _, h := range hf {
						if h.Name == ":status" || h.Name == "cache-status" {
							status[f.StreamID] += h.Value + " "
						}
					}
					if f.StreamEnded() {
						ended++
					}
				case *http2.DataFrame:
					body[f.StreamID] = append(body[f.StreamID], f.Data()...)
					if f.StreamEnded() {
						ended++
					}
				case *http2.RSTStreamFrame:
					t.Fatalf("stream %d reset", f.StreamID)
				}
			}
			t.Logf("first answer on stream %d; stream 1: %s; origin asked for /obj.css %d times", first, status[1], obj.Load())
			if held.Load() {
				t.Errorf("no answer on the connection while the origin held /obj.css: stream 1's fill ran on the connection's goroutine")
			}
			if string(body[1]) != "object /obj.css" || !strings.HasPrefix(status[1], "200 ") {
				t.Errorf("stream 1: %s%q", status[1], body[1])
			}
		})
	}
}
