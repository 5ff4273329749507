package gslb

import (
	"errors"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	queries   *prometheus.CounterVec
	latency   *answerHistogram
	failOpen  prometheus.Counter
	truncated prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		queries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shoal_gslb_queries_total",
			Help: "DNS queries answered, by query type, response code and client region (none: no region matched or not an address query).",
		}, []string{"qtype", "rcode", "region"}),
		latency: newAnswerHistogram("shoal_gslb_answer_seconds",
			"Time to build an answer, from receiving the query to handing the reply to the socket write.",
			prometheus.ExponentialBuckets(5e-6, 2, 12)),
		failOpen: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "shoal_gslb_fail_open_total",
			Help: "Address answers given with every configured edge because no edge was healthy.",
		}),
		truncated: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "shoal_gslb_truncated_total",
			Help: "UDP answers sent truncated (TC set) because they exceeded the client's buffer.",
		}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.queries, m.latency, m.failOpen, m.truncated} {
		if err := reg.Register(c); err != nil {
			return nil, errors.Join(errors.New("register metrics"), err)
		}
	}
	return m, nil
}

// knownTypes bounds the qtype label: anything else is counted as "other", so a scan of
// random types cannot blow up the series count.
var knownTypes = map[uint16]string{
	dns.TypeA: "A", dns.TypeAAAA: "AAAA", dns.TypeNS: "NS", dns.TypeSOA: "SOA", dns.TypeANY: "ANY",
	dns.TypeCNAME: "CNAME", dns.TypeMX: "MX", dns.TypeTXT: "TXT", dns.TypeSRV: "SRV",
	dns.TypeHTTPS: "HTTPS", dns.TypeSVCB: "SVCB", dns.TypeCAA: "CAA", dns.TypeDS: "DS",
	dns.TypeDNSKEY: "DNSKEY", dns.TypePTR: "PTR", dns.TypeAXFR: "AXFR", dns.TypeIXFR: "IXFR",
}

func (m *metrics) observe(qtype uint16, rcode int, region string, took time.Duration) {
	qt, ok := knownTypes[qtype]
	if !ok {
		qt = "other"
	}
	rc, ok := dns.RcodeToString[rcode]
	if !ok {
		rc = "other"
	}
	m.queries.WithLabelValues(qt, rc, region).Inc()
	m.latency.Observe(took.Seconds())
}
