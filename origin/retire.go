package origin

import "github.com/prometheus/client_golang/prometheus"

// Retire closes p, a pool a reload replaced, and removes the metric series of every server
// of p that current, the pool of the same name now in force (nil when the pool is gone),
// does not list: left alone they stay at their last values until the process ends
// (shoal_origin_server_up 1 for a server the node no longer has). Call it once no request
// can still hold p. A server current lists keeps its series, which the pools share.
func (p *Pool) Retire(current *Pool) {
	p.Close()
	if p.metrics == nil {
		return
	}
	if current == nil {
		p.metrics.forget(prometheus.Labels{"pool": p.cfg.name})
		return
	}
	kept := make(map[string]bool, len(current.servers))
	for _, s := range current.servers {
		kept[s.label] = true
	}
	for _, s := range p.servers {
		if !kept[s.label] {
			p.metrics.forget(prometheus.Labels{"pool": p.cfg.name, "server": s.label})
		}
	}
}

// forget deletes the series whose labels include match, from every vector that has them.
func (m *metrics) forget(match prometheus.Labels) {
	_, byServer := match["server"]
	for _, v := range []interface {
		DeletePartialMatch(prometheus.Labels) int
	}{m.requests, m.errors, m.up, m.active, m.latency, m.checks, m.ejections, m.staleRetries} {
		v.DeletePartialMatch(match)
	}
	if !byServer {
		for _, v := range []interface {
			DeletePartialMatch(prometheus.Labels) int
		}{m.retries, m.queueTimeout, m.queued, m.allEjected} {
			v.DeletePartialMatch(match)
		}
	}
}
