package cachestore

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are read from the store's atomic counters at scrape time, so the hot paths pay for
// one atomic add and nothing else.
type metrics struct {
	reg        prometheus.Registerer
	collectors []prometheus.Collector
}

func newMetrics(m *Memory, store string, reg prometheus.Registerer) (*metrics, error) {
	labels := prometheus.Labels{"store": store}
	opts := func(name, help string) prometheus.Opts {
		return prometheus.Opts{Namespace: "shoal", Subsystem: "cachestore", Name: name, Help: help, ConstLabels: labels}
	}
	gauge := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts(opts(name, help)), f)
	}
	counter := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts(opts(name, help)), f)
	}
	cs := []prometheus.Collector{
		gauge("objects", "Objects held by the store.", func() float64 { return float64(m.objects.Load()) }),
		gauge("bytes", "Bytes of Object.Cost held by the store.", func() float64 { return float64(m.bytes.Load()) }),
		counter("evictions_total", "Objects evicted to make room.", func() float64 { return float64(m.evictions.Load()) }),
		counter("rejected_total", "Sets over the budget, or that the eviction policy evicted at once (an object near the budget's size).", func() float64 { return float64(m.rejected.Load()) }),
		counter("refused_total", "Sets refused because a purge made during their fill matched them.", func() float64 { return float64(m.refused.Load()) }),
		counter("hits_total", "Gets that found an object.", func() float64 { return float64(m.hits.Load()) }),
		counter("misses_total", "Gets that found nothing.", func() float64 { return float64(m.misses.Load()) }),
	}
	for k := range numKinds {
		o := opts("purged_objects_total", "Objects removed, or marked stale by soft purges, by kind of purge.")
		o.ConstLabels = prometheus.Labels{"store": store, "kind": k.String()}
		cs = append(cs, prometheus.NewCounterFunc(prometheus.CounterOpts(o), func() float64 { return float64(m.purged[k].Load()) }))
	}

	mt := &metrics{reg: reg}
	if reg == nil {
		return mt, nil
	}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			mt.unregister()
			return nil, fmt.Errorf("cachestore: registering metrics of store %q: %w", store, err)
		}
		mt.collectors = append(mt.collectors, c)
	}
	return mt, nil
}

// unregister removes what newMetrics registered, so a store can be rebuilt on the same registry.
func (mt *metrics) unregister() {
	for _, c := range mt.collectors {
		mt.reg.Unregister(c)
	}
	mt.collectors = nil
}
