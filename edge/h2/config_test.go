package h2

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"golang.org/x/net/http2"
)

// TestNewServer_config: zero fields take their defaults, out-of-range ones are refused with
// the field named, and a registry that already holds the metrics is refused.
func TestNewServer_config(t *testing.T) {
	srv, err := NewServer(Config{}, testHandler{})
	if err != nil {
		t.Fatal(err)
	}
	c := srv.cfg
	if c.MaxConcurrentStreams != 100 || c.InitialWindowSize != 256<<10 || c.ConnWindowSize != 1<<20 ||
		c.MaxFrameSize != 16384 || c.MaxHeaderListSize != 32<<10 || c.MaxBodyBytes != 16<<20 ||
		c.MaxResets != 200 || c.MaxControlFrames != 1000 || c.LimitWindow != 10*time.Second ||
		c.IdleTimeout != 2*time.Minute || c.StallTimeout != 30*time.Second || c.WriteTimeout != 30*time.Second {
		t.Fatalf("defaults: %+v", c)
	}
	if s, _ := NewServer(Config{InitialWindowSize: 1000}, testHandler{}); s.cfg.InitialWindowSize != 65535 {
		t.Fatalf("InitialWindowSize 1000 became %d, want 65535", s.cfg.InitialWindowSize)
	}
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{MaxFrameSize: 16383}, "MaxFrameSize"},
		{Config{MaxFrameSize: 1 << 24}, "MaxFrameSize"},
		{Config{InitialWindowSize: 1 << 31}, "InitialWindowSize"},
		{Config{ConnWindowSize: 1 << 31}, "ConnWindowSize"},
		{Config{MaxResets: -1}, "MaxResets"},
	} {
		if _, err := NewServer(tc.cfg, testHandler{}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want one naming %s", tc.cfg, err, tc.want)
		}
	}
	if _, err := NewServer(Config{}, nil); err == nil {
		t.Error("nil handler accepted")
	}
	reg := prometheus.NewRegistry()
	if _, err := NewServer(Config{Registerer: reg}, testHandler{}); err != nil {
		t.Fatal(err)
	}
	// A node's next generation (reload) shares the collectors the first one registered.
	if _, err := NewServer(Config{Registerer: reg}, testHandler{}); err != nil {
		t.Errorf("second server on the same registry: %v", err)
	}
	// A different collector under one of the names is a conflict, not something to share.
	clash := prometheus.NewRegistry()
	clash.MustRegister(prometheus.NewGauge(prometheus.GaugeOpts{Name: "shoal_h2_streams_total", Help: "not ours"}))
	if _, err := NewServer(Config{Registerer: clash}, testHandler{}); err == nil {
		t.Error("a clashing collector on the registry accepted")
	}
}

// TestServer_metrics: streams, resets and limits are counted on the registry passed in.
func TestServer_metrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	ts := startServer(t, Config{Registerer: reg}, &holdHandler{}, false)
	stillServes(t, ts.Addr)
	c := dialRaw(t, ts.Addr)
	c.floodFrom(1000, func(i int) {
		id := uint32(2*i + 1)
		c.request(id, "/miss", true)
		c.fr.WriteRSTStream(id, http2.ErrCodeCancel)
	})
	wantCalm(t, c)
	m := ts.srv.m
	if got := counterValue(m.limits.WithLabelValues(limitRapidReset)); got != 1 {
		t.Errorf("limits_total{limit=rapid_reset} = %v, want 1", got)
	}
	if got := counterValue(m.goawaySent.WithLabelValues("ENHANCE_YOUR_CALM")); got != 1 {
		t.Errorf("goaway_sent_total{code=ENHANCE_YOUR_CALM} = %v, want 1", got)
	}
	if got := counterValue(m.rstRecv); got < 100 {
		t.Errorf("rst_received_total = %v, want at least 100", got)
	}
	if got := counterValue(m.streams); got < 101 {
		t.Errorf("streams_total = %v, want at least 101", got)
	}
	if fams, err := reg.Gather(); err != nil || len(fams) == 0 {
		t.Errorf("registry: %d families, %v", len(fams), err)
	}
}

func counterValue(c prometheus.Metric) float64 {
	var m dto.Metric
	c.Write(&m)
	return m.GetCounter().GetValue()
}
