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
	opDetect   = "detect"
)

type metrics struct {
	held          *prometheus.GaugeVec
	transitions   *prometheus.CounterVec
	announcements prometheus.Counter
	errors        *prometheus.CounterVec

	detectorSent, detectorReceived *prometheus.CounterVec
	detectorRefused                prometheus.Counter
	detectorSuspicions             prometheus.Counter
	detectorTakeovers              prometheus.Counter
	detectorFences                 prometheus.Counter
	detectorFenced                 prometheus.Gauge
	detectorWaiting                prometheus.Gauge
	detectorUnanswered             prometheus.Counter
	detectorStale                  prometheus.Counter
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
			Help: "Failed address additions (add), removals (del), announcements (announce) and detector sends (detect).",
		}, []string{"op"}),
		detectorSent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "shoal", Subsystem: "vip", Name: "detector_sent_total",
			Help: "Fast failure detector datagrams sent, by kind (ping, pong, probe, verdict).",
		}, []string{"kind"}),
		detectorReceived: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "shoal", Subsystem: "vip", Name: "detector_received_total",
			Help: "Fast failure detector datagrams received, by kind.",
		}, []string{"kind"}),
		detectorRefused: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "shoal", Subsystem: "vip", Name: "detector_refused_total",
			Help: "Datagrams refused as malformed by the fast failure detector.",
		}),
		detectorSuspicions: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "shoal", Subsystem: "vip", Name: "detector_suspicions_total",
			Help: "Confirmations started because a holder this node is next in line for fell silent.",
		}),
		detectorTakeovers: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "shoal", Subsystem: "vip", Name: "detector_takeovers_total",
			Help: "Holders a majority confirmed unreachable, whose VIPs this node took over.",
		}),
		detectorFences: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "shoal", Subsystem: "vip", Name: "detector_fences_total",
			Help: "Times this node found no majority reachable and released every VIP.",
		}),
		detectorFenced: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "shoal", Subsystem: "vip", Name: "detector_fenced",
			Help: "1 while this node, cut off from a majority, holds no VIP.",
		}),
		detectorWaiting: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "shoal", Subsystem: "vip", Name: "detector_waiting",
			Help: "VIPs this node should hold but has not added yet: a peer still holds them, or has not said it does not.",
		}),
		detectorUnanswered: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "shoal", Subsystem: "vip", Name: "detector_unanswered_total",
			Help: "Peers an acquisition stopped waiting for because they did not say what they hold within the bound.",
		}),
		detectorStale: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "shoal", Subsystem: "vip", Name: "detector_stale_total",
			Help: "Pings and pongs dropped because a later one of the same sender had arrived first.",
		}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.held, m.transitions, m.announcements, m.errors,
		m.detectorSent, m.detectorReceived, m.detectorRefused, m.detectorSuspicions, m.detectorTakeovers,
		m.detectorFences, m.detectorFenced, m.detectorWaiting, m.detectorUnanswered, m.detectorStale} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("vip: register metrics: %w", err)
		}
	}
	return m, nil
}
