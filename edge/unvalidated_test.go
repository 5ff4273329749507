package edge

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/internal/testenv"
)

// RFC 9111 sections 4.2.4 and 5.2.2.2: a stale response whose directives forbid serving it
// unvalidated (must-revalidate, proxy-revalidate, s-maxage, no-cache) that cannot be validated
// because the origin cannot be reached gets an error, and that error "SHOULD be 504 (Gateway
// Timeout) unless another error status code is more applicable". A plain miss meeting the
// same failure keeps nginx's 502; an origin that answered something that is no response is
// still a 502 (the more applicable status), and its own 5xx is relayed.
func TestNode_unvalidatedStaleIsAGatewayTimeout(t *testing.T) {
	clock := newTestClock()
	o := testenv.StartBadOrigin(t)
	cfg := strings.Replace(oneRoute(true, o.URL), "    servers:\n", "    retries: 0\n    passive: {errors: -1}\n    servers:\n", 1)
	n := startNode(t, cfg, Options{Now: clock.Now})
	failures := []struct {
		name string
		s    testenv.Script
		want int // on a stored response that forbids stale
		miss int // on a miss
	}{
		{"reset before the head", testenv.Script{ResetNow: true}, http.StatusGatewayTimeout, http.StatusBadGateway},
		{"closed before the head", testenv.Script{Hangup: true}, http.StatusGatewayTimeout, http.StatusBadGateway},
		{"not an HTTP response", testenv.Script{Raw: []byte("SSH-2.0-OpenSSH\r\n\r\n")}, http.StatusBadGateway, http.StatusBadGateway},
		{"origin's own 500", testenv.Script{Status: 500, Header: testenv.Fields("Cache-Control", "no-store")}, 500, 500},
	}
	directives := []string{"max-age=10, must-revalidate", "max-age=10, proxy-revalidate", "s-maxage=10", "max-age=10, no-cache"}
	for i, f := range failures {
		for j, cc := range directives {
			t.Run(fmt.Sprintf("%s/%s", f.name, cc), func(t *testing.T) {
				path := fmt.Sprintf("/mr/%d/%d", i, j)
				o.Sequence(path, testenv.Script{Header: testenv.Fields("Cache-Control", cc, "ETag", `"a"`), Body: []byte("good")}, f.s)
				if r := fillOnce(t, n, path); r.status != 200 {
					t.Fatalf("fill: %d", r.status)
				}
				clock.Add(20 * time.Second)
				if r := fillOnce(t, n, path); r.status != f.want || r.body == "good" {
					t.Errorf("stale, origin %s: %d %q, want %d", f.name, r.status, r.body, f.want)
				}
			})
		}
		t.Run(f.name+"/miss", func(t *testing.T) {
			path := fmt.Sprintf("/miss/%d", i)
			o.Script(path, f.s)
			if r := fillOnce(t, n, path); r.status != f.miss {
				t.Errorf("miss, origin %s: %d, want %d", f.name, r.status, f.miss)
			}
		})
	}
	t.Run("connection refused", func(t *testing.T) {
		o.Script("/mr/refused", testenv.Script{Header: testenv.Fields("Cache-Control", "max-age=10, must-revalidate"), Body: []byte("good")})
		fillOnce(t, n, "/mr/refused")
		clock.Add(20 * time.Second)
		o.Close()
		if r := fillOnce(t, n, "/mr/refused"); r.status != http.StatusGatewayTimeout {
			t.Errorf("stale must-revalidate, origin refuses: %d, want 504", r.status)
		}
		if r := fillOnce(t, n, "/never"); r.status != http.StatusBadGateway {
			t.Errorf("miss, origin refuses: %d, want 502", r.status)
		}
	})
}
