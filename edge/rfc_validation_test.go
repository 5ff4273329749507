package edge

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// RFC 9111 section 4.3 and RFC 9110 section 13: validation with the origin and the client's
// own conditionals answered from the store.
func TestNodeRFC9111_validation(t *testing.T) {
	clock := newTestClock()
	lastModified := clock.httpDate(-time.Hour)
	var version atomic.Int64
	origin := startRFCOrigin(t, clock, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"v1"`)
		w.Header().Set("Last-Modified", lastModified)
		w.Header().Set("X-Version", strconv.FormatInt(version.Load(), 10))
		w.Header().Set("Content-Type", "text/plain")
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.Header().Set("Cache-Control", "max-age=100")
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Cache-Control", "max-age=10")
		fmt.Fprint(w, "validated body")
	})
	n := rfcNode(t, clock, origin.URL, "")

	t.Run("4.3.1, 4.3.4, 3.2: a stale object is revalidated and the 304 freshens it", func(t *testing.T) {
		fillOnce(t, n, "/v")
		clock.Add(20 * time.Second)
		version.Store(2)
		r := fillOnce(t, n, "/v")
		seen := origin.seenBy("/v")
		if len(seen) != 2 || seen[1].Get("If-None-Match") != `"v1"` || seen[1].Get("If-Modified-Since") != lastModified {
			t.Fatalf("origin saw %d requests; the last without both validators", len(seen))
		}
		if r.status != 200 || r.body != "validated body" || r.header.Get("X-Version") != "2" || !strings.Contains(r.cacheStatus(), "fwd=stale; fwd-status=304") {
			t.Errorf("revalidated answer %d %q X-Version %q %q", r.status, r.body, r.header.Get("X-Version"), r.cacheStatus())
		}
		clock.Add(50 * time.Second) // within the 304's max-age=100, past the old max-age=10
		r = send(t, n, "GET", "/v")
		if !r.hit() || r.header.Get("X-Version") != "2" || r.header.Get("Cache-Control") != "max-age=100" {
			t.Errorf("after the 304: hit=%v X-Version %q Cache-Control %q", r.hit(), r.header.Get("X-Version"), r.header.Get("Cache-Control"))
		}
		if r.header.Get("Content-Length") != strconv.Itoa(len("validated body")) || r.body != "validated body" {
			t.Errorf("after the 304: Content-Length %q body %q", r.header.Get("Content-Length"), r.body)
		}
	})

	conditionals := []struct {
		name   string
		header []string
		want   int
	}{
		{"RFC 9110 13.1.2: If-None-Match matching weakly is 304", []string{"If-None-Match", `W/"v1"`}, 304},
		{"RFC 9110 13.1.2: If-None-Match in a list is 304", []string{"If-None-Match", `"x", "v1"`}, 304},
		{"RFC 9110 13.1.2: If-None-Match not matching is 200", []string{"If-None-Match", `"v0"`}, 200},
		{"RFC 9110 13.1.3: If-Modified-Since at Last-Modified is 304", []string{"If-Modified-Since", lastModified}, 304},
		{"RFC 9110 13.1.3: If-Modified-Since before Last-Modified is 200", []string{"If-Modified-Since", clock.httpDate(-2 * time.Hour)}, 200},
		{"RFC 9110 13.2.2: If-None-Match decides over If-Modified-Since", []string{"If-None-Match", `"v0"`, "If-Modified-Since", lastModified}, 200},
	}
	for _, c := range conditionals {
		t.Run(c.name, func(t *testing.T) {
			before := origin.requests.Load()
			r := send(t, n, "GET", "/v", c.header...)
			if r.status != c.want || origin.requests.Load() != before {
				t.Fatalf("status %d (want %d), origin contacted %d times", r.status, c.want, origin.requests.Load()-before)
			}
			if c.want == 304 {
				// RFC 9110 15.4.5: the fields a 200 would have carried among these, no body.
				// (Date is not checked: the listener's fasthttp server owns that field.)
				if r.body != "" || r.header.Get("ETag") != `"v1"` || r.header.Get("Cache-Control") != "max-age=100" || r.header.Get("Content-Type") != "" {
					t.Errorf("304 header %v body %q", r.header, r.body)
				}
			}
		})
	}

	t.Run("RFC 9110 9.3.2: HEAD is answered from the stored GET without a body", func(t *testing.T) {
		before := origin.requests.Load()
		r := send(t, n, "HEAD", "/v")
		if r.status != 200 || r.body != "" || r.header.Get("Content-Length") != strconv.Itoa(len("validated body")) || !r.hit() {
			t.Errorf("HEAD: %d Content-Length %q body %q %q", r.status, r.header.Get("Content-Length"), r.body, r.cacheStatus())
		}
		if origin.requests.Load() != before {
			t.Errorf("HEAD on a stored object contacted the origin")
		}
	})
	t.Run("4.3.5 and 3: a HEAD miss fetches with GET and stores it", func(t *testing.T) {
		r := send(t, n, "HEAD", "/head-miss")
		n.bg.Wait()
		if r.status != 200 || r.body != "" || r.header.Get("Content-Length") != strconv.Itoa(len("validated body")) {
			t.Errorf("HEAD miss: %d Content-Length %q body %q", r.status, r.header.Get("Content-Length"), r.body)
		}
		seen := origin.seenBy("/head-miss")
		if len(seen) != 1 || seen[0].Get(":method") != "GET" {
			t.Fatalf("origin saw %d requests (%v), want one GET", len(seen), seen)
		}
		if g := send(t, n, "GET", "/head-miss"); !g.hit() || g.body != "validated body" {
			t.Errorf("GET after a HEAD miss: %q %q", g.cacheStatus(), g.body)
		}
	})
}
