package gslb

import (
	"bytes"
	"testing"

	"github.com/miekg/dns"
)

func TestServer_ANYIsMinimal(t *testing.T) {
	s, _ := startServer(t, testConfig(), testEdges())
	for _, qname := range []string{zoneName, "www." + zoneName} {
		r := exchange(t, s, "udp", question(qname, dns.TypeANY))
		if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 {
			t.Fatalf("ANY %s: rcode %s, %d answers; want one record", qname, dns.RcodeToString[r.Rcode], len(r.Answer))
		}
		if h, ok := r.Answer[0].(*dns.HINFO); !ok || h.Cpu != "RFC8482" {
			t.Errorf("ANY %s: %v, want HINFO \"RFC8482\"", qname, r.Answer[0])
		}
	}
}

func TestServer_Opcodes(t *testing.T) {
	s, reg := startServer(t, testConfig(), testEdges())
	for _, op := range []int{dns.OpcodeNotify, dns.OpcodeUpdate, dns.OpcodeStatus, dns.OpcodeIQuery} {
		m := question(zoneName, dns.TypeSOA)
		m.Opcode = op
		r := exchange(t, s, "udp", m)
		if r.Rcode != dns.RcodeNotImplemented || r.Opcode != op {
			t.Errorf("opcode %s: rcode %s opcode %d, want NOTIMP with the opcode echoed", dns.OpcodeToString[op], dns.RcodeToString[r.Rcode], r.Opcode)
		}
	}
	if got := counterValue(t, reg, "shoal_gslb_queries_total", "rcode", "NOTIMP"); got != 4 {
		t.Errorf("queries_total{rcode=NOTIMP} %v, want 4", got)
	}
}

func TestServer_FormErr(t *testing.T) {
	s, _ := startServer(t, testConfig(), testEdges())
	tests := []struct {
		name  string
		build func() *dns.Msg
	}{
		{"no question", func() *dns.Msg {
			m := question(zoneName, dns.TypeSOA)
			m.Question = nil
			return m
		}},
		{"two questions", func() *dns.Msg {
			m := question(zoneName, dns.TypeSOA)
			m.Question = append(m.Question, m.Question[0])
			return m
		}},
		{"two OPT records", func() *dns.Msg {
			m := withEDNS(question(zoneName, dns.TypeSOA), 1232)
			m.Extra = append(m.Extra, &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT}})
			return m
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := exchange(t, s, "tcp", tt.build())
			if r.Rcode != dns.RcodeFormatError || len(r.Answer) != 0 {
				t.Errorf("rcode %s, %d answers; want FORMERR", dns.RcodeToString[r.Rcode], len(r.Answer))
			}
		})
	}
}

func TestServer_FormErrOnBadClientSubnet(t *testing.T) {
	s, _ := newTestServer(t, testConfig(), testEdges())
	// miekg/dns masks the address when packing, so set SOURCE PREFIX-LENGTH 24 -> 16 by hand:
	// the third address octet is then a bit set beyond the prefix (RFC 7871 section 6).
	wire, err := withECS(question("www."+zoneName, dns.TypeA), "10.1.2.0/24").Pack()
	if err != nil {
		t.Fatal(err)
	}
	option := []byte{0, 8, 0, 7, 0, 1, 24, 0, 10, 1, 2}
	at := bytes.Index(wire, option)
	if at < 0 {
		t.Fatalf("ECS option %x not in %x", option, wire)
	}
	wire[at+6] = 16
	m := new(dns.Msg)
	if err := m.Unpack(wire); err != nil {
		t.Fatal(err)
	}
	w := newFakeWriter("192.0.2.53:53")
	s.ServeDNS(w, m)
	if w.written == nil || w.written.Rcode != dns.RcodeFormatError || len(w.written.Answer) != 0 {
		t.Errorf("reply %v, want FORMERR", w.written)
	}
}

func TestServer_CasePreserved(t *testing.T) {
	s, _ := startServer(t, testConfig(), testEdges())
	t.Run("answer", func(t *testing.T) {
		r := exchange(t, s, "udp", question("wWw.CdN.eXaMpLe.CoM.", dns.TypeA))
		if len(r.Answer) == 0 {
			t.Fatalf("no answer for a mixed-case name")
		}
		for _, rr := range r.Answer {
			if rr.Header().Name != "wWw.CdN.eXaMpLe.CoM." {
				t.Errorf("owner %q, want the query's spelling", rr.Header().Name)
			}
		}
	})
	t.Run("negative", func(t *testing.T) {
		r := exchange(t, s, "udp", question("NoPe.CdN.eXaMpLe.CoM.", dns.TypeA))
		if r.Rcode != dns.RcodeNameError || len(r.Ns) != 1 || r.Ns[0].Header().Name != "CdN.eXaMpLe.CoM." {
			t.Errorf("rcode %s authority %v, want NXDOMAIN with the SOA owned by the query's spelling of the apex", dns.RcodeToString[r.Rcode], r.Ns)
		}
	})
}

func TestServer_DropsResponses(t *testing.T) {
	s, _ := newTestServer(t, testConfig(), testEdges())
	m := question("www."+zoneName, dns.TypeA)
	m.Response = true
	w := newFakeWriter("192.0.2.53:53")
	s.ServeDNS(w, m)
	if w.written != nil {
		t.Errorf("answered a response: %v", w.written)
	}
}
