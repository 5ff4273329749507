package edge

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestNode_revalidationAnsweredWithASetCookie200DropsTheStaleCopy: the node does not store a
// response with Set-Cookie (unshared: it is someone's session), though the RFC 9111 storage
// rules allow it. A stale object revalidated and answered by such a full 200 (RFC 9111
// section 4.3.3: the origin replaced the nominated response) stayed in the store, and
// stale-if-error served the old content once the origin failed; withdrawn covered only what
// the storage rules refuse. It is now dropped, over memory and the disk tier. Neighbours: a
// 200 whose Set-Cookie is no-cache="Set-Cookie" is stored and replaces the old copy; a 304
// with a Set-Cookie updates the stored response (RFC 9111 section 4.3.4) into one the node
// does not share, so the old copy goes too (reviewer item 2: it stayed, and stale-if-error
// served it to others; the /304-set-cookie rows failed before); a 503 with one leaves the old
// copy to stale-if-error. Failed before: the old object answered after the Set-Cookie 200.
func TestNode_revalidationAnsweredWithASetCookie200DropsTheStaleCopy(t *testing.T) {
	for _, tier := range []string{"memory", "disk"} {
		t.Run(tier, func(t *testing.T) {
			clock := newTestClock()
			body := "old"
			if tier == "disk" {
				body += strings.Repeat("d", 64<<10) // above ram_cache_cutoff: on disk only
			}
			stored := func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Cache-Control", "max-age=1")
				w.Header().Set("ETag", `"v1"`)
				fmt.Fprint(w, body)
			}
			down := func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Set-Cookie", "s=down")
				w.WriteHeader(http.StatusServiceUnavailable)
				fmt.Fprint(w, "down")
			}
			full := func(cc string) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Cache-Control", cc)
					w.Header().Set("ETag", `"v2"`)
					w.Header().Set("Set-Cookie", "s=1")
					fmt.Fprint(w, "new")
				}
			}
			notModified := func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Cache-Control", "max-age=1")
				w.Header().Set("ETag", `"v1"`)
				w.Header().Set("Set-Cookie", "s=1")
				w.WriteHeader(http.StatusNotModified)
			}
			cases := []struct {
				path       string
				revalidate http.HandlerFunc
				wantStale  bool // stale-if-error still answers with the old object
			}{
				{"/200-set-cookie", full("max-age=1"), false},
				{"/200-public-set-cookie", full("public, max-age=1"), false},
				{"/200-no-cache-set-cookie", full(`max-age=1, no-cache="Set-Cookie"`), false},
				{"/304-set-cookie", notModified, false},
				{"/503-set-cookie", down, true},
			}
			answers := map[string][]http.HandlerFunc{}
			for _, c := range cases {
				answers[c.path] = []http.HandlerFunc{stored, c.revalidate, down}
			}
			origin := sequencedOrigin(t, clock, answers)
			extra := "stale_if_error: 1h"
			if tier == "disk" {
				extra += fmt.Sprintf(", disk: {path: %q, size: 16MiB, ram_cache_cutoff: 16KiB}", t.TempDir())
			}
			n := rfcNode(t, clock, origin.URL, extra)
			for _, c := range cases {
				fillOnce(t, n, c.path)
				n.settleFills()
				clock.Add(5 * time.Second)
				fillOnce(t, n, c.path) // the revalidation
				n.settleFills()
				clock.Add(5 * time.Second)
				r := fillOnce(t, n, c.path) // the origin now fails
				if gotStale := r.status == 200 && strings.HasPrefix(r.body, "old"); gotStale != c.wantStale {
					t.Errorf("%s: after the revalidation and a 503: %d (%s); want the old object: %v",
						c.path, r.status, r.cacheStatus(), c.wantStale)
				}
			}
		})
	}
}

// sequencedOrigin answers each path with its handlers in turn, the last one from then on.
func sequencedOrigin(t *testing.T, clock *testClock, answers map[string][]http.HandlerFunc) *rfcOrigin {
	var origin *rfcOrigin
	origin = startRFCOrigin(t, clock, func(w http.ResponseWriter, r *http.Request) {
		seq := answers[r.URL.Path]
		seq[min(len(origin.seenBy(r.URL.Path))-1, len(seq)-1)](w, r)
	})
	return origin
}
