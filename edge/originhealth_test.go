package edge

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/shoal-cdn/shoal/internal/testenv"
)

// Issue 13, input 1, through a node: one origin server, pool keys at their defaults. 30
// answers of 503 (no-store) for /err are relayed; the 20 requests for other paths after them
// all reach the origin and succeed, and the node stays ready.
func TestNode_originFiveHundredsDoNotEjectTheOnlyServer(t *testing.T) {
	o := testenv.StartBadOrigin(t)
	o.Script("/err", testenv.Script{Status: 503, Header: testenv.Fields("Cache-Control", "no-store"), Body: []byte("busy")})
	n := startNode(t, oneRoute(true, o.URL), Options{})
	base := "http://" + n.HTTPAddr()
	for i := range 30 {
		if status, _, _ := get(t, base+"/err"); status != http.StatusServiceUnavailable {
			t.Fatalf("/err #%d: %d, want the origin's 503", i, status)
		}
	}
	for i := range 20 {
		path := fmt.Sprintf("/page/%d.css", i)
		if status, _, body := get(t, base+path); status != 200 || body != "ok" {
			t.Fatalf("%s after the 503s: %d %q, want the origin's 200", path, status, body)
		}
		if o.Count(path) != 1 {
			t.Fatalf("origin saw %s %d times, want 1", path, o.Count(path))
		}
	}
	n.judgeReadiness(&originJudge{})
	if !n.ready.Load() {
		t.Fatal("node not ready after its origin answered 503s")
	}
}
