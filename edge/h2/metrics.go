package h2

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Limits hit: the "limit" label of shoal_h2_limits_total.
const (
	limitRapidReset   = "rapid_reset"    // MaxResets per LimitWindow exceeded
	limitControlFlood = "control_flood"  // MaxControlFrames per LimitWindow exceeded
	limitContinuation = "continuation"   // header block too large or in too many frames
	limitStreams      = "streams"        // a stream refused at MaxConcurrentStreams
	limitStall        = "stall"          // a stream or connection window shut for StallTimeout
	limitIdle         = "idle"           // a connection closed after IdleTimeout
	limitBody         = "body"           // request content above MaxBodyBytes
	limitHeaderList   = "header_list"    // request header list above MaxHeaderListSize or MaxHeaderFields (431)
	limitHeaderTime   = "header_timeout" // a header block not ended within HeaderTimeout
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
			Help: "Times a protective limit acted, by limit (rapid_reset, control_flood, continuation, streams, stall, idle, body, header_list, header_timeout).",
		}, []string{"limit"}),
	}
	if reg == nil {
		return m, nil
	}
	// A registry may already hold the collectors of an earlier server (a node starts a new
	// generation on reload): share them, so the counters go on and the gauge stays one gauge.
	var fresh []prometheus.Collector
	fail := func(err error) (*metrics, error) {
		for _, c := range fresh {
			reg.Unregister(c)
		}
		return nil, fmt.Errorf("h2: registering metrics: %w", err)
	}
	var err error
	if m.conns, err = register(reg, m.conns, &fresh); err != nil {
		return fail(err)
	}
	if m.streams, err = register(reg, m.streams, &fresh); err != nil {
		return fail(err)
	}
	if m.rstSent, err = register(reg, m.rstSent, &fresh); err != nil {
		return fail(err)
	}
	if m.rstRecv, err = register(reg, m.rstRecv, &fresh); err != nil {
		return fail(err)
	}
	if m.goawaySent, err = register(reg, m.goawaySent, &fresh); err != nil {
		return fail(err)
	}
	if m.limits, err = register(reg, m.limits, &fresh); err != nil {
		return fail(err)
	}
	return m, nil
}

// register registers c, or returns the collector of the same description already there.
func register[C prometheus.Collector](reg prometheus.Registerer, c C, fresh *[]prometheus.Collector) (C, error) {
	err := reg.Register(c)
	if err == nil {
		*fresh = append(*fresh, c)
		return c, nil
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing, nil
		}
	}
	return c, err
}
