package vip

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Values of the action label of shoal_vip_transitions_total and the op label of
// shoal_vip_errors_total.
const (
	actionAcquire = "acquire"
	actionRelease = "release"

	opAdd      = "add"
	opDel      = "del"
	opAnnounce = "announce"
)

type metrics struct {
	held          *prometheus.GaugeVec
	transitions   *prometheus.CounterVec
	announcements prometheus.Counter
	errors        *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		held: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "shoal", Subsystem: "vip", Name: "held",
			Help: "1 while this node holds the VIP (the address is on the interface), else 0.",
		}, []string{"vip"}),
		transitions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "shoal", Subsystem: "vip", Name: "transitions_total",
			Help: "VIPs this node acquired (address added) or released (address removed).",
		}, []string{"vip", "action"}),
		announcements: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "shoal", Subsystem: "vip", Name: "announcements_total",
			Help: "Gratuitous ARP and unsolicited neighbour advertisement packets sent.",
		}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "shoal", Subsystem: "vip", Name: "errors_total",
			Help: "Failed address additions (add), removals (del) and announcements (announce).",
		}, []string{"op"}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.held, m.transitions, m.announcements, m.errors} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("vip: register metrics: %w", err)
		}
	}
	return m, nil
}
