package edge

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/shoal-cdn/shoal/origin"
)

// statsSnapshot is what /stats.json reports and /stats renders: one reading of the node's
// cache and of every origin pool. Each pool is consistent per server (origin.Pool.Snapshot);
// the snapshot as a whole is not taken atomically.
type statsSnapshot struct {
	Node  string                `json:"node"`
	Time  time.Time             `json:"time"`
	Cache cacheStats            `json:"cache"`
	Pools []origin.PoolSnapshot `json:"pools"`
	// Routes are the routes in match order with their operator policy (issue 17).
	Routes []routeStats `json:"routes"`
	// Maintenance is error_pages.maintenance: every request is answered 503.
	Maintenance bool `json:"maintenance"`
	// Nodes are the cluster's members this node sees, itself included (statsnodes.go).
	Nodes []nodeStats `json:"nodes"`
}

// cacheStats are the cache counters since the node started. Hits and misses count client
// requests on cache routes (shoal_edge_cache_{hits,misses}_total), not store lookups.
type cacheStats struct {
	Hits     uint64  `json:"hits"`
	Misses   uint64  `json:"misses"`
	HitRatio float64 `json:"hit_ratio"` // hits / (hits + misses); 0 before the first request
	Objects  int64   `json:"objects"`
	Bytes    int64   `json:"bytes"`
	// Disk is the disk tier (cache.disk); absent without one.
	Disk *diskStats `json:"disk,omitempty"`
}

func (n *Node) stats() statsSnapshot {
	rt := n.rt.Load()
	store := n.store.Stats()
	s := statsSnapshot{
		Node: n.name,
		Time: n.now(),
		Cache: cacheStats{
			Hits:    counterValue(n.metrics.hits),
			Misses:  counterValue(n.metrics.misses),
			Objects: store.Objects,
			Bytes:   store.Bytes,
			Disk:    n.diskStats(),
		},
		Pools: []origin.PoolSnapshot{},
	}
	if total := s.Cache.Hits + s.Cache.Misses; total > 0 {
		s.Cache.HitRatio = float64(s.Cache.Hits) / float64(total)
	}
	for _, name := range sortedPoolNames(rt) {
		s.Pools = append(s.Pools, rt.pools[name].Snapshot())
	}
	s.Routes, s.Maintenance = routesStats(rt), rt.pages.Maintenance
	s.Nodes = n.nodesStats()
	return s
}

// counterValue reads a counter the node owns. Write cannot fail for a plain counter; a
// failure would only make the page show 0.
func counterValue(c prometheus.Counter) uint64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		return 0
	}
	return uint64(m.GetCounter().GetValue())
}

func (n *Node) statsJSON(w http.ResponseWriter, r *http.Request) {
	body, err := json.MarshalIndent(n.stats(), "", "  ")
	if err != nil {
		n.log.Error("stats: encode json", "err", err)
		http.Error(w, "stats: encoding failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(append(body, '\n'))
}

// statsPage renders the snapshot as a self-refreshing HTML page. It renders into a buffer
// first so that a template error becomes a 500 rather than half a page.
func (n *Node) statsPage(w http.ResponseWriter, r *http.Request) {
	var buf bytes.Buffer
	if err := statsTemplate.Execute(&buf, newStatsView(n.stats())); err != nil {
		n.log.Error("stats: render page", "err", err)
		http.Error(w, "stats: rendering failed", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	// The page is self-contained: no script, no external asset, inline style only.
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	h.Set("X-Content-Type-Options", "nosniff")
	w.Write(buf.Bytes())
}

func sortedPoolNames(rt *settings) []string {
	names := make([]string, 0, len(rt.pools))
	for name := range rt.pools {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}
