package edge

import (
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// RFC 5861 section 4 and RFC 9111 section 4.3.3: a 500, 502, 503 or 504 answering the
// validation of a stale response that stale-if-error covers is one the cache "can ... act as
// if the server failed to respond" to, and serve the stored response. An error page that
// carries freshness of its own (max-age=60) was served stale once and then stored in place
// of the good copy: every request of the next minute got the error page as a fresh hit, and
// the grace stale-if-error grants ended after one request. It is not stored now; the stored
// copy keeps answering until the origin recovers or the grace ends. A 404 is no such error:
// it replaces the stored response. The same for the background revalidation of a copy
// served under stale-while-revalidate: its error page replaced the copy the window serves
// (TestNodeRFC5861_backgroundRevalidationErrorKeepsTheCopy).
func TestNodeRFC5861_cacheableErrorDoesNotEndTheGrace(t *testing.T) {
	n, clock, status := startErrorPageNode(t, "max-age=10, stale-if-error=3600")
	for _, code := range []int{500, 502, 503, 504, 404} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			status.Store(0)
			path := fmt.Sprintf("/grace/%d", code)
			fillOnce(t, n, path)
			clock.Add(20 * time.Second)
			status.Store(int64(code))
			wantGood := code != 404
			for i := range 3 {
				r := fillOnce(t, n, path)
				if got := r.status == 200 && r.body == "good"; got != wantGood {
					t.Fatalf("request %d with the origin answering %d: %d %q %q; want the stored copy %v", i, code, r.status, r.body, r.cacheStatus(), wantGood)
				}
			}
			status.Store(0)
			r := fillOnce(t, n, path)
			if code == 404 && (r.status != 404 || !r.hit()) {
				t.Errorf("origin back: %d %q %q; want the stored 404, fresh for its minute", r.status, r.body, r.cacheStatus())
			}
			if code != 404 && (r.status != 200 || r.body != "good" || r.hit()) {
				t.Errorf("origin back: %d %q %q; want the origin's answer", r.status, r.body, r.cacheStatus())
			}
		})
	}
}

// RFC 5861 section 3: the background revalidation of a copy served under
// stale-while-revalidate that meets a 5xx with freshness of its own keeps the copy: the
// window goes on serving it, and the next request revalidates again.
func TestNodeRFC5861_backgroundRevalidationErrorKeepsTheCopy(t *testing.T) {
	n, clock, status := startErrorPageNode(t, "max-age=10, stale-while-revalidate=3600")
	for _, code := range []int{500, 503} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			status.Store(0)
			path := fmt.Sprintf("/swr/%d", code)
			fillOnce(t, n, path)
			clock.Add(20 * time.Second)
			status.Store(int64(code))
			for i := range 3 {
				if r := fillOnce(t, n, path); r.status != 200 || r.body != "good" {
					t.Fatalf("request %d within stale-while-revalidate, origin answering %d: %d %q %q; want the stored copy", i, code, r.status, r.body, r.cacheStatus())
				}
			}
		})
	}
}

// startErrorPageNode runs a node whose origin answers "good" with cacheControl while status is
// 0, and otherwise that status with an error page fresh for a minute (max-age=60). Passive
// health checks are off, so the errors never take the server out.
func startErrorPageNode(t *testing.T, cacheControl string) (*Node, *testClock, *atomic.Int64) {
	t.Helper()
	clock := newTestClock()
	status := new(atomic.Int64)
	origin := startRFCOrigin(t, clock, func(w http.ResponseWriter, r *http.Request) {
		if s := int(status.Load()); s != 0 {
			w.Header().Set("Cache-Control", "max-age=60")
			w.WriteHeader(s)
			fmt.Fprint(w, "error page")
			return
		}
		w.Header().Set("Cache-Control", cacheControl)
		fmt.Fprint(w, "good")
	})
	cfg := strings.Replace(oneRoute(true, origin.URL), "    servers:\n", "    passive: {errors: -1}\n    servers:\n", 1)
	return startNode(t, cfg, Options{Now: clock.Now}), clock, status
}
