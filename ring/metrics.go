package ring

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	members          *prometheus.GaugeVec
	changes          prometheus.Counter
	broadcasts       prometheus.Counter
	broadcastDropped prometheus.Counter
	nameConflicts    prometheus.Counter
}

// newMetrics registers the ring's metrics on reg; queued is how many broadcasts wait in the
// gossip queue, read at each scrape.
func newMetrics(reg prometheus.Registerer, queued func() int) (*metrics, error) {
	m := &metrics{
		members: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "shoal", Subsystem: "ring", Name: "members",
			Help: "Live cluster members this node sees, including itself, by state (alive, draining, notready, leaving).",
		}, []string{"state"}),
		changes: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "shoal", Subsystem: "ring", Name: "changes_total",
			Help: "Membership or metadata changes that rebuilt the ring.",
		}),
		broadcasts: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "shoal", Subsystem: "ring", Name: "broadcasts_total",
			Help: "Cluster broadcasts queued for gossip by this node.",
		}),
		broadcastDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "shoal", Subsystem: "ring", Name: "broadcasts_dropped_total",
			Help: "Cluster broadcasts refused because they exceed MaxBroadcastSize.",
		}),
		nameConflicts: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "shoal", Subsystem: "ring", Name: "name_conflicts_total",
			Help: "Alive messages refused because another address claimed a member's name (this node's included): two nodes share a node.name.",
		}),
	}
	if reg == nil {
		return m, nil
	}
	// A test (or an operator) that must know a purge's gossip is over waits for this to reach
	// zero rather than for a guessed retransmit time.
	queue := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: "shoal", Subsystem: "ring", Name: "broadcasts_queued",
		Help: "Cluster broadcasts still queued for gossip retransmission on this node.",
	}, func() float64 { return float64(queued()) })
	for _, c := range []prometheus.Collector{m.members, m.changes, m.broadcasts, m.broadcastDropped, m.nameConflicts, queue} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register metrics: %w", err)
		}
	}
	return m, nil
}

// setMembers publishes the count of members per state; every known state is set, so a state
// that drops to zero reads 0 rather than keeping its last value.
func (m *metrics) setMembers(members []Member) {
	counts := map[State]int{}
	for _, mem := range members {
		counts[mem.State]++
	}
	for _, s := range stateCodes {
		m.members.WithLabelValues(string(s)).Set(float64(counts[s]))
	}
}
