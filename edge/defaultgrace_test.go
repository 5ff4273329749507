package edge

import (
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The shipped cache.stale_if_error (10m) serves a stale copy when its revalidation fails
// (a 5xx, a first-byte timeout), and only a copy whose response lets a shared cache serve it
// stale (RFC 9111 section 4.2.4: not must-revalidate, proxy-revalidate, s-maxage or no-cache).
// Failed before: with no stale_if_error written, the default was 0 and every client got the
// origin's 503 or the node's 504 for a popular object a moment after it went stale.
func TestNode_shippedGraceServesStaleWhenTheOriginFails(t *testing.T) {
	clock := newTestClock()
	var mode atomic.Value
	mode.Store("good")
	origin := startRFCOrigin(t, clock, func(w http.ResponseWriter, r *http.Request) {
		switch mode.Load() {
		case "503":
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		case "slow":
			time.Sleep(1500 * time.Millisecond) // past first_byte_timeout: the origin's slowness
		}
		cc := map[string]string{"/plain": "max-age=10", "/must": "max-age=10, must-revalidate",
			"/proxy": "max-age=10, proxy-revalidate", "/smaxage": "s-maxage=10", "/no-cache": "no-cache"}[r.URL.Path]
		w.Header().Set("Cache-Control", cc)
		w.Header().Set("ETag", `"v1"`)
		fmt.Fprint(w, "good")
	})
	// No stale_if_error: the shipped default. Passive checks off, so that the failures
	// asked for are the origin's answers, not an ejection.
	cfg := strings.Replace(oneRoute(true, origin.URL), "    servers:\n", "    passive: {errors: -1}\n    retries: 0\n    first_byte_timeout: 1s\n    servers:\n", 1)
	n := startNode(t, cfg, Options{Now: clock.Now})
	paths := []string{"/plain", "/must", "/proxy", "/smaxage", "/no-cache"}
	for _, p := range paths {
		fillOnce(t, n, p)
	}
	clock.Add(20 * time.Second)
	for _, failure := range []string{"503", "slow"} {
		mode.Store(failure)
		for _, p := range paths {
			r := fillOnce(t, n, p)
			stale := r.status == 200 && r.body == "good"
			if want := p == "/plain"; stale != want {
				t.Errorf("origin %s, %s: %d %q %q; want stale served: %v", failure, p, r.status, r.body, r.cacheStatus(), want)
			}
		}
	}
	// The grace is bounded: past it the origin's failure shows.
	clock.Add(10 * time.Minute)
	mode.Store("503")
	if r := fillOnce(t, n, "/plain"); r.status != http.StatusServiceUnavailable {
		t.Errorf("10m past the grace: %d %q, want the origin's 503", r.status, r.cacheStatus())
	}
}
