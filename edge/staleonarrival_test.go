package edge

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/internal/testenv"
)

// RFC 9111 section 4.2.3: a response whose age on arrival (an upstream Age, a Date far
// behind) has used up its lifetime is stale on arrival; without a validator nothing can make
// it usable again. Stored anyway, each such response was written to memory and the disk
// tier under Cache-Status "stored", only to be fetched again by the next request: a store
// and a disk write per request, evicting what could have been hits. With a validator it is
// stored, to be revalidated.
func TestNode_staleOnArrivalWithoutValidatorIsNotStored(t *testing.T) {
	date := time.Now().UTC().Format(http.TimeFormat)
	old := time.Now().UTC().Add(-100 * time.Second).Format(http.TimeFormat)
	for _, tier := range []string{"none", "disk"} {
		t.Run(tier, func(t *testing.T) {
			o := testenv.StartBadOrigin(t)
			n := startTierNode(t, o.URL, tier, "size: 64MiB, admit_frequency: -1")
			for _, tc := range []struct {
				path   string
				header []testenv.Field
				stored bool
			}{
				{"/parent-age.css", testenv.Fields("Date", date, "Cache-Control", "max-age=60", "Age", "120"), false},
				{"/old-date.css", testenv.Fields("Date", old, "Expires", time.Now().UTC().Add(-50*time.Second).Format(http.TimeFormat)), false},
				{"/parent-age-etag.css", testenv.Fields("Date", date, "Cache-Control", "max-age=60", "Age", "120", "ETag", `"v1"`), true},
				{"/parent-age-within.css", testenv.Fields("Date", date, "Cache-Control", "max-age=60", "Age", "30"), true},
			} {
				o.Script(tc.path, testenv.Script{Header: tc.header, Body: []byte("body")})
				r := strictGet(t, n.HTTPAddr(), tc.path)
				n.bg.Wait()
				if r.status != 200 || r.body != "body" || strings.Contains(r.cacheStatus(), "stored") != tc.stored {
					t.Errorf("%s: %d %q, Cache-Status %q, want 200 with stored=%v", tc.path, r.status, r.body, r.cacheStatus(), tc.stored)
				}
			}
			_, _, metrics := get(t, "http://"+n.AdminAddr()+"/metrics")
			if got := metricValue(metrics, "shoal_edge_objects_stored_total"); got != 2 {
				t.Errorf("shoal_edge_objects_stored_total %v, want 2 (the two responses still fresh or revalidatable)", got)
			}
		})
	}
}
