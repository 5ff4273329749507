package conf

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

const minimalPool = `listen: {http: ":8080"}
origins:
  web:
%s    servers: [{url: "http://127.0.0.1:8001"}]
routes: [{match: {path_prefix: /}, origin: web}]
`

func parsePool(t *testing.T, keys string) (*Pool, error) {
	t.Helper()
	cfg, err := Parse([]byte(strings.Replace(minimalPool, "%s", keys, 1)), "shoal.yaml", "")
	if err != nil {
		return nil, err
	}
	return cfg.Origins["web"], nil
}

// A key left out means the default of DefaultPool; a key written with a special value means
// what examples/shoal.yaml says of it, never the default (issue 13: retries: -1 gave 2 retries).
func TestParse_poolKeysOverDefaults(t *testing.T) {
	def := DefaultPool()
	cases := []struct {
		keys  string
		check func(p *Pool) bool
		want  string
	}{
		{"", func(p *Pool) bool {
			return p.Retries == def.Retries && p.Passive.Errors == def.Passive.Errors && p.IdleTimeout == def.IdleTimeout &&
				p.Passive.Observe == ObserveLayer4 && p.MaxQueue == def.MaxQueue && p.ConnectTimeout == def.ConnectTimeout
		}, "every default"},
		{"    retries: -1\n", func(p *Pool) bool { return p.Retries == 0 }, "retries -1 is none"},
		{"    retries: 0\n", func(p *Pool) bool { return p.Retries == 0 }, "retries 0 is none"},
		{"    retries: 5\n", func(p *Pool) bool { return p.Retries == 5 }, "retries 5"},
		{"    passive: {errors: -1}\n", func(p *Pool) bool { return p.Passive.Errors == 0 && p.Passive.Backoff == def.Passive.Backoff }, "passive off, backoff default"},
		{"    passive: {errors: 0}\n", func(p *Pool) bool { return p.Passive.Errors == 0 }, "passive 0 is off"},
		{"    passive: {observe: layer7}\n", func(p *Pool) bool {
			return p.Passive.Observe == ObserveLayer7 && p.Passive.Errors == def.Passive.Errors
		}, "layer7, errors default"},
		{"    idle_timeout: 0s\n", func(p *Pool) bool { return p.IdleTimeout == def.IdleTimeout }, "idle 0 is the default"},
		{"    max_queue: 0\n", func(p *Pool) bool { return p.MaxQueue == def.MaxQueue }, "max_queue 0 is the default"},
		{"    health: {path: /h}\n", func(p *Pool) bool {
			return p.Health.Rise == 2 && p.Health.Fall == 3 && p.Health.Interval.D() == 2*time.Second
		}, "health defaults"},
	}
	for _, c := range cases {
		p, err := parsePool(t, c.keys)
		if err != nil {
			t.Errorf("%s: %v", c.want, err)
			continue
		}
		if !c.check(p) {
			t.Errorf("%s: got %+v", c.want, *p)
		}
	}
}

func TestParse_poolSpecialValuesRefused(t *testing.T) {
	cases := []struct{ keys, key string }{
		{"    retries: -2\n", "origins.web.retries"},
		{"    passive: {errors: -3}\n", "origins.web.passive.errors"},
		{"    passive: {observe: layer5}\n", "origins.web.passive.observe"},
		{"    passive: {observ: layer7}\n", "origins.web.passive.observ"},
	}
	for _, c := range cases {
		_, err := parsePool(t, c.keys)
		if err == nil || !strings.Contains(err.Error(), c.key) || !strings.Contains(err.Error(), "shoal.yaml:4") {
			t.Errorf("%q: got %v, want an error at shoal.yaml:4 naming %s", c.keys, err, c.key)
		}
	}
}

func TestParse_cacheAndClusterOverDefaults(t *testing.T) {
	cfg, err := Parse([]byte(strings.Replace(minimalPool, "%s", "", 1)+"cache: {memory: 1GiB}\ncluster: {vnodes: 8}\n"), "shoal.yaml", "")
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultCache()
	want.Memory = 1 << 30
	if cfg.Cache != want {
		t.Errorf("cache = %+v, want %+v", cfg.Cache, want)
	}
	wc := DefaultCluster()
	wc.VNodes = 8
	if cfg.Cluster.VNodes != 8 || cfg.Cluster.ProbeInterval != wc.ProbeInterval || cfg.Cluster.SuspicionMult != wc.SuspicionMult {
		t.Errorf("cluster = %+v, want %+v", cfg.Cluster, wc)
	}
}

// examples/shoal.yaml sets every key to its default: loading it must give exactly what the
// constructors say, so the reference file and the code cannot drift apart.
func TestDefaults_matchTheReferenceConfig(t *testing.T) {
	cfg, err := Load("../examples/shoal.yaml")
	if err != nil {
		t.Fatal(err)
	}
	pool := *cfg.Origins["web"]
	want := DefaultPool()
	want.Name, want.Servers = pool.Name, pool.Servers
	want.Health.Timeout = want.Health.Interval // 0 is filled with the interval on load
	if !reflect.DeepEqual(pool, want) {
		t.Errorf("origins.web in examples/shoal.yaml:\n%+v\nDefaultPool:\n%+v", pool, want)
	}
	if cfg.Cache != DefaultCache() {
		t.Errorf("cache in examples/shoal.yaml:\n%+v\nDefaultCache:\n%+v", cfg.Cache, DefaultCache())
	}
	cl, wc := cfg.Cluster, DefaultCluster()
	if cl.VNodes != wc.VNodes || cl.ProbeInterval != wc.ProbeInterval || cl.ProbeTimeout != wc.ProbeTimeout ||
		cl.SuspicionMult != wc.SuspicionMult || cl.BoundedLoad != wc.BoundedLoad {
		t.Errorf("cluster in examples/shoal.yaml:\n%+v\nDefaultCluster:\n%+v", cl, wc)
	}
}

// A small cache.memory alone is a valid config: the default largest object shrinks to the
// cache, while a max_object_size written larger than the cache is still refused.
func TestParse_smallCacheMemoryBoundsTheDefaultMaxObjectSize(t *testing.T) {
	cfg, err := Parse([]byte("listen: {http: \":80\"}\ncache: {memory: 16MiB}\n"), "small.yaml", "")
	if err != nil {
		t.Fatalf("cache.memory 16MiB alone: %v", err)
	}
	if cfg.Cache.MaxObjectSize != 16<<20 {
		t.Errorf("max_object_size %d, want the cache's 16MiB", cfg.Cache.MaxObjectSize)
	}
	cfg, err = Parse([]byte("listen: {http: \":80\"}\ncache: {memory: 1GiB}\n"), "big.yaml", "")
	if err != nil || cfg.Cache.MaxObjectSize != 64<<20 {
		t.Errorf("cache.memory 1GiB: max_object_size %v (%v), want the 64MiB default", cfg.Cache.MaxObjectSize, err)
	}
	_, err = Parse([]byte("listen: {http: \":80\"}\ncache:\n  memory: 16MiB\n  max_object_size: 32MiB\n"), "bad.yaml", "")
	var errs Errors
	if !errors.As(err, &errs) || errs[0].Key != "cache.max_object_size" || errs[0].Line != 4 {
		t.Errorf("max_object_size above cache.memory: got %v, want an error naming cache.max_object_size at line 4", err)
	}
}
