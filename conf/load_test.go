package conf

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const goodConfig = `node: {name: edge-1, region: eu-west, public_addr: 192.0.2.11}
listen: {http: ":8080", peer: ":8081", admin: "127.0.0.1:9090"}
cache: {memory: 1GiB, max_object_size: 64MiB, stale_if_error: 1h}
origins:
  static:
    balance: roundrobin
    health: {path: /health.html, interval: 2s, rise: 2, fall: 3}
    servers: [{url: "http://10.0.1.10"}, {url: "http://10.0.1.8", weight: 2}]
  dynamic:
    balance: leastconn
    sticky: {cookie: SHOALSRV}
    servers: [{url: "http://10.0.1.3"}, {url: "http://10.0.1.7:8080"}]
routes:
  - {match: {path_prefix: /wp-content/}, origin: static, cache: true}
  - {match: {extensions: [css, js, png]}, origin: static, cache: true}
  - {match: {path_prefix: /}, origin: dynamic, cache: false}
`

func TestParse_goodConfigWithDefaults(t *testing.T) {
	cfg, err := Parse([]byte(goodConfig), "shoal.yaml", "")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Cache.Memory != 1<<30 || cfg.Cache.MaxObjectSize != 64<<20 {
		t.Errorf("sizes: memory %d, max_object_size %d", cfg.Cache.Memory, cfg.Cache.MaxObjectSize)
	}
	if cfg.Cache.StaleIfError.D() != time.Hour {
		t.Errorf("stale_if_error = %v", cfg.Cache.StaleIfError)
	}
	st := cfg.Origins["static"]
	if st.Name != "static" || *st.Servers[1].Weight != 2 || *st.Servers[0].Weight != 1 {
		t.Errorf("static pool: %+v", st)
	}
	if cfg.Origins["dynamic"].Health.Interval.D() != 2*time.Second {
		t.Errorf("default health interval not applied")
	}
	if cfg.Listen.Admin != "127.0.0.1:9090" || cfg.Cluster.VNodes != 160 {
		t.Errorf("defaults: %+v %+v", cfg.Listen, cfg.Cluster)
	}
	if len(cfg.Admin.Allow) == 0 {
		t.Errorf("admin.allow default not applied")
	}
}

