package cachestore

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// gathered returns the value of every shoal_cachestore series of store, keyed by name and kind.
func gathered(t *testing.T, reg *prometheus.Registry, store string) map[string]float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	out := map[string]float64{}
	for _, f := range families {
		for _, mt := range f.GetMetric() {
			key, ours := f.GetName(), false
			for _, l := range mt.GetLabel() {
				switch l.GetName() {
				case "store":
					ours = l.GetValue() == store
				case "kind":
					key += "{" + l.GetValue() + "}"
				}
			}
			if !ours {
				continue
			}
			if g := mt.GetGauge(); g != nil {
				out[key] = g.GetValue()
			} else {
				out[key] = mt.GetCounter().GetValue()
			}
		}
	}
	return out
}

func TestMemory_Metrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := NewMemory(Config{}, reg)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	a, b := object("http://h/a", "", "t"), object("http://h/b", "", "t")
	mustSet(t, m, a)
	mustSet(t, m, b)
	m.Get("http://h/none")
	m.PurgeURL("http://h/a", true)
	m.PurgeTag("t", false)
	stale := object("http://h/b", "", "t")
	m.Set(stale) // generation 0, older than the tag purge: refused

	got := gathered(t, reg, "main")
	want := map[string]float64{
		"shoal_cachestore_objects":                      0,
		"shoal_cachestore_bytes":                        0,
		"shoal_cachestore_evictions_total":              0,
		"shoal_cachestore_rejected_total":               0,
		"shoal_cachestore_refused_total":                1,
		"shoal_cachestore_hits_total":                   2,
		"shoal_cachestore_misses_total":                 1,
		"shoal_cachestore_purged_objects_total{url}":    1,
		"shoal_cachestore_purged_objects_total{prefix}": 0,
		"shoal_cachestore_purged_objects_total{tag}":    2,
		"shoal_cachestore_purged_objects_total{all}":    0,
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s = %v (present %v), want %v", k, g, ok, v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("gathered %d series, want %d: %v", len(got), len(want), got)
	}
}

func TestNewMemory_Registration(t *testing.T) {
	reg := prometheus.NewRegistry()
	main, err := NewMemory(Config{}, reg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewMemory(Config{}, reg); err == nil {
		t.Fatal("a second store named main registered on the same registry")
	}
	hot, err := NewMemory(Config{Name: "hot"}, reg)
	if err != nil {
		t.Fatalf("a store with another name could not register: %v", err)
	}
	hot.Close()
	main.Close()
	again, err := NewMemory(Config{}, reg)
	if err != nil {
		t.Fatalf("Close did not unregister: %v", err)
	}
	again.Close()
}
