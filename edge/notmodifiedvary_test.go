package edge

import (
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// RFC 9111 sections 4.3.4 and 4.1: a 304 replaces the stored response's Vary with its own,
// so the stored response is from then on selected by the fields the new Vary names, with the
// values of the request the 304 answered (the origin has just said the stored response is
// its answer to that request). A 304 that adds Vary: Accept-Language to a response stored
// without one used to leave the URL's Vary record as it was: every later request, in any
// language, got the stored response as a hit. The same for a disk copy above
// cache.max_object_size, revalidated with its body left on disk.
func TestNode_notModifiedVaryUpdatesTheVariant(t *testing.T) {
	for _, onDisk := range []bool{false, true} {
		t.Run(fmt.Sprintf("disk=%v", onDisk), func(t *testing.T) { notModifiedVaryUpdatesTheVariant(t, onDisk) })
	}
}

func notModifiedVaryUpdatesTheVariant(t *testing.T, onDisk bool) {
	pad := ""
	if onDisk {
		pad = strings.Repeat("p", 9<<20) // above oneRoute's max_object_size (8 MiB)
	}
	for _, tc := range []struct {
		name       string
		storedVary string // the 200's Vary
		newVary    string // the 304's
		// the request that revalidates, one that the new Vary sets apart, one it does not
		same, other []string
	}{
		{"added", "", "Accept-Language", []string{"Accept-Language", "en"}, []string{"Accept-Language", "fr"}},
		{"widened", "Accept-Language", "Accept-Language, X-Device",
			[]string{"Accept-Language", "en", "X-Device", "phone"}, []string{"Accept-Language", "en", "X-Device", "desk"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := newTestClock()
			var revalidated atomic.Bool
			origin := startRFCOrigin(t, clock, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Cache-Control", "max-age=10")
				w.Header().Set("ETag", `"a"`)
				if revalidated.Load() {
					w.Header().Set("Vary", tc.newVary)
				} else if tc.storedVary != "" {
					w.Header().Set("Vary", tc.storedVary)
				}
				if r.Header.Get("If-None-Match") == `"a"` {
					w.WriteHeader(http.StatusNotModified)
					return
				}
				w.Write([]byte("for " + r.Header.Get("Accept-Language") + " " + r.Header.Get("X-Device") + pad))
			})
			cfg := oneRoute(true, origin.URL)
			if onDisk {
				cfg = strings.Replace(cfg, "fill_timeout: 5s}", fmt.Sprintf("fill_timeout: 5s, disk: {path: %q, size: 128MiB}}", t.TempDir()), 1)
			}
			n := startNode(t, cfg, Options{Now: clock.Now})
			if onDisk {
				waitDiskReady(t, n)
			}
			want := "for " + tc.same[1]
			if len(tc.same) > 2 {
				want += " " + tc.same[3]
			} else {
				want += " "
			}
			want += pad
			if r := fillOnce(t, n, "/v", tc.same...); r.body != want {
				t.Fatalf("fill: %d bytes", len(r.body))
			}
			if onDisk {
				n.settleDisk()
			}
			clock.Add(20 * time.Second)
			revalidated.Store(true)
			if r := fillOnce(t, n, "/v", tc.same...); r.status != 200 || r.body != want || r.header.Get("Vary") != tc.newVary {
				t.Fatalf("revalidation: %d, %d bytes, Vary %q, Cache-Status %q", r.status, len(r.body), r.header.Get("Vary"), r.cacheStatus())
			}
			if onDisk {
				n.settleDisk()
			}
			seen := len(origin.seenBy("/v"))
			r := fillOnce(t, n, "/v", tc.other...)
			if r.hit() || len(origin.seenBy("/v")) != seen+1 {
				t.Errorf("a request the new Vary sets apart: Cache-Status %q, body %.20q; want a miss the origin answers", r.cacheStatus(), r.body)
			}
			if r := fillOnce(t, n, "/v", tc.same...); !r.hit() || r.body != want {
				t.Errorf("the request the 304 answered, again: Cache-Status %q, body %.20q; want a hit", r.cacheStatus(), r.body)
			}
		})
	}
}
