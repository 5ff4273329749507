package edge

import (
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// RFC 5861: stale-while-revalidate runs one background revalidation per key, however many
// requests read the stale object.
func TestNodeRFC5861_staleWhileRevalidateOnce(t *testing.T) {
	clock := newTestClock()
	release := make(chan struct{})
	var calls atomic.Int64
	origin := startRFCOrigin(t, clock, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=10, stale-while-revalidate=100")
		if calls.Add(1) > 1 {
			<-release // the revalidation is still running while the 50 requests arrive
		}
		fmt.Fprintf(w, "version %d", calls.Load())
	})
	n := rfcNode(t, clock, origin.URL, "")
	fillOnce(t, n, "/swr")
	clock.Add(20 * time.Second)
	bodies := make([]string, 50)
	parallel(50, func(i int) { bodies[i] = send(t, n, "GET", "/swr").body })
	close(release)
	n.bg.Wait()
	for i, b := range bodies {
		if b != "version 1" {
			t.Fatalf("request %d got %q, want the stale version 1", i, b)
		}
	}
	if got := origin.requests.Load(); got != 2 {
		t.Errorf("origin saw %d requests, want the fill and exactly one revalidation", got)
	}
	if r := send(t, n, "GET", "/swr"); !r.hit() || r.body != "version 2" {
		t.Errorf("after the revalidation: %q %q", r.cacheStatus(), r.body)
	}
}

// RFC 5861 section 4 and the edge's grace: stale-if-error on error statuses, on a dead
// origin, and with cache.stale_if_error when the response names none.
func TestNodeRFC5861_staleIfError(t *testing.T) {
	clock := newTestClock()
	var status atomic.Int64
	origin := startRFCOrigin(t, clock, func(w http.ResponseWriter, r *http.Request) {
		if s := int(status.Load()); s != 0 {
			w.WriteHeader(s)
			return
		}
		if strings.HasPrefix(r.URL.Path, "/grace") {
			w.Header().Set("Cache-Control", "max-age=10")
		} else {
			w.Header().Set("Cache-Control", "max-age=10, stale-if-error=100")
		}
		fmt.Fprint(w, "good")
	})
	cfg := strings.Replace(oneRoute(true, origin.URL), "fill_timeout: 5s", "fill_timeout: 5s, stale_if_error: 60s", 1)
	cfg = strings.Replace(cfg, "    servers:\n", "    passive: {errors: -1}\n    servers:\n", 1)
	n := startNode(t, cfg, Options{Now: clock.Now})
	for _, code := range []int{500, 502, 503, 504, 501} {
		t.Run(fmt.Sprintf("RFC 5861 4: origin answers %d", code), func(t *testing.T) {
			status.Store(0)
			path := fmt.Sprintf("/sie/%d", code)
			fillOnce(t, n, path)
			clock.Add(20 * time.Second)
			status.Store(int64(code))
			r := fillOnce(t, n, path)
			wantStale := code != 501 // 501 is not one of the errors RFC 5861 names
			if (r.status == 200 && r.body == "good") != wantStale {
				t.Errorf("%d %q, want stale=%v", r.status, r.cacheStatus(), wantStale)
			}
			if wantStale && !strings.Contains(r.cacheStatus(), fmt.Sprintf("fwd=stale; fwd-status=%d", code)) {
				t.Errorf("Cache-Status %q", r.cacheStatus())
			}
		})
	}
	status.Store(0)
	fillOnce(t, n, "/sie/dead")
	fillOnce(t, n, "/grace")
	fillOnce(t, n, "/grace-late")
	clock.Add(30 * time.Second)
	origin.srv.Close()
	t.Run("RFC 5861 4: a connection failure serves stale", func(t *testing.T) {
		if r := fillOnce(t, n, "/sie/dead"); r.status != 200 || r.body != "good" {
			t.Errorf("%d %q", r.status, r.cacheStatus())
		}
	})
	t.Run("cache.stale_if_error is the grace when the response names none", func(t *testing.T) {
		if r := fillOnce(t, n, "/grace"); r.status != 200 || r.body != "good" {
			t.Errorf("%d %q", r.status, r.cacheStatus())
		}
	})
	t.Run("past the grace the origin's failure shows", func(t *testing.T) {
		clock.Add(60 * time.Second)
		if r := fillOnce(t, n, "/grace-late"); r.status < 500 {
			t.Errorf("%d %q, want an error past the grace", r.status, r.cacheStatus())
		}
	})
}

// Issue 4: every server down (origin.ErrNoServer) serves stale within the grace, otherwise a
// 503 that says why. Only active checks take a pool fully down (issue 13: passive checks never
// eject a pool's last server), so the origin fails its health check here.
func TestNodeRFC5861_noServerServesStale(t *testing.T) {
	clock := newTestClock()
	var down atomic.Bool
	origin := startRFCOrigin(t, clock, func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Cache-Control", "max-age=10")
		fmt.Fprint(w, "good")
	})
	cfg := strings.Replace(oneRoute(true, origin.URL), "fill_timeout: 5s", "fill_timeout: 5s, stale_if_error: 60s", 1)
	cfg = strings.Replace(cfg, "    servers:\n", "    retries: 0\n    health: {path: /health, interval: 100ms, timeout: 50ms, fall: 1}\n    servers:\n", 1)
	n := startNode(t, cfg, Options{Now: clock.Now})
	fillOnce(t, n, "/cached")
	clock.Add(20 * time.Second)
	down.Store(true)
	pollUntil(t, 5*time.Second, "the health check to take the only server down", func() bool {
		return !n.stats().Pools[0].Healthy
	})
	r := fillOnce(t, n, "/never-cached")
	if r.status != http.StatusServiceUnavailable || !strings.Contains(r.body, "no healthy server") {
		t.Fatalf("uncached URL with every server down: %d %q", r.status, r.body)
	}
	if r := fillOnce(t, n, "/cached"); r.status != 200 || r.body != "good" || !strings.Contains(r.cacheStatus(), "fwd=stale") {
		t.Errorf("cached URL with every server down: %d %q %q", r.status, r.body, r.cacheStatus())
	}
}
