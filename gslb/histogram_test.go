package gslb

import (
	"math"
	"net"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// answerHistogram exposes what a prometheus.Histogram with the same buckets exposes after the
// same observations: values on a bucket's bound count in that bucket, zero in the first, values
// past the last bound only in +Inf, and observeN(d, n) as n observations of d.
func TestAnswerHistogram_exposesWhatAPrometheusHistogramWould(t *testing.T) {
	buckets := prometheus.ExponentialBuckets(5e-6, 2, 12)
	ours := newAnswerHistogram("h", "help", buckets)
	theirs := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "h", Help: "help", Buckets: buckets})
	type obs struct {
		d time.Duration
		n uint64
	}
	for _, o := range []obs{{0, 1}, {100 * time.Nanosecond, 7}, {5 * time.Microsecond, 1}, {5*time.Microsecond + 1, 2},
		{10 * time.Microsecond, 3}, {3 * time.Millisecond, 1}, {10240 * time.Microsecond, 1}, {11 * time.Millisecond, 2},
		{2 * time.Second, 1}} {
		ours.observeN(o.d, o.n)
		for range o.n {
			theirs.Observe(o.d.Seconds())
		}
	}
	ours.Observe(20e-6)
	theirs.Observe(20e-6)
	got, want := histogramOf(t, ours), histogramOf(t, theirs)
	if got.GetSampleCount() != want.GetSampleCount() || math.Abs(got.GetSampleSum()-want.GetSampleSum()) > 1e-9 {
		t.Errorf("count %d sum %g, want %d and %g", got.GetSampleCount(), got.GetSampleSum(), want.GetSampleCount(), want.GetSampleSum())
	}
	if len(got.GetBucket()) != len(want.GetBucket()) {
		t.Fatalf("%d buckets, want %d", len(got.GetBucket()), len(want.GetBucket()))
	}
	for i, b := range want.GetBucket() {
		g := got.GetBucket()[i]
		if g.GetUpperBound() != b.GetUpperBound() || g.GetCumulativeCount() != b.GetCumulativeCount() {
			t.Errorf("bucket %d: le=%g count %d, want le=%g count %d", i, g.GetUpperBound(), g.GetCumulativeCount(),
				b.GetUpperBound(), b.GetCumulativeCount())
		}
	}
}

func histogramOf(t *testing.T, c prometheus.Collector) *dto.Histogram {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil || len(mfs) != 1 || len(mfs[0].GetMetric()) != 1 {
		t.Fatalf("gather: %v, %d families", err, len(mfs))
	}
	return mfs[0].GetMetric()[0].GetHistogram()
}

// A UDP reader counts the answers of a batch once per batch, before it sends their replies:
// every answer is in shoal_gslb_queries_total and shoal_gslb_answer_seconds once the client
// has its reply, for both kinds of reader, also when the queries arrive together.
func TestUDPLoop_countsEveryAnswerOfABatch(t *testing.T) {
	for _, kind := range udpReaderKinds {
		t.Run(kind.name, func(t *testing.T) {
			s, reg := startServerBlocking(t, testConfig(), testEdges(), kind.blocking)
			conn, err := net.Dial("udp", mustUDP(s))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			const n = 40
			for i := range n {
				m := question("www."+zoneName, dns.TypeA)
				m.Id = uint16(i + 1)
				wire, err := m.Pack()
				if err != nil {
					t.Fatal(err)
				}
				if _, err := conn.Write(wire); err != nil {
					t.Fatal(err)
				}
			}
			conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			buf := make([]byte, 1500)
			for range n {
				if _, err := conn.Read(buf); err != nil {
					t.Fatalf("reply: %v", err)
				}
			}
			if got := counterValue(t, reg, "shoal_gslb_queries_total", "qtype", "A", "rcode", "NOERROR"); got != n {
				t.Errorf("queries_total{A,NOERROR} %v, want %d", got, n)
			}
			if got := histogramOf(t, s.metrics.latency).GetSampleCount(); got != n {
				t.Errorf("answer_seconds count %d, want %d", got, n)
			}
		})
	}
}
