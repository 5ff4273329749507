package edge

import (
	"fmt"
	"net/http"
	"testing"
	"time"
)

// TestNode_fillRefusesAnswersItNeverAskedFor: a fill asks for the whole object (the client's
// Range and preconditions are dropped) and is conditional only when it revalidates a stored
// response with validators. A 206 to a fill without Range (RFC 9110 section 15.3.7) and a 304
// to one without If-None-Match or If-Modified-Since (section 15.4.5) answer no request the
// node made: they were relayed, so a client that asked for the whole object got a part (or
// nothing, with a 304 for validators it never sent). Now the client gets 502, nothing is
// stored, and the next request asks the origin again; Varnish fails such a fetch too ("304
// response but not conditional fetch"). Failed before: every row relayed the origin's
// status.
func TestNode_fillRefusesAnswersItNeverAskedFor(t *testing.T) {
	clock := newTestClock()
	origin := startRFCOrigin(t, clock, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/stale-without-validators":
			if r.URL.RawQuery == "" && len(r.Header.Values("X-Second")) == 0 {
				w.Header().Set("Cache-Control", "max-age=1")
				fmt.Fprint(w, "whole")
				return
			}
			w.WriteHeader(http.StatusNotModified)
		case "/partial":
			w.Header().Set("Cache-Control", "max-age=60")
			w.Header().Set("Content-Range", "bytes 0-4/100")
			w.WriteHeader(http.StatusPartialContent)
			fmt.Fprint(w, "01234")
		default: // a 304 whatever was asked
			w.Header().Set("Cache-Control", "max-age=60")
			w.Header().Set("ETag", `"a"`)
			w.WriteHeader(http.StatusNotModified)
		}
	})
	// No grace: the 502 is the answer under test (with cache.stale_if_error the stale copy is).
	n := rfcNode(t, clock, origin.URL, "stale_if_error: 0s")
	cases := []struct {
		name, path string
		header     []string
	}{
		{"206 to a plain GET", "/partial", nil},
		{"206 to a GET whose Range the fill dropped", "/partial", []string{"Range", "bytes=0-4"}},
		{"206 to a HEAD", "/partial", nil},
		{"304 to a plain GET", "/not-modified", nil},
		{"304 to a GET whose If-None-Match the fill dropped", "/not-modified", []string{"If-None-Match", `"a"`}},
		{"304 to a GET whose If-Modified-Since the fill dropped", "/not-modified", []string{"If-Modified-Since", clock.httpDate(0)}},
	}
	for _, c := range cases {
		method := "GET"
		if c.name == "206 to a HEAD" {
			method = "HEAD"
		}
		before := origin.requests.Load()
		for i := range 2 {
			r := send(t, n, method, c.path, c.header...)
			n.bg.Wait()
			if r.status != http.StatusBadGateway {
				t.Errorf("%s (request %d): %d %q (%s); want 502", c.name, i+1, r.status, r.body, r.cacheStatus())
			}
		}
		if got := origin.requests.Load() - before; got != 2 {
			t.Errorf("%s: the origin saw %d requests for two; want 2 (nothing stored)", c.name, got)
		}
	}

	// A stored response without validators is revalidated by an unconditional fetch
	// (httpcache.ConditionalHeaders is empty): a 304 to it selects nothing either.
	fillOnce(t, n, "/stale-without-validators")
	clock.Add(5 * time.Second)
	r := send(t, n, "GET", "/stale-without-validators", "X-Second", "1")
	if r.status != http.StatusBadGateway {
		t.Errorf("stale without validators answered 304 by the origin: %d %q (%s); want 502", r.status, r.body, r.cacheStatus())
	}
}
