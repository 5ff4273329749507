package gslb

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// sortedRRs renders a section sorted, so
// that replies that differ only in rotation compare equal.
func sortedRRs(rrs []dns.RR) []string {
	var out []string
	for _, rr := range rrs {
		out = append(out, rr.String())
	}
	slices.Sort(out)
	return out
}

// Replies from the UDP loop, first computed and then from the reply cache, say what ServeDNS
// says for the same query from the same client, up to the order of the edges.
func TestReplyCache_repliesMatchServeDNS(t *testing.T) {
	s, _ := startServer(t, testConfig(), testEdges())
	ref, _ := newTestServer(t, testConfig(), testEdges())
	queries := []struct {
		name string
		m    func() *dns.Msg
	}{
		{"A from the resolver", func() *dns.Msg { return question("www."+zoneName, dns.TypeA) }},
		{"A with ECS", func() *dns.Msg { return withECS(question("www."+zoneName, dns.TypeA), "10.1.2.0/24") }},
		{"AAAA with ECS", func() *dns.Msg { return withECS(question("www."+zoneName, dns.TypeAAAA), "20.1.0.0/16") }},
		{"0x20 spelling", func() *dns.Msg { return question("WwW.cDn.ExAmPlE.cOm.", dns.TypeA) }},
		{"NS with glue", func() *dns.Msg { return question(zoneName, dns.TypeNS) }},
		{"NXDOMAIN", func() *dns.Msg { return question("nope."+zoneName, dns.TypeA) }},
		{"EDNS 512 with DO", func() *dns.Msg {
			m := withEDNS(question("www."+zoneName, dns.TypeA), 512)
			m.IsEdns0().SetDo()
			return m
		}},
		{"REFUSED", func() *dns.Msg { return question("example.org.", dns.TypeA) }},
	}
	for _, q := range queries {
		t.Run(q.name, func(t *testing.T) {
			w := newFakeWriter("127.0.0.1:5353")
			ref.ServeDNS(w, q.m())
			want := w.written
			for i := range 3 { // a miss, then hits
				got := exchange(t, s, "udp", q.m())
				if got.Rcode != want.Rcode || got.Authoritative != want.Authoritative || got.Truncated != want.Truncated ||
					!slices.Equal(sortedRRs(got.Answer), sortedRRs(want.Answer)) ||
					!slices.Equal(sortedRRs(got.Ns), sortedRRs(want.Ns)) ||
					!slices.Equal(sortedRRs(got.Extra), sortedRRs(want.Extra)) {
					t.Fatalf("query %d over UDP:\n%v\nServeDNS:\n%v", i+1, got, want)
				}
			}
		})
	}
}

func TestReplyCache_hitsAreCounted(t *testing.T) {
	s, reg := startServer(t, testConfig(), testEdges())
	for range 5 {
		exchange(t, s, "udp", withECS(question("www."+zoneName, dns.TypeA), "10.1.2.0/24"))
	}
	if got := counterValue(t, reg, "shoal_gslb_queries_total", "qtype", "A", "rcode", "NOERROR", "region", "eu"); got != 5 {
		t.Errorf("queries_total{A,NOERROR,eu} = %v, want 5", got)
	}
}

func TestReplyCache_newEdgesReplaceCachedReplies(t *testing.T) {
	s, _ := startServer(t, testConfig(), testEdges())
	m := func() *dns.Msg { return withECS(question("www."+zoneName, dns.TypeA), "10.1.2.0/24") }
	before := strings.Join(answerAddrs(exchange(t, s, "udp", m())), ",")
	exchange(t, s, "udp", m())
	s.SetEdges([]Edge{edge("eu-9", "eu", 0, true, "192.0.2.99")})
	if got := answerAddrs(exchange(t, s, "udp", m())); !slices.Equal(got, []string{"192.0.2.99"}) {
		t.Errorf("after SetEdges: %v, want [192.0.2.99] (before: %s)", got, before)
	}
}

// The cache keeps the per-query rotation: one client sees both orders of its two edges.
func TestReplyCache_keepsRotation(t *testing.T) {
	s, _ := startServer(t, testConfig(), testEdges())
	firsts := map[string]bool{}
	for range 8 {
		r := exchange(t, s, "udp", withECS(question("www."+zoneName, dns.TypeA), "10.1.2.0/24"))
		if len(r.Answer) != 2 {
			t.Fatalf("answer %v, want the two eu edges", r.Answer)
		}
		firsts[r.Answer[0].(*dns.A).A.String()] = true
	}
	if len(firsts) != 2 {
		t.Errorf("first address over 8 queries: %v, want both eu edges in turn", firsts)
	}
}

func TestReplyCache_period(t *testing.T) {
	tests := []struct {
		answers int
		want    uint64
	}{{1, 1}, {2, 2}, {3, 6}, {4, 12}, {8, 840}, {12, 27720}, {13, 0}}
	for _, tt := range tests {
		if got := newReplyCache(tt.answers).period; got != tt.want {
			t.Errorf("answers %d: period %d, want %d", tt.answers, got, tt.want)
		}
	}
}

// A stream of queries that never repeat (a random-subdomain flood) stops filling the reply
// cache after one window: a reply kept costs two copies and is never asked for again. Queries
// that then start repeating are still found by the sample and cached again in full, so the
// stream's replies come from the cache once more.
func TestReplyCache_newQueriesAreSampledRepeatsStillCached(t *testing.T) {
	s, _ := newTestServer(t, testConfig(), testEdges())
	r := newDiscardReader(s)
	from := netip.MustParseAddrPort("10.1.2.3:5353")
	serveAll := func(wires [][]byte) {
		for _, w := range wires {
			r.serve(w, from, netip.Addr{}, 0)
			if r.nout == udpBatch {
				r.flush()
			}
		}
	}
	flood := make([][]byte, 2*replyCacheEntries)
	for i := range flood {
		flood[i] = pack(t, question(fmt.Sprintf("r%d.%s", i, zoneName), dns.TypeA))
	}
	serveAll(flood)
	// At most one miss in 16 kept over the second window (cacheSample), with slack.
	if n := len(r.cache.entries); n > 2*replyCacheEntries/16 {
		t.Errorf("after %d new queries the cache keeps %d replies, want at most %d (sampled)",
			len(flood), n, 2*replyCacheEntries/16)
	}
	repeated := flood[:100]
	for range 200 {
		serveAll(repeated)
	}
	r.w.remote = from
	for i, w := range repeated {
		if _, ok := r.cache.entries[string(r.cache.lookupKey(w, &r.w, 0))]; !ok {
			t.Fatalf("repeated query %d of %d is not in the cache after 200 passes", i, len(repeated))
		}
	}
}

// newDiscardReader is a UDP reader of s without a socket: its replies go nowhere.
func newDiscardReader(s *Server) *udpReader {
	r := &udpReader{s: s, wr: discardWriter{}, bufs: make([][]byte, udpBatch), to: make([]netip.AddrPort, udpBatch),
		cache: newReplyCache(s.zone.answers), fast: newFastScratch(s.zone)}
	for i := range r.bufs {
		r.bufs[i] = make([]byte, 0, maxQuerySize)
	}
	r.w = udpWriter{reader: r, out: make([]byte, 0, maxQuerySize)}
	return r
}
