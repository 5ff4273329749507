package edge

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestDiskTier_revalidationThatWithdrawsTheObjectDropsIt: the disk-tier neighbour of
// TestNode_revalidationThatWithdrawsTheObjectDropsIt. An object kept on disk only (above
// cache.disk.ram_cache_cutoff), revalidated with a 304 that makes it private or a full
// no-store 200, is not served from disk by stale-if-error once the origin fails.
func TestDiskTier_revalidationThatWithdrawsTheObjectDropsIt(t *testing.T) {
	clock := newTestClock()
	body := strings.Repeat("d", 64<<10)
	answers := map[string][]http.HandlerFunc{}
	stored := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=1")
		w.Header().Set("ETag", `"v1"`)
		fmt.Fprint(w, "old"+body)
	}
	down := func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, "down")
	}
	answers["/304-private"] = []http.HandlerFunc{stored, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=1, private")
		w.Header().Set("ETag", `"v1"`)
		w.WriteHeader(http.StatusNotModified)
	}, down}
	answers["/200-no-store"] = []http.HandlerFunc{stored, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		fmt.Fprint(w, "new")
	}, down}
	answers["/503"] = []http.HandlerFunc{stored, down}
	origin := sequencedOrigin(t, clock, answers)
	n := rfcNode(t, clock, origin.URL, fmt.Sprintf("stale_if_error: 1h, disk: {path: %q, size: 16MiB, ram_cache_cutoff: 16KiB}", t.TempDir()))
	for _, c := range []struct {
		path      string
		wantStale bool
	}{{"/304-private", false}, {"/200-no-store", false}, {"/503", true}} {
		fillOnce(t, n, c.path)
		n.settleFills()
		clock.Add(5 * time.Second)
		fillOnce(t, n, c.path)
		n.settleFills()
		clock.Add(5 * time.Second)
		r := fillOnce(t, n, c.path)
		if gotStale := r.status == 200 && strings.HasPrefix(r.body, "old"); gotStale != c.wantStale {
			t.Errorf("%s: after the revalidation and a 503: %d (%s); want the old disk copy: %v", c.path, r.status, r.cacheStatus(), c.wantStale)
		}
	}
}
