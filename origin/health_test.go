package origin

import (
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/conf"
)

func TestPool_activeChecksRiseAndFall(t *testing.T) {
	var status atomic.Int64
	var body atomic.Value
	var probeHost atomic.Value
	status.Store(200)
	body.Store("all good")
	origin := newCountingServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/health" {
			http.NotFound(w, r)
			return
		}
		probeHost.Store(r.Host)
		w.WriteHeader(int(status.Load()))
		io.WriteString(w, body.Load().(string))
	})
	cfg := poolConf("", origin.URL)
	cfg.Health = conf.Health{Path: "/health", Rise: 2, Fall: 3, ExpectBody: "good", Host: "probe.example",
		Interval: conf.Duration(time.Hour), Timeout: conf.Duration(time.Second)}
	p, reg := newTestPool(t, cfg, newFakeClock())

	steps := []struct {
		name    string
		status  int
		body    string
		wantUp  bool
		wantMsg string
	}{
		{"healthy", 200, "all good", true, "status 200"},
		{"1st failure", 500, "all good", true, "status 500, want 2xx or 3xx"},
		{"2nd failure", 200, "bad", true, `body lacks "good"`},
		{"3rd failure: down", 500, "", false, "status 500"},
		{"1st success", 200, "good", false, "status 200"},
		{"failure resets rise", 404, "", false, "status 404"},
		{"1st success again", 200, "good", false, "status 200"},
		{"2nd success: up", 200, "good", true, "status 200"},
	}
	for _, st := range steps {
		status.Store(int64(st.status))
		body.Store(st.body)
		p.checkAll()
		snap := p.Snapshot().Servers[0]
		if p.Healthy() != st.wantUp || (snap.State == StateUp) != st.wantUp {
			t.Fatalf("%s: healthy %v, state %q; want up=%v", st.name, p.Healthy(), snap.State, st.wantUp)
		}
		if snap.LastCheck.OK != (st.wantMsg == "status 200") || !strings.Contains(snap.LastCheck.Detail, st.wantMsg) {
			t.Fatalf("%s: last check %+v, want detail %q", st.name, snap.LastCheck, st.wantMsg)
		}
	}
	if probeHost.Load() != "probe.example" {
		t.Fatalf("probe sent Host %q, want probe.example", probeHost.Load())
	}
	if n := counterValue(t, reg, "shoal_origin_health_checks_total", map[string]string{"result": "failure"}); n != 4 {
		t.Fatalf("health_checks_total{result=failure} = %v, want 4", n)
	}
}

func TestPool_activeCheckFailsOnClosedPortAndTimeout(t *testing.T) {
	release := make(chan struct{})
	hung := newCountingServer(t, func(w http.ResponseWriter, r *http.Request) { <-release })
	defer close(release)
	cfg := poolConf("", "http://"+closedPort(t), hung.URL)
	cfg.Health = conf.Health{Path: "/h", Fall: 1, Interval: conf.Duration(time.Second),
		Timeout: conf.Duration(100 * time.Millisecond)}
	p, _ := newTestPool(t, cfg, nil)
	p.checkAll()
	snap := p.Snapshot()
	for i, want := range []string{"connect", "timeout"} {
		if snap.Servers[i].State != StateDown || !strings.HasPrefix(snap.Servers[i].LastCheck.Detail, want) {
			t.Errorf("server %d: %+v, want down by %s", i, snap.Servers[i], want)
		}
	}
	if _, _, _, err := doGet(t, p, "/", Target{}); err != ErrNoServer {
		t.Fatalf("every server down: err = %v, want ErrNoServer", err)
	}
}

func TestPool_StartRunsChecksUntilClose(t *testing.T) {
	var probes atomic.Int64
	origin := newCountingServer(t, func(w http.ResponseWriter, r *http.Request) {
		probes.Add(1)
		w.WriteHeader(503)
	})
	cfg := poolConf("", origin.URL)
	cfg.Health = conf.Health{Path: "/h", Fall: 1, Interval: conf.Duration(20 * time.Millisecond),
		Timeout: conf.Duration(10 * time.Millisecond)}
	p, _ := newTestPool(t, cfg, nil)
	p.Start()
	p.Start() // idempotent: still one check loop per server
	deadline := time.Now().Add(5 * time.Second)
	for p.Healthy() && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if p.Healthy() {
		t.Fatal("background checks never marked the failing server down")
	}
	p.Close()
	after := probes.Load()
	time.Sleep(60 * time.Millisecond)
	if probes.Load() != after {
		t.Fatal("checks kept running after Close")
	}
}
