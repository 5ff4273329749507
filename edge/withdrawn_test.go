package edge

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestNode_revalidationThatWithdrawsTheObjectDropsIt: a stale object revalidated with the
// origin, which answers that the resource may no longer be stored (a 304 whose fields make
// the stored response private or no-store, RFC 9111 section 4.3.4; a full private or no-store
// 200, section 4.3.3: the nominated response is unsuitable), must not answer again. It stayed
// in the store and stale-if-error served it once the origin failed, as if the origin had
// never withdrawn it. An error answer still leaves the stale copy to stale-if-error (RFC 5861
// section 4), and so does a no-store 429 or 403 (an overloaded origin, a firewall in front of
// it: not the resource's answer); a 304 that keeps the object storable still freshens it.
func TestNode_revalidationThatWithdrawsTheObjectDropsIt(t *testing.T) {
	clock := newTestClock()
	stored := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=1")
		w.Header().Set("ETag", `"v1"`)
		fmt.Fprint(w, "old "+r.URL.Path)
	}
	notModified := func(cc string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", cc)
			w.Header().Set("ETag", `"v1"`)
			w.WriteHeader(http.StatusNotModified)
		}
	}
	full := func(cc string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", cc)
			fmt.Fprint(w, "new "+r.URL.Path)
		}
	}
	status := func(code int, cc string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", cc)
			w.WriteHeader(code)
			fmt.Fprint(w, "refused")
		}
	}
	down := func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, "down")
	}
	cases := []struct {
		path       string
		revalidate http.HandlerFunc
		wantStale  bool // stale-if-error still answers with the old object
	}{
		{"/304-private", notModified("max-age=1, private"), false},
		{"/304-no-store", notModified("no-store"), false},
		{"/200-private", full("private"), false},
		{"/200-no-store", full("no-store"), false},
		{"/503", down, true},
		{"/429-no-store", status(http.StatusTooManyRequests, "no-store"), true},
		{"/403-no-store", status(http.StatusForbidden, "no-store"), true},
		{"/304-storable", notModified("max-age=1"), true},
	}
	answers := map[string][]http.HandlerFunc{}
	for _, c := range cases {
		answers[c.path] = []http.HandlerFunc{stored, c.revalidate, down}
	}
	origin := sequencedOrigin(t, clock, answers)
	n := rfcNode(t, clock, origin.URL, "stale_if_error: 1h")
	for _, c := range cases {
		fillOnce(t, n, c.path)
		clock.Add(5 * time.Second)
		fillOnce(t, n, c.path) // the revalidation
		clock.Add(5 * time.Second)
		r := fillOnce(t, n, c.path) // the origin now fails
		gotStale := r.status == 200 && strings.HasPrefix(r.body, "old ")
		if gotStale != c.wantStale {
			t.Errorf("%s: after the revalidation and a 503: %d %q (%s); want the old object: %v",
				c.path, r.status, r.body, r.cacheStatus(), c.wantStale)
		}
	}
}
