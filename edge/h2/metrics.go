package h2

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Limits hit: the "limit" label of shoal_h2_limits_total.
const (
	limitRapidReset   = "rapid_reset"   // MaxResets per LimitWindow exceeded
	limitControlFlood = "control_flood" // MaxControlFrames per LimitWindow exceeded
	limitContinuation = "continuation"  // header block too large or in too many frames
	limitStreams      = "streams"       // a stream refused at MaxConcurrentStreams
	limitStall        = "stall"         // a stream or connection window shut for StallTimeout
	limitIdle         = "idle"          // a connection closed after IdleTimeout
	limitBody         = "body"          // request content above MaxBodyBytes
	limitHeaderList   = "header_list"   // request header list above MaxHeaderListSize (431)
)

type metrics struct {
	conns      prometheus.Gauge
	streams    prometheus.Counter
	rstSent    *prometheus.CounterVec
	rstRecv    prometheus.Counter
	goawaySent *prometheus.CounterVec
	limits     *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		conns: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "shoal", Subsystem: "h2", Name: "connections",
			Help: "HTTP/2 connections open now, from preface to close.",
		}),
		streams: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "shoal", Subsystem: "h2", Name: "streams_total",
			Help: "Request streams handed to the handler.",
		}),
		rstSent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "shoal", Subsystem: "h2", Name: "rst_sent_total",
			Help: "RST_STREAM frames sent, by error code (RFC 9113 §7).",
		}, []string{"code"}),
		rstRecv: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "shoal", Subsystem: "h2", Name: "rst_received_total",
			Help: "RST_STREAM frames received from clients on open streams.",
		}),
		goawaySent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "shoal", Subsystem: "h2", Name: "goaway_sent_total",
			Help: "GOAWAY frames sent, by error code (RFC 9113 §7).",
		}, []string{"code"}),
		limits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "shoal", Subsystem: "h2", Name: "limits_total",
			Help: "Times a protective limit acted, by limit (rapid_reset, control_flood, continuation, streams, stall, idle, body, header_list).",
		}, []string{"limit"}),
	}
	if reg == nil {
		return m, nil
	}
	var done []prometheus.Collector
	for _, c := range []prometheus.Collector{m.conns, m.streams, m.rstSent, m.rstRecv, m.goawaySent, m.limits} {
		if err := reg.Register(c); err != nil {
			for _, d := range done {
				reg.Unregister(d)
			}
			return nil, fmt.Errorf("h2: registering metrics: %w", err)
		}
		done = append(done, c)
	}
	return m, nil
}
