package edge

import (
	"net/http"
	"strings"
	"testing"

	"github.com/shoal-cdn/shoal/internal/testenv"
)

// A fill whose object memory now holds stays joinable for Group.Linger after it ends: a
// request whose lookup missed just before the Set may join just after the fill ended, and
// must find the finished Call, not start a second fetch
// (TestNode_lateJoinAfterAStoredFillFetchesNothing). Fills nobody may share (no-store,
// Set-Cookie) left the group when their head came, and the next request is answered right
// either way: a hit for the stored one, the origin again for the others.
func TestNode_onlyStoredFillsLinger(t *testing.T) {
	o := testenv.StartBadOrigin(t)
	n := startNode(t, inlineRoute(o.URL, "5s"), Options{})
	for _, tc := range []struct {
		name      string
		header    []string
		linger    bool // still joinable right after its client has the whole answer
		nextIsHit bool
	}{
		{"stored", []string{"Cache-Control", "max-age=60"}, true, true},
		{"not storable", []string{"Cache-Control", "no-store"}, false, false},
		{"private", []string{"Cache-Control", "max-age=60", "Set-Cookie", "a=b"}, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := "/" + strings.ReplaceAll(tc.name, " ", "-") + ".css"
			body := strings.Repeat("s", 1<<10)
			o.Script(path, testenv.Script{Header: testenv.Fields(tc.header...), Body: []byte(body)})
			first := strictGet(t, n.HTTPAddr(), path)
			if first.err != nil || first.status != http.StatusOK || first.body != body {
				t.Fatalf("first: %d, %d bytes, err %v", first.status, len(first.body), first.err)
			}
			n.bg.Wait() // the fill ended (end ran)
			key := "http://www.example.com" + path
			if got := n.fills.InFlight(key); got != tc.linger {
				t.Errorf("fill still joinable after it ended: %v, want %v", got, tc.linger)
			}
			next := strictGet(t, n.HTTPAddr(), path)
			if next.err != nil || next.body != body || next.hit() != tc.nextIsHit {
				t.Errorf("next: %q, %d bytes, err %v; want hit %v", next.cacheStatus(), len(next.body), next.err, tc.nextIsHit)
			}
			wantOrigin := 1
			if !tc.nextIsHit {
				wantOrigin = 2
			}
			if got := o.Count(path); got != wantOrigin {
				t.Errorf("origin saw %d requests, want %d", got, wantOrigin)
			}
		})
	}
}
