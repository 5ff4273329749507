package edge

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// RFC 9111 section 3: what a shared cache stores, checked by asking twice through a node.
func TestNodeRFC9111_storing(t *testing.T) {
	clock := newTestClock()
	type answer struct {
		status int
		header []string
	}
	cases := []struct {
		name   string
		path   string
		req    []string // request fields of the first request (and of the second, but for no-store)
		resp   answer
		stored bool
	}{
		{"3: a 200 with max-age is stored", "/200", nil, answer{200, []string{"Cache-Control", "max-age=60"}}, true},
		{"3 and RFC 9110 15.1: a 404 with Last-Modified is heuristically cacheable", "/404-lm", nil,
			answer{404, []string{"Last-Modified", clock.httpDate(-100 * time.Hour)}}, true},
		{"3: a 500 without explicit freshness is not stored", "/500", nil,
			answer{500, []string{"Last-Modified", clock.httpDate(-100 * time.Hour)}}, false},
		{"3: a 302 without explicit freshness is not stored", "/302", nil, answer{302, []string{"Location", "/x"}}, false},
		{"3: a 302 with max-age is stored", "/302-max-age", nil, answer{302, []string{"Location", "/x", "Cache-Control", "max-age=60"}}, true},
		{"5.2.2.5: no-store is not stored", "/no-store", nil, answer{200, []string{"Cache-Control", "no-store, max-age=60"}}, false},
		{"5.2.2.7: private is not stored", "/private", nil, answer{200, []string{"Cache-Control", "private, max-age=60"}}, false},
		{"3.5: a response to Authorization is not stored", "/auth", []string{"Authorization", "Bearer a"},
			answer{200, []string{"Cache-Control", "max-age=60"}}, false},
		{"3.5: Authorization with public is stored", "/auth-public", []string{"Authorization", "Bearer a"},
			answer{200, []string{"Cache-Control", "public, max-age=60"}}, true},
		{"3.5: Authorization with s-maxage is stored", "/auth-s-maxage", []string{"Authorization", "Bearer a"},
			answer{200, []string{"Cache-Control", "s-maxage=60"}}, true},
		{"3.5: Authorization with must-revalidate is stored", "/auth-must-revalidate", []string{"Authorization", "Bearer a"},
			answer{200, []string{"Cache-Control", "must-revalidate, max-age=60"}}, true},
		{"5.2.2.3: must-understand with an understood status overrides no-store", "/must-understand", nil,
			answer{200, []string{"Cache-Control", "must-understand, no-store, max-age=60"}}, true},
		{"5.2.2.3: must-understand with an unknown status is not stored", "/must-understand-299", nil,
			answer{299, []string{"Cache-Control", "must-understand, no-store, max-age=60"}}, false},
		{"5.2.1.5: a request's no-store keeps its response out of the store", "/req-no-store", []string{"Cache-Control", "no-store"},
			answer{200, []string{"Cache-Control", "max-age=60"}}, false},
	}
	byPath := map[string]answer{}
	for _, c := range cases {
		byPath[c.path] = c.resp
	}
	origin := startRFCOrigin(t, clock, func(w http.ResponseWriter, r *http.Request) {
		a := byPath[r.URL.Path]
		for i := 0; i+1 < len(a.header); i += 2 {
			w.Header().Set(a.header[i], a.header[i+1])
		}
		w.WriteHeader(a.status)
		fmt.Fprint(w, "body of "+r.URL.Path)
	})
	n := rfcNode(t, clock, origin.URL, "")
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			first := fillOnce(t, n, c.path, c.req...)
			if first.status != c.resp.status || first.body != "body of "+c.path {
				t.Fatalf("first answer %d %q", first.status, first.body)
			}
			again := c.req
			if c.path == "/req-no-store" {
				again = nil
			}
			second := send(t, n, "GET", c.path, again...)
			if second.hit() != c.stored {
				t.Errorf("second request Cache-Status %q, want stored=%v", second.cacheStatus(), c.stored)
			}
			if want := map[bool]int64{true: 1, false: 2}[c.stored]; int64(len(origin.seenBy(c.path))) != want {
				t.Errorf("origin saw %d requests, want %d", len(origin.seenBy(c.path)), want)
			}
			if second.body != "body of "+c.path {
				t.Errorf("second body %q", second.body)
			}
		})
	}
}

// RFC 9111 section 3.3 and 3.4: an incomplete body is never stored as complete; the client
// that got it sees a broken response, not a short one that looks whole.
func TestNodeRFC9111_incompleteAndPartialNotStored(t *testing.T) {
	clock := newTestClock()
	origin := startRFCOrigin(t, clock, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/short", "/short-large":
			// Content-Length promises more than the origin sends before closing.
			promised, sent := 100, 10
			if r.URL.Path == "/short-large" {
				promised, sent = 1<<20, 256<<10
			}
			conn, buf, err := w.(http.Hijacker).Hijack()
			if err != nil {
				return
			}
			fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nDate: %s\r\nCache-Control: max-age=60\r\nContent-Length: %d\r\n\r\n", clock.httpDate(0), promised)
			buf.WriteString(strings.Repeat("x", sent))
			buf.Flush()
			conn.Close()
		case "/partial":
			// An origin answering 206 to a plain GET (RFC 9110 15.3.7): never the whole object.
			w.Header().Set("Cache-Control", "max-age=60")
			w.Header().Set("Content-Range", "bytes 0-3/10")
			w.WriteHeader(http.StatusPartialContent)
			io.WriteString(w, "0123")
		}
	})
	n := rfcNode(t, clock, origin.URL, "")

	for _, path := range []string{"/short", "/short-large"} {
		t.Run("3.3: Content-Length unmet is not stored and the client sees no whole-looking answer "+path, func(t *testing.T) {
			r := strictGet(t, n.HTTPAddr(), path)
			n.bg.Wait()
			// A broken 200 (the connection closes short of Content-Length, possibly before
			// the buffered head left: status 0), or a 502. Never a 200 that looks complete.
			if r.status == http.StatusOK && r.err == nil {
				t.Errorf("client got a whole-looking 200 of %d bytes", len(r.body))
			}
			if r.status != 0 && r.status != http.StatusOK && r.status != http.StatusBadGateway {
				t.Errorf("status %d, want a broken 200 or 502", r.status)
			}
			if again := strictGet(t, n.HTTPAddr(), path); again.hit() {
				t.Errorf("a truncated body was stored: %q", again.cacheStatus())
			}
		})
	}
	t.Run("3.4: a 206 from the origin is not stored as complete", func(t *testing.T) {
		// Nor relayed: the fill asked for no range (TestNode_fillRefusesAnswersItNeverAskedFor).
		r := fillOnce(t, n, "/partial")
		if r.status != http.StatusBadGateway || r.header.Get("Content-Range") != "" {
			t.Errorf("206 passed on as %d %q %q", r.status, r.body, r.header.Get("Content-Range"))
		}
		if again := send(t, n, "GET", "/partial"); again.hit() {
			t.Errorf("a 206 was stored: %q", again.cacheStatus())
		}
	})
}
