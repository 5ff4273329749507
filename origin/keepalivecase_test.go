package origin

import (
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/internal/testenv"
)

// The origin client keeps field names as the server spelled them, so the Keep-Alive limit
// must be found as "keep-alive" too (RFC 9110 section 5.1). Failed before: a lower-case
// timeout=1 was ignored and the idle connection reused past it.
func TestPool_keepAliveLimitsAnySpelling(t *testing.T) {
	for _, name := range []string{"keep-alive", "KEEP-ALIVE"} {
		t.Run(name, func(t *testing.T) {
			o := testenv.StartBadOrigin(t)
			o.Script("/k", testenv.Script{Header: testenv.Fields(name, "timeout=1, max=100"), Body: []byte("ok")})
			p, _ := newTestPool(t, poolConf("", o.URL), nil)
			for i := range 2 {
				if i == 1 {
					time.Sleep(700 * time.Millisecond)
				}
				if status, body, _, err := doGet(t, p, "/k", Target{Idempotent: true}); err != nil || status != 200 || body != "ok" {
					t.Fatalf("request %d: %d %q %v", i, status, body, err)
				}
			}
			if o.Conns() != 2 {
				t.Fatalf("origin accepted %d connections, want 2: the idle one was reused past timeout=1", o.Conns())
			}
		})
	}
}
