package origin

import (
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// The cached children count into the same series the vectors export: every code, the ones
// outside the table included, under concurrent first use; active goes up and down.
func TestServerMetrics_countIntoTheVectorsSeries(t *testing.T) {
	reg := prometheus.NewRegistry()
	sm := newMetrics(reg).forServer("p", "127.0.0.1:1")
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, code := range []int{200, 200, 503, 799, 99} {
				sm.response(code, time.Millisecond)
			}
		}()
	}
	wg.Wait()
	sm.activeDelta(1)
	sm.activeDelta(1)
	sm.activeDelta(-1)
	for code, want := range map[string]float64{"200": 16, "503": 8, "799": 8, "99": 8} {
		if got := counterValue(t, reg, "shoal_origin_requests_total", map[string]string{"pool": "p", "server": "127.0.0.1:1", "code": code}); got != want {
			t.Errorf("code %s: %v requests, want %v", code, got, want)
		}
	}
	if got := counterValue(t, reg, "shoal_origin_active_connections", map[string]string{"pool": "p"}); got != 1 {
		t.Errorf("active %v, want 1", got)
	}
	var none *serverMetrics // no Registerer
	none.response(200, time.Millisecond)
	none.activeDelta(1)
}
