package gslb

import (
	"testing"

	"github.com/miekg/dns"
)

// A query with records in its answer or authority section got NOERROR and an answer; BIND and
// gdnsd answer FORMERR (RFC 1035 section 4.1.1). The EDNS OPT in the additional section is
// the one record a query carries, and a FORMERR to an EDNS query still carries our OPT.
func TestServer_queryWithAnswerOrAuthorityIsFormErr(t *testing.T) {
	s, _ := startServer(t, testConfig(), testEdges())
	name := "www." + zoneName
	a := &dns.A{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: []byte{192, 0, 2, 1}}
	ns := &dns.NS{Hdr: dns.RR_Header{Name: zoneName, Rrtype: dns.TypeNS, Class: dns.ClassINET, Ttl: 60}, Ns: "ns.example.net."}
	soa := &dns.SOA{Hdr: dns.RR_Header{Name: zoneName, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: 60}, Ns: "ns.example.net.", Mbox: "h.example.net."}
	for _, c := range []struct {
		name  string
		build func(m *dns.Msg)
		edns  bool
		want  int
	}{
		{"plain", func(*dns.Msg) {}, false, dns.RcodeSuccess},
		{"EDNS OPT only", func(*dns.Msg) {}, true, dns.RcodeSuccess},
		{"ANCOUNT 1", func(m *dns.Msg) { m.Answer = []dns.RR{a} }, false, dns.RcodeFormatError},
		{"NSCOUNT 1", func(m *dns.Msg) { m.Ns = []dns.RR{ns} }, false, dns.RcodeFormatError},
		{"NSCOUNT 1 SOA", func(m *dns.Msg) { m.Ns = []dns.RR{soa} }, false, dns.RcodeFormatError},
		{"ANCOUNT 1 with EDNS", func(m *dns.Msg) { m.Answer = []dns.RR{a} }, true, dns.RcodeFormatError},
		{"both with EDNS", func(m *dns.Msg) { m.Answer = []dns.RR{a}; m.Ns = []dns.RR{ns} }, true, dns.RcodeFormatError},
	} {
		for _, network := range []string{"udp", "tcp"} {
			m := question(name, dns.TypeA)
			c.build(m)
			if c.edns {
				m.SetEdns0(1232, false)
			}
			reply := exchange(t, s, network, m)
			if reply.Rcode != c.want {
				t.Errorf("%s over %s: %s, want %s", c.name, network, dns.RcodeToString[reply.Rcode], dns.RcodeToString[c.want])
			}
			if c.want == dns.RcodeFormatError && len(reply.Answer) != 0 {
				t.Errorf("%s over %s: FORMERR with %d answers", c.name, network, len(reply.Answer))
			}
			if c.edns && reply.IsEdns0() == nil {
				t.Errorf("%s over %s: an EDNS query's reply without OPT", c.name, network)
			}
		}
	}
}
