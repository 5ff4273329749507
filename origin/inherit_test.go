package origin

import (
	"slices"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/conf"
)

// TestPool_inheritKeepsTheHealthOfServersStillListed: the successor of a pool (a reload)
// keeps what the checks learnt of the servers both list, by address and scheme; a server new
// to it, or one behind another scheme, starts up as at start, and without active checks in
// the successor nothing takes a server down.
func TestPool_inheritKeepsTheHealthOfServersStillListed(t *testing.T) {
	urls := fakeURLs(3)
	withChecks := func(urls ...string) *conf.Pool {
		cfg := poolConf("", urls...)
		cfg.Health = conf.Health{Path: "/health", Interval: conf.Duration(time.Hour), Timeout: conf.Duration(time.Second), Rise: 2, Fall: 1}
		return cfg
	}
	clock := newFakeClock()
	old, _ := newTestPool(t, withChecks(urls[0], urls[1], urls[2]), clock)
	setProbe(old, 1, false)
	old.mu.Lock()
	old.servers[2].ejected, old.servers[2].ejectedUntil, old.servers[2].ejections = true, clock.Now().Add(time.Minute), 1
	old.mu.Unlock()

	states := func(p *Pool) []string {
		var s []string
		for _, ss := range p.Snapshot().Servers {
			s = append(s, ss.State)
		}
		return s
	}
	for _, tc := range []struct {
		name string
		cfg  *conf.Pool
		want []string
	}{
		{"same servers, other order", withChecks(urls[2], urls[1], urls[0]), []string{StateDown, StateDown, StateUp}},
		{"a server added", withChecks(urls[0], urls[1], urls[2], "http://192.0.2.9:80"), []string{StateUp, StateDown, StateDown, StateUp}},
		{"https on the same address", withChecks("https://" + urls[1][len("http://"):]), []string{StateUp}},
		{"active checks off", poolConf("", urls[1], urls[2]), []string{StateUp, StateDown}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, _ := newTestPool(t, tc.cfg, clock)
			p.Inherit(old)
			if got := states(p); !slices.Equal(got, tc.want) {
				t.Errorf("states %v, want %v", got, tc.want)
			}
		})
	}
}
