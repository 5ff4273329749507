package origin

import (
	"net/http"
	"testing"
	"time"
)

// A server whose health page answers in 1.2s (a PHP check under load, a database ping) is
// slow, not down. HAProxy's check timeout is `inter` (2s) unless set; Shoal's was a fixed 1s,
// so three probes in a row (fall 3) took a working pool fully down: every request got 503
// for a server that answered all of them. Failed before: the pool was down after fall probes.
func TestPool_slowHealthPageWithinTheIntervalKeepsTheServerUp(t *testing.T) {
	origin := newCountingServer(t, func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(1200 * time.Millisecond) // the origin's own slowness, not the test's wait
		w.WriteHeader(http.StatusOK)
	})
	cfg := poolConf("", origin.URL)
	cfg.Health.Path = "/health" // interval, timeout, rise and fall left to their defaults
	cfg.Health.Timeout = 0
	p, _ := newTestPool(t, cfg, newFakeClock())
	for i := range int(cfg.Health.Fall) {
		p.checkAll()
		if last := p.Snapshot().Servers[0].LastCheck; !last.OK {
			t.Fatalf("probe %d of a page answering in 1.2s failed: %+v", i+1, last)
		}
	}
	if !p.Healthy() {
		t.Fatal("a server answering its health page in 1.2s was taken down")
	}
}
