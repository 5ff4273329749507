package edge

import (
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"
)

// TestNode_ageIsNeverNegative: an origin that formats an unset time sends "Date: Mon, 01 Jan
// 0001 00:00:00 GMT". Its responses are as old as the node can count (RFC 9111 section
// 4.2.3), and a client that takes stale ones (max-stale) gets them with that Age. One second
// of residence wrapped the age negative and the node sent "Age: -9223372035" (section 5.1:
// a non-negative integer). Failed before on the second and third requests.
func TestNode_ageIsNeverNegative(t *testing.T) {
	clock := newTestClock()
	origin := startRFCOrigin(t, clock, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Date", "Mon, 01 Jan 0001 00:00:00 GMT")
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("ETag", `"a"`)
		fmt.Fprint(w, "x")
	})
	n := rfcNode(t, clock, origin.URL, "")
	for i := range 3 {
		r := fillOnce(t, n, "/o", "Cache-Control", "max-stale")
		if age, err := strconv.ParseInt(r.header.Get("Age"), 10, 64); err != nil || age < 0 {
			t.Errorf("request %d: Age %q (%s), want a non-negative integer", i+1, r.header.Get("Age"), r.cacheStatus())
		}
		clock.Add(time.Second)
	}
}
