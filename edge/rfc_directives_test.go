package edge

import (
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// RFC 9111 section 5.2.2: the origin's response directives.
func TestNodeRFC9111_responseDirectives(t *testing.T) {
	clock := newTestClock()
	var failing atomic.Bool // the origin answers 500 to everything
	origin := startRFCOrigin(t, clock, func(w http.ResponseWriter, r *http.Request) {
		if failing.Load() {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.Header().Set("ETag", `"v1"`)
		w.Header().Set("Content-Type", "text/plain")
		switch r.URL.Path {
		case "/no-cache":
			w.Header().Set("Cache-Control", "no-cache")
		case "/no-cache-field":
			w.Header().Set("Cache-Control", `max-age=60, no-cache="Set-Cookie"`)
			w.Header().Set("Set-Cookie", "session=alice")
		case "/must-revalidate":
			w.Header().Set("Cache-Control", "max-age=10, must-revalidate, stale-if-error=600")
		case "/proxy-revalidate":
			w.Header().Set("Cache-Control", "max-age=10, proxy-revalidate, stale-if-error=600")
		case "/may-serve-stale":
			w.Header().Set("Cache-Control", "max-age=10, stale-if-error=600")
		case "/public-302":
			w.Header().Set("Cache-Control", "public")
			w.Header().Set("Last-Modified", clock.httpDate(-100*time.Second))
			w.Header().Set("Location", "/elsewhere")
			w.WriteHeader(http.StatusFound)
		case "/private-field":
			w.Header().Set("Cache-Control", `max-age=60, private="X-User"`)
			w.Header().Set("X-User", "alice")
			w.Header().Set("X-Shared", "yes")
		case "/immutable":
			w.Header().Set("Cache-Control", "max-age=31536000, immutable")
		case "/no-transform":
			w.Header().Set("Cache-Control", "max-age=60, no-transform")
			w.Header().Set("Content-Type", "application/octet-stream")
		}
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		fmt.Fprint(w, strings.Repeat("body ", 100))
	})
	n := rfcNode(t, clock, origin.URL, "")
	body := strings.Repeat("body ", 100)

	t.Run("5.2.2.4: no-cache is stored and validated on every use; a 304 serves the stored body", func(t *testing.T) {
		fillOnce(t, n, "/no-cache")
		for i := 0; i < 2; i++ {
			r := fillOnce(t, n, "/no-cache")
			if r.status != 200 || r.body != body || !strings.Contains(r.cacheStatus(), "fwd-status=304") {
				t.Errorf("use %d: %d %q, %d bytes", i, r.status, r.cacheStatus(), len(r.body))
			}
		}
		seen := origin.seenBy("/no-cache")
		if len(seen) != 3 || seen[1].Get("If-None-Match") != `"v1"` || seen[2].Get("If-None-Match") != `"v1"` {
			t.Errorf("origin saw %d requests, want 3 with the last two conditional", len(seen))
		}
	})
	t.Run(`5.2.2.4: no-cache="Set-Cookie" is stored and the field stripped from unvalidated hits`, func(t *testing.T) {
		first := fillOnce(t, n, "/no-cache-field")
		if first.header.Get("Set-Cookie") != "session=alice" {
			t.Errorf("the response that set the cookie lost it")
		}
		r := send(t, n, "GET", "/no-cache-field")
		if !r.hit() || r.header.Get("Set-Cookie") != "" {
			t.Errorf("hit=%v Set-Cookie %q, want a hit without the cookie", r.hit(), r.header.Get("Set-Cookie"))
		}
	})
	t.Run(`5.2.2.7: private="X-User" stores the response without the field`, func(t *testing.T) {
		fillOnce(t, n, "/private-field")
		r := send(t, n, "GET", "/private-field")
		if !r.hit() || r.header.Get("X-User") != "" || r.header.Get("X-Shared") != "yes" {
			t.Errorf("hit=%v X-User %q X-Shared %q", r.hit(), r.header.Get("X-User"), r.header.Get("X-Shared"))
		}
	})
	t.Run("9110 15.1: public gives a 302 no heuristic lifetime", func(t *testing.T) {
		fillOnce(t, n, "/public-302")
		if r := send(t, n, "GET", "/public-302"); r.hit() || r.status != http.StatusFound {
			t.Errorf("%d %q, want the origin's 302, not a hit (httpcache README: public is no heuristic)", r.status, r.cacheStatus())
		}
	})
	t.Run("RFC 8246: immutable is stored and passed on for browsers", func(t *testing.T) {
		fillOnce(t, n, "/immutable")
		r := send(t, n, "GET", "/immutable")
		if !r.hit() || !strings.Contains(r.header.Get("Cache-Control"), "immutable") {
			t.Errorf("hit=%v Cache-Control %q", r.hit(), r.header.Get("Cache-Control"))
		}
	})
	t.Run("5.2.2.6: no-transform content and its type go out unchanged", func(t *testing.T) {
		fillOnce(t, n, "/no-transform", "Accept-Encoding", "gzip")
		r := send(t, n, "GET", "/no-transform", "Accept-Encoding", "gzip")
		if !r.hit() || r.body != body || r.header.Get("Content-Encoding") != "" || r.header.Get("Content-Type") != "application/octet-stream" {
			t.Errorf("hit=%v %d bytes encoding %q type %q", r.hit(), len(r.body), r.header.Get("Content-Encoding"), r.header.Get("Content-Type"))
		}
	})

	// must-revalidate and proxy-revalidate forbid stale even where stale-if-error allows it.
	for _, c := range []struct {
		name, path string
		wantStale  bool
	}{
		{"5.2.2.2: must-revalidate never serves stale, stale-if-error or not", "/must-revalidate", false},
		{"5.2.2.8: proxy-revalidate likewise for a shared cache", "/proxy-revalidate", false},
		{"RFC 5861 4: without them stale-if-error serves stale", "/may-serve-stale", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			failing.Store(false)
			fillOnce(t, n, c.path)
			clock.Add(20 * time.Second)
			failing.Store(true)
			defer failing.Store(false)
			r := fillOnce(t, n, c.path)
			if stale := r.status == 200 && r.body == body; stale != c.wantStale {
				t.Errorf("origin failing: %d %q, want stale served=%v", r.status, r.cacheStatus(), c.wantStale)
			}
			if !c.wantStale && r.status != http.StatusInternalServerError {
				t.Errorf("status %d, want the origin's 500", r.status)
			}
		})
	}
}
