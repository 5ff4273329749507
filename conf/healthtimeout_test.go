package conf

import (
	"testing"
	"time"
)

// health.timeout left out is the interval, as HAProxy's check timeout is `inter` unless
// `timeout check` is set; a timeout equal to the interval is valid (probes of a server run
// one after another, the next an interval after the last ended). Failed before: the default
// was 1s whatever the interval, so `interval: 1s` alone was refused ("1s is not below the
// interval 1s") and a 1.2s health page failed every probe at the default 2s interval.
func TestParse_healthTimeoutDefaultsToTheInterval(t *testing.T) {
	const head = "listen: {http: \":80\"}\nroutes: [{origin: a}]\norigins:\n  a:\n    servers: [{url: \"http://127.0.0.1:1\"}]\n"
	for _, c := range []struct {
		health string
		want   time.Duration
	}{
		{"    health: {path: /h}\n", 2 * time.Second},
		{"    health: {path: /h, interval: 1s}\n", time.Second},
		{"    health: {path: /h, interval: 5s}\n", 5 * time.Second},
		{"    health: {path: /h, interval: 3s, timeout: 3s}\n", 3 * time.Second},
		{"    health: {path: /h, interval: 3s, timeout: 500ms}\n", 500 * time.Millisecond},
	} {
		cfg, err := Parse([]byte(head+c.health), "t.yaml", "")
		if err != nil {
			t.Errorf("%q: %v", c.health, err)
			continue
		}
		if got := cfg.Origins["a"].Health.Timeout.D(); got != c.want {
			t.Errorf("%q: health.timeout %s, want %s", c.health, got, c.want)
		}
	}
}
