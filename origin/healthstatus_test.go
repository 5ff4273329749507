package origin

import (
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/conf"
)

// A health endpoint answers 204 (a bare liveness handler), or 301 (Apache adding the slash
// to a directory, /health to /health/), or 302 to a login page. With health.expect_status
// left out, such a server must stay up, as under HAProxy's `option httpchk` and nginx Plus's
// health_check (2xx and 3xx pass): the default was 200 exactly, and the first three probes
// took every server of a working pool down, a 503 for every request. An explicit
// expect_status is still matched exactly; 4xx and 5xx fail either way.
func TestPool_activeCheckDefaultAcceptsAny2xxOr3xx(t *testing.T) {
	var status atomic.Int64
	origin := newCountingServer(t, func(w http.ResponseWriter, r *http.Request) {
		if s := int(status.Load()); s >= 300 && s < 400 {
			w.Header().Set("Location", "/health/")
		}
		w.WriteHeader(int(status.Load()))
	})
	for _, tc := range []struct {
		expect int // health.expect_status; 0 leaves it out
		status int
		wantUp bool
	}{
		{0, 200, true}, {0, 204, true}, {0, 301, true}, {0, 302, true}, {0, 399, true},
		{0, 404, false}, {0, 500, false}, {0, 503, false},
		{200, 204, false}, {200, 301, false}, {204, 204, true}, {204, 200, false},
	} {
		status.Store(int64(tc.status))
		cfg := poolConf("", origin.URL)
		cfg.Health = conf.Health{Path: "/health", Rise: 1, Fall: 1, ExpectStatus: tc.expect,
			Interval: conf.Duration(time.Hour), Timeout: conf.Duration(time.Second)}
		p, _ := newTestPool(t, cfg, newFakeClock())
		p.checkAll()
		if snap := p.Snapshot().Servers[0]; p.Healthy() != tc.wantUp || (snap.State == StateUp) != tc.wantUp {
			t.Errorf("expect_status %d, probe answered %d: healthy %v, state %q, check %+v; want up=%v",
				tc.expect, tc.status, p.Healthy(), snap.State, snap.LastCheck, tc.wantUp)
		}
	}
}
