package edge

import (
	"fmt"
	"net/http"
	"testing"
	"time"
)

// TestNode_notModifiedRestartsTheAge: behind a parent cache, a 200 arrives with Age: 3500 and
// max-age=3600, and is stale 100 s later. The origin's 304 to its revalidation carries no
// Age, so the freshened response is 0 s old (RFC 9111 sections 4.2.3, 4.3.4, 5.1), over the
// memory and disk tiers. The stored Age stayed in the freshened head and counted again: the
// object came back 3500 s old, a hit 100 s later was stale and went to the origin once more,
// and hits said Age: 3600. Failed before (fwd=stale on the hit after the 304).
func TestNode_notModifiedRestartsTheAge(t *testing.T) {
	for _, tier := range []string{"memory", "disk"} {
		t.Run(tier, func(t *testing.T) {
			clock := newTestClock()
			origin := startRFCOrigin(t, clock, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Cache-Control", "max-age=3600")
				w.Header().Set("ETag", `"v1"`)
				if r.Header.Get("If-None-Match") != "" {
					w.WriteHeader(http.StatusNotModified)
					return
				}
				w.Header().Set("Age", "3500")
				body := "object"
				if tier == "disk" {
					body += fmt.Sprintf("%070000d", 0) // above ram_cache_cutoff: on disk only
				}
				fmt.Fprint(w, body)
			})
			extra := ""
			if tier == "disk" {
				extra = fmt.Sprintf("disk: {path: %q, size: 16MiB, ram_cache_cutoff: 16KiB}", t.TempDir())
			}
			n := rfcNode(t, clock, origin.URL, extra)
			fillOnce(t, n, "/o")
			n.settleFills()
			clock.Add(200 * time.Second)
			if r := fillOnce(t, n, "/o"); r.header.Get("Age") != "0" {
				t.Errorf("the revalidated answer: Age %q (%s), want 0", r.header.Get("Age"), r.cacheStatus())
			}
			n.settleFills()
			clock.Add(100 * time.Second)
			r := send(t, n, "GET", "/o")
			if !r.hit() || r.header.Get("Age") != "100" {
				t.Errorf("100 s after the 304: %q, Age %q; want a hit, Age 100", r.cacheStatus(), r.header.Get("Age"))
			}
			if got := origin.requests.Load(); got != 2 {
				t.Errorf("the origin saw %d requests, want 2 (the fill and one revalidation)", got)
			}
		})
	}
}