// Each bad file must be refused with the offending key and its line.
func TestParse_errorsNameKeyAndLine(t *testing.T) {
	cases := []struct {
		name, yaml, key string
		line            int
		msg             string
	}{
		{"unknown top key", "listen: {http: \":80\"}\ncahce: {memory: 1GiB}\n", "cahce", 2, "unknown key"},
		{"unknown nested key", "listen:\n  http: \":80\"\n  htp: \":81\"\n", "listen.htp", 3, "unknown key"},
		{"bad size", "listen: {http: \":80\"}\ncache:\n  memory: 12 potatoes\n", "cache.memory", 3, "invalid size"},
		{"bad duration", "listen: {http: \":80\"}\ncache:\n  stale_if_error: soon\n", "cache.stale_if_error", 3, "invalid duration"},
		{"route to unknown origin", "listen: {http: \":80\"}\norigins:\n  a: {servers: [{url: \"http://127.0.0.1:1\"}]}\nroutes:\n  - match: {path_prefix: /}\n    origin: b\n", "routes[0].origin", 6, "unknown origin"},
		{"duplicate pool", "listen: {http: \":80\"}\norigins:\n  a: {servers: [{url: \"http://h\"}]}\n  a: {servers: [{url: \"http://h\"}]}\n", "origins.a", 4, "already defined"},
		{"duplicate server", "listen: {http: \":80\"}\norigins:\n  a:\n    servers:\n      - url: http://h\n      - url: http://h\n", "origins.a.servers[1].url", 6, "duplicate"},
		{"unparsable url", "listen: {http: \":80\"}\norigins:\n  a:\n    servers:\n      - url: \"http://[::1\"\n", "origins.a.servers[0].url", 5, "unparsable"},
		{"url without scheme", "listen: {http: \":80\"}\norigins:\n  a:\n    servers:\n      - url: 10.0.0.1\n", "origins.a.servers[0].url", 5, "scheme"},
		{"unknown balancer", "listen: {http: \":80\"}\norigins:\n  a:\n    balance: fastest\n    servers: [{url: \"http://h\"}]\n", "origins.a.balance", 4, "unknown balancer"},
		{"negative weight", "listen: {http: \":80\"}\norigins:\n  a:\n    servers:\n      - {url: \"http://h\", weight: -1}\n", "origins.a.servers[0].weight", 5, "negative"},
		{"probe timeout above interval", "listen: {http: \":80\"}\norigins:\n  a:\n    health:\n      path: /h\n      interval: 1s\n      timeout: 2s\n    servers: [{url: \"http://h\"}]\n", "origins.a.health.timeout", 7, "above the interval"},
		{"no servers", "listen: {http: \":80\"}\norigins:\n  a:\n    balance: first\n", "origins.a.servers", 3, "at least one server"},
		{"bad regex", "listen: {http: \":80\"}\norigins: {a: {servers: [{url: \"http://h\"}]}}\nroutes:\n  - origin: a\n    match:\n      path_regex: \"([\"\n", "routes[0].match.path_regex", 6, "missing closing"},
		{"wrong type", "listen: {http: \":80\"}\ncluster:\n  vnodes: many\n", "cluster.vnodes", 3, "wrong type"},
		{"no listener", "cache: {memory: 1GiB}\n", "listen", 0, "needs http or https"},
		{"h2c not host:port", "listen:\n  https: \":443\"\n  h2c: \"8082\"\n", "listen.h2c", 3, "not host:port"},
		{"zone without dot", "listen: {http: \":80\"}\ngslb:\n  listen: \":53\"\n  zone: cdn.example.com\n  names: [www]\n", "gslb.zone", 4, "trailing dot"},
		{"overlapping cidrs", "listen: {http: \":80\"}\ngslb:\n  listen: \":53\"\n  zone: c.\n  names: [www]\n  regions:\n    a: {cidrs: [10.0.0.0/8]}\n    b: {cidrs: [10.1.0.0/16]}\n", "gslb.regions.b.cidrs[0]", 8, "overlaps"},
		{"unknown neighbour", "listen: {http: \":80\"}\ngslb:\n  listen: \":53\"\n  zone: c.\n  names: [www]\n  regions:\n    a: {near: [z]}\n", "gslb.regions.a.near[0]", 7, "unknown region"},
		{"negative udp_threads", "listen: {http: \":80\"}\ngslb:\n  listen: \":53\"\n  zone: c.\n  names: [www]\n  udp_threads: -1\n", "gslb.udp_threads", 6, "out of range"},
		{"too many udp_threads", "listen: {http: \":80\"}\ngslb:\n  listen: \":53\"\n  zone: c.\n  names: [www]\n  udp_threads: 257\n", "gslb.udp_threads", 6, "out of range"},
		{"udp_netpoll not a bool", "listen: {http: \":80\"}\ngslb:\n  listen: \":53\"\n  zone: c.\n  names: [www]\n  udp_netpoll: maybe\n", "gslb.udp_netpoll", 6, "wrong type"},
		{"vip is own address", "node: {public_addr: 192.0.2.1}\nlisten: {http: \":80\"}\nvip:\n  interface: lo\n  addresses:\n    - 192.0.2.1/24\n", "vip.addresses[0]", 6, "own public_addr"},
		{"bad yaml", "listen: {http: \":80\"\n", "", 1, "invalid YAML"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml), "bad.yaml", "")
			var errs Errors
			if !errors.As(err, &errs) || len(errs) == 0 {
				t.Fatalf("want conf.Errors, got %v", err)
			}
			e := problemAt(errs, tc.key)
			if e.Key != tc.key || e.Line != tc.line || !strings.Contains(e.Msg, tc.msg) {
				t.Errorf("got key=%q line=%d msg=%q (%v); want key=%q line=%d msg~%q", e.Key, e.Line, e.Msg, err, tc.key, tc.line, tc.msg)
			}
			if tc.line > 0 && !strings.Contains(err.Error(), "bad.yaml:") {
				t.Errorf("error does not name the file: %v", err)
			}
		})
	}
}

func TestLoad_readsSecretFilesRelativeToConfig(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "gossip.key"), []byte("0123456789abcdef-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfgFile := filepath.Join(dir, "shoal.yaml")
	if err := os.WriteFile(cfgFile, []byte("listen: {http: \":80\"}\ncluster: {secret_file: gossip.key}\npurge: {token_file: missing.token}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(cfgFile)
	if err == nil || !strings.Contains(err.Error(), "purge.token_file") {
		t.Fatalf("want an error naming purge.token_file, got %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "missing.token"), []byte("tok-tok-tok-tok-tok"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(cfgFile)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Cluster.Secret != "0123456789abcdef-secret" || cfg.Purge.Token != "tok-tok-tok-tok-tok" {
		t.Errorf("secrets: %q %q", cfg.Cluster.Secret, cfg.Purge.Token)
	}
}

func TestParseSize(t *testing.T) {
	cases := map[string]Size{"512": 512, "64KiB": 64 << 10, "1GiB": 1 << 30, "10MB": 10e6, "1.5MiB": 3 << 19, "2 GiB": 2 << 30}
	for in, want := range cases {
		got, err := ParseSize(in)
		if err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "MiB", "-1KiB", "1 potato", "1e30GiB"} {
		if _, err := ParseSize(bad); err == nil {
			t.Errorf("ParseSize(%q) accepted", bad)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(goodConfig))
	f.Add([]byte("listen: {http: \":80\"}\ncache: {memory: 1x}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse(data, "fuzz.yaml", "")
		if err == nil && cfg == nil {
			t.Fatal("nil config without error")
		}
	})
}
