package edge

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/shoal-cdn/shoal/internal/testenv"
)

// RFC 9110 section 15.1: only the heuristically cacheable status codes may be given a
// heuristic lifetime. A 503 maintenance page that carries Cache-Control: public (an Apache
// `Header always set Cache-Control public`) and its file's Last-Modified was stored fresh
// for a tenth of the file's age, capped at 24 h: one 503 during a deploy answered every
// request for the day after the origin was back. public without explicit freshness makes
// nothing fresh; with max-age it still may, as for any status.
func TestNode_publicWithoutFreshnessGivesNoHeuristicLifetime(t *testing.T) {
	lastModified := "Mon, 01 Jan 2024 00:00:00 GMT"
	for _, tier := range []string{"memory", "disk"} {
		t.Run(tier, func(t *testing.T) {
			o := testenv.StartBadOrigin(t)
			n := startTierNode(t, o.URL, map[string]string{"memory": "none", "disk": "disk"}[tier], "size: 64MiB, admit_frequency: -1")
			for _, status := range []int{500, 502, 503, 504, 302, 307, 403} {
				path := "/public-" + strconv.Itoa(status) + ".html"
				failing := testenv.Script{Status: status, Body: []byte("down for maintenance"),
					Header: testenv.Fields("Cache-Control", "public", "Last-Modified", lastModified, "Location", "/elsewhere")}
				back := testenv.Script{Body: []byte("back"), Header: testenv.Fields("Cache-Control", "max-age=60")}
				o.Sequence(path, failing, back)
				first := strictGet(t, n.HTTPAddr(), path)
				n.bg.Wait()
				second := strictGet(t, n.HTTPAddr(), path)
				if first.status != status || second.status != http.StatusOK || second.body != "back" {
					t.Errorf("%d public with Last-Modified: answers %d then %d %q (Cache-Status %q), want %d then the origin's 200",
						status, first.status, second.status, second.body, second.cacheStatus(), status)
				}
				if got := o.Count(path); got != 2 {
					t.Errorf("%d public with Last-Modified: origin asked %d times, want 2 (nothing heuristically fresh to hit)", status, got)
				}
			}
			// Explicit freshness still stores a public error, as the origin asked.
			o.Script("/public-max-age.html", testenv.Script{Status: 503, Body: []byte("x"), Header: testenv.Fields("Cache-Control", "public, max-age=60")})
			strictGet(t, n.HTTPAddr(), "/public-max-age.html")
			n.bg.Wait()
			if r := strictGet(t, n.HTTPAddr(), "/public-max-age.html"); r.status != 503 || !r.hit() {
				t.Errorf("503 public, max-age=60: %d, Cache-Status %q, want a 503 hit", r.status, r.cacheStatus())
			}
		})
	}
}
