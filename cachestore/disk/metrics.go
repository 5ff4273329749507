package disk

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics read the tier's atomic counters at scrape time; only the two latency histograms
// are observed on the hot paths.
type metrics struct {
	reg        prometheus.Registerer
	collectors []prometheus.Collector
	read       prometheus.Histogram
	write      prometheus.Histogram
}

func newMetrics(d *Disk, reg prometheus.Registerer) (*metrics, error) {
	opts := func(name, help string) prometheus.Opts {
		return prometheus.Opts{Namespace: "shoal", Subsystem: "cachestore_disk", Name: name, Help: help}
	}
	gauge := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts(opts(name, help)), f)
	}
	counter := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts(opts(name, help)), f)
	}
	b2f := func(b bool) float64 {
		if b {
			return 1
		}
		return 0
	}
	buckets := prometheus.ExponentialBuckets(10e-6, 4, 10) // 10 µs to 2.6 s
	mt := &metrics{
		reg: reg,
		read: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "shoal", Subsystem: "cachestore_disk",
			Name: "read_seconds", Help: "Time of Gets that found an object: index, head read, checksum on first read.", Buckets: buckets}),
		write: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "shoal", Subsystem: "cachestore_disk",
			Name: "write_seconds", Help: "Time to write one record, reclaiming room first if needed.", Buckets: buckets}),
	}
	cs := []prometheus.Collector{
		mt.read, mt.write,
		gauge("bytes", "Bytes of the segment files, live and dead records.", func() float64 { return float64(d.used.Load()) }),
		gauge("objects", "Objects indexed.", func() float64 { return float64(d.objects.Load()) }),
		gauge("disabled", "1 when a failure of the directory turned the tier off.", func() float64 { return b2f(d.disabled.Load()) }),
		gauge("loading", "1 while the index loads.", func() float64 { return b2f(d.loading.Load()) }),
		gauge("reserved_bytes", "Bytes of room held for spools of streamed records in flight and for the append under way; counted in size beside the segments.", func() float64 { return float64(d.reserved.Load()) }),
		gauge("pinned_bytes", "Bytes of reclaimed (unlinked) segment files still allocated because open Handles read them; counted in size.", func() float64 { return float64(d.pinned.Load()) }),
		gauge("queued_bytes", "Bytes of Puts waiting for the writer.", func() float64 { return float64(d.queued.Load()) }),
		counter("disabled_total", "Times a failure of the directory turned the tier off.", func() float64 { return float64(d.disables.Load()) }),
		counter("enabled_total", "Times the tier came back after a failure, once its directory was usable again.", func() float64 { return float64(d.revivals.Load()) }),
		counter("hits_total", "Gets that found an object.", func() float64 { return float64(d.hits.Load()) }),
		counter("misses_total", "Gets that found nothing (loading and disabled excluded).", func() float64 { return float64(d.misses.Load()) }),
		counter("evictions_total", "Objects dropped when their segment was reclaimed.", func() float64 { return float64(d.evictions.Load()) }),
		counter("reinserted_total", "Objects hit since written, copied forward when their segment was reclaimed.", func() float64 { return float64(d.reinserted.Load()) }),
		counter("corrupt_total", "Records whose checksum did not match on first read; dropped.", func() float64 { return float64(d.corrupt.Load()) }),
		counter("cut_bytes_total", "Bytes of torn or bad segment tails cut off at load.", func() float64 { return float64(d.cut.Load()) }),
		counter("refused_total", "Records not indexed because a ban made during their fill matched.", func() float64 { return float64(d.refused.Load()) }),
	}
	for r := range numRejects {
		o := opts("rejected_total", "Puts dropped before writing, by reason: admission, queue, size, loading, room.")
		o.ConstLabels = prometheus.Labels{"reason": r.String()}
		cs = append(cs, prometheus.NewCounterFunc(prometheus.CounterOpts(o), func() float64 { return float64(d.rejected[r].Load()) }))
	}
	if reg == nil {
		return mt, nil
	}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			mt.unregister()
			return nil, fmt.Errorf("disk: registering metrics: %w", err)
		}
		mt.collectors = append(mt.collectors, c)
	}
	return mt, nil
}

// unregister removes what newMetrics registered, so a tier can be reopened on the same registry.
func (mt *metrics) unregister() {
	for _, c := range mt.collectors {
		mt.reg.Unregister(c)
	}
	mt.collectors = nil
}
