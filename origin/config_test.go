package origin

import (
	"strings"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/conf"
)

func TestValidate_rejectsBadConfig(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(c *conf.Pool)
		wantErr string
	}{
		{"valid", func(*conf.Pool) {}, ""},
		{"unknown balancer", func(c *conf.Pool) { c.Balance = "static-rr" }, `balance: unknown balancer "static-rr"`},
		{"negative weight", func(c *conf.Pool) { c.Servers[0].Weight = weight(-1) }, "servers[0]: weight: -1 is negative"},
		{"zero weight drains", func(c *conf.Pool) { c.Servers[0].Weight = weight(0) }, ""},
		{"probe timeout above interval", func(c *conf.Pool) {
			c.Health = conf.Health{Path: "/h", Interval: conf.Duration(time.Second), Timeout: conf.Duration(2 * time.Second)}
		}, "health.timeout: 2s must not be above health.interval 1s"},
		{"default probe timeout is the interval", func(c *conf.Pool) {
			c.Health = conf.Health{Path: "/h", Interval: conf.Duration(500 * time.Millisecond)}
		}, ""},
		{"probe timeout ignored without path", func(c *conf.Pool) { c.Health.Timeout = conf.Duration(time.Hour) }, ""},
		{"relative probe path", func(c *conf.Pool) { c.Health.Path = "health" }, "health.path"},
		{"no servers", func(c *conf.Pool) { c.Servers = nil }, "servers: the pool has no servers"},
		{"bad scheme", func(c *conf.Pool) { c.Servers[1].URL = "ftp://10.0.0.1" }, "servers[1]: url \"ftp://10.0.0.1\": want http:// or https://"},
		{"unparsable url", func(c *conf.Pool) { c.Servers[0].URL = "http://[::1" }, "servers[0]: url:"},
		{"no host", func(c *conf.Pool) { c.Servers[0].URL = "http://" }, "no host"},
		{"path in url", func(c *conf.Pool) { c.Servers[0].URL = "http://10.0.0.1/app" }, "only scheme://host[:port]"},
		{"duplicate url", func(c *conf.Pool) { c.Servers[1].URL = c.Servers[0].URL }, "repeats servers[0]"},
		{"duplicate id", func(c *conf.Pool) { c.Servers[0].ID, c.Servers[1].ID = "a", "a" }, `id "a" repeats`},
		{"id not cookie-safe", func(c *conf.Pool) { c.Servers[0].ID = "a;b" }, "cookie-safe"},
		{"bad cookie name", func(c *conf.Pool) { c.Sticky.Cookie = "SRV ID" }, "sticky.cookie"},
		{"negative retries", func(c *conf.Pool) { c.Retries = -3 }, "retries: -3 is negative"},
		{"retries off", func(c *conf.Pool) { c.Retries = -1 }, ""},
		{"negative max_conns", func(c *conf.Pool) { c.MaxConns = -1 }, "max_conns"},
		{"passive below -1", func(c *conf.Pool) { c.Passive.Errors = -2 }, "passive.errors"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := poolConf("", "http://10.0.0.1", "https://10.0.0.2:8443")
			tt.edit(cfg)
			err := Validate(cfg)
			_, newErr := NewPool(cfg, Options{})
			if (err == nil) != (newErr == nil) {
				t.Fatalf("Validate = %v but NewPool = %v", err, newErr)
			}
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), `pool "test"`) {
				t.Fatalf("Validate = %v, want an error naming the pool and containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestValidate_appliesDefaults(t *testing.T) {
	cfg := poolConf("", "http://10.0.0.1", "https://10.0.0.2")
	cfg.Health.Path = "/health"
	s, err := resolve(cfg)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"balance", s.balance, "roundrobin"},
		{"connect_timeout", s.connectTimeout, 2 * time.Second},
		{"first_byte_timeout", s.firstByteTimeout, 15 * time.Second},
		{"idle_timeout", s.idleTTL, 4 * time.Second},
		{"retries", s.retries, 2},
		{"max_queue", s.maxQueue, 128},
		{"queue_timeout", s.queueTimeout, 5 * time.Second},
		{"health.interval", s.health.interval, 2 * time.Second},
		{"health.timeout", s.health.timeout, 2 * time.Second}, // the interval, as HAProxy
		{"health.rise", s.health.rise, 2},
		{"health.fall", s.health.fall, 3},
		{"health.expect_status", s.health.expectStatus, 0}, // any 2xx or 3xx
		{"passive.errors", s.passiveErrors, 5},
		{"passive.backoff", s.passiveBackoff, 5 * time.Second},
		{"weight", s.servers[0].weight, 1},
		{"http port", s.servers[0].addr, "10.0.0.1:80"},
		{"https port", s.servers[1].addr, "10.0.0.2:443"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestValidate_derivedIDsAreOpaqueAndStable(t *testing.T) {
	a, _ := resolve(poolConf("", "http://10.0.0.1:8080", "http://10.0.0.2:8080"))
	b, _ := resolve(poolConf("", "http://10.0.0.1:8080", "http://10.0.0.2:8080"))
	for i := range a.servers {
		id := a.servers[i].id
		if id != b.servers[i].id {
			t.Errorf("server %d: id %q then %q, want stable", i, id, b.servers[i].id)
		}
		if strings.Contains(id, "10.0.0") || strings.Contains(id, "8080") || !isToken(id) {
			t.Errorf("server %d: id %q reveals the address or is not cookie-safe", i, id)
		}
	}
	if a.servers[0].id == a.servers[1].id {
		t.Errorf("two servers share id %q", a.servers[0].id)
	}
}
