package gslb

import (
	"fmt"
	"slices"
	"testing"

	"github.com/miekg/dns"
)

func TestServer_SOA(t *testing.T) {
	s, _ := startServer(t, testConfig(), testEdges())
	for _, network := range []string{"udp", "tcp"} {
		t.Run(network, func(t *testing.T) {
			r := exchange(t, s, network, question(zoneName, dns.TypeSOA))
			if r.Rcode != dns.RcodeSuccess || !r.Authoritative || len(r.Answer) != 1 {
				t.Fatalf("rcode %s aa %v answers %d, want NOERROR, AA, one SOA", dns.RcodeToString[r.Rcode], r.Authoritative, len(r.Answer))
			}
			soa, ok := r.Answer[0].(*dns.SOA)
			if !ok {
				t.Fatalf("answer %v is not a SOA", r.Answer[0])
			}
			if soa.Serial == 0 || soa.Serial != s.zone.serial || soa.Minttl != negativeTTL || soa.Ns != "ns1."+zoneName {
				t.Errorf("SOA %v: want serial %d, minimum %d, mname ns1.%s", soa, s.zone.serial, negativeTTL, zoneName)
			}
		})
	}
}

func TestServer_NSWithGlue(t *testing.T) {
	s, _ := startServer(t, testConfig(), testEdges())
	r := exchange(t, s, "udp", withEDNS(question(zoneName, dns.TypeNS), 1232))
	var ns []string
	for _, rr := range r.Answer {
		ns = append(ns, rr.(*dns.NS).Ns)
	}
	want := []string{"ns1." + zoneName, "ns2." + zoneName, "ns3." + zoneName, "ns4." + zoneName}
	if !slices.Equal(ns, want) {
		t.Fatalf("NS %v, want one per edge up to four: %v", ns, want)
	}
	// Edges are dealt to NS hosts in name order: ap-1, eu-1, eu-2, us-1.
	glue := map[string][]string{}
	for _, rr := range r.Extra {
		switch rr := rr.(type) {
		case *dns.A:
			glue[rr.Hdr.Name] = append(glue[rr.Hdr.Name], rr.A.String())
		case *dns.AAAA:
			glue[rr.Hdr.Name] = append(glue[rr.Hdr.Name], rr.AAAA.String())
		}
	}
	wantGlue := map[string][]string{
		"ns1." + zoneName: {"203.0.113.1", "2001:db8::a1"},
		"ns2." + zoneName: {"192.0.2.1", "2001:db8::1"},
		"ns3." + zoneName: {"192.0.2.2", "2001:db8::2"},
		"ns4." + zoneName: {"198.51.100.1"},
	}
	for name, addrs := range wantGlue {
		if !slices.Equal(glue[name], addrs) {
			t.Errorf("glue for %s: %v, want %v", name, glue[name], addrs)
		}
	}
	// The NS hosts are names of the zone too.
	r = exchange(t, s, "udp", question("ns2."+zoneName, dns.TypeA))
	if got := answerAddrs(r); !slices.Equal(got, []string{"192.0.2.1"}) || !r.Authoritative {
		t.Errorf("A ns2: %v aa %v, want [192.0.2.1] authoritative", got, r.Authoritative)
	}
}

func TestServer_NSCountFollowsEdges(t *testing.T) {
	s, _ := newTestServer(t, testConfig(), testEdges()[:2])
	w := newFakeWriter("127.0.0.1:5353")
	s.ServeDNS(w, question(zoneName, dns.TypeNS))
	if len(w.written.Answer) != 2 {
		t.Errorf("NS with two edges: %d records, want 2", len(w.written.Answer))
	}
	cfg := testConfig()
	cfg.NS = []string{"a.ns", "b.ns", "c.ns"}
	s, _ = newTestServer(t, cfg, testEdges()[:1])
	s.ServeDNS(w, question(zoneName, dns.TypeNS))
	if len(w.written.Answer) != 3 || w.written.Answer[0].(*dns.NS).Ns != "a.ns."+zoneName {
		t.Errorf("configured NS: %v, want a.ns, b.ns, c.ns in the zone", w.written.Answer)
	}
}

func TestServer_AddressAnswers(t *testing.T) {
	s, _ := startServer(t, testConfig(), testEdges())
	tests := []struct {
		name, qname string
		qtype       uint16
		ecs         string
		want        []string
	}{
		{"A from eu", "www." + zoneName, dns.TypeA, "10.9.8.0/24", []string{"192.0.2.1", "192.0.2.2"}},
		{"AAAA from eu", "www." + zoneName, dns.TypeAAAA, "10.9.8.0/24", []string{"2001:db8::1", "2001:db8::2"}},
		{"A at apex", zoneName, dns.TypeA, "20.0.0.0/24", []string{"198.51.100.1", "198.51.100.2"}},
		{"A at deeper name", "img.eu." + zoneName, dns.TypeA, "20.0.0.0/24", []string{"198.51.100.1", "198.51.100.2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := exchange(t, s, "udp", withECS(question(tt.qname, tt.qtype), tt.ecs))
			if got := answerAddrs(r); !slices.Equal(got, tt.want) || !r.Authoritative {
				t.Errorf("got %v aa %v, want %v authoritative", got, r.Authoritative, tt.want)
			}
			for _, rr := range r.Answer {
				if rr.Header().Ttl != 30 {
					t.Errorf("TTL %d, want the configured 30", rr.Header().Ttl)
				}
			}
		})
	}
}

func TestServer_NegativeAnswers(t *testing.T) {
	s, _ := startServer(t, testConfig(), testEdges())
	tests := []struct {
		name, qname string
		qtype       uint16
		class       uint16
		rcode       int
		soa         bool // SOA in authority, with the negative TTL
	}{
		{"NXDOMAIN", "nope." + zoneName, dns.TypeA, dns.ClassINET, dns.RcodeNameError, true},
		{"NXDOMAIN below a name", "x.www." + zoneName, dns.TypeA, dns.ClassINET, dns.RcodeNameError, true},
		{"NODATA other type", "www." + zoneName, dns.TypeMX, dns.ClassINET, dns.RcodeSuccess, true},
		{"NODATA empty non-terminal", "eu." + zoneName, dns.TypeA, dns.ClassINET, dns.RcodeSuccess, true},
		{"NODATA SOA below apex", "www." + zoneName, dns.TypeSOA, dns.ClassINET, dns.RcodeSuccess, true},
		{"REFUSED other zone", "www.example.org.", dns.TypeA, dns.ClassINET, dns.RcodeRefused, false},
		{"REFUSED parent", "example.com.", dns.TypeSOA, dns.ClassINET, dns.RcodeRefused, false},
		{"REFUSED chaos other name", "authors.bind.", dns.TypeTXT, dns.ClassCHAOS, dns.RcodeRefused, false},
		{"REFUSED chaos zone name", "www." + zoneName, dns.TypeA, dns.ClassCHAOS, dns.RcodeRefused, false},
		{"REFUSED zone transfer", zoneName, dns.TypeAXFR, dns.ClassINET, dns.RcodeRefused, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := question(tt.qname, tt.qtype)
			m.Question[0].Qclass = tt.class
			r := exchange(t, s, "tcp", m)
			if r.Rcode != tt.rcode || len(r.Answer) != 0 {
				t.Fatalf("rcode %s, %d answers; want %s and none", dns.RcodeToString[r.Rcode], len(r.Answer), dns.RcodeToString[tt.rcode])
			}
			if !tt.soa {
				if r.Authoritative || len(r.Ns) != 0 {
					t.Errorf("outside the zone: aa %v, authority %v; want neither", r.Authoritative, r.Ns)
				}
				return
			}
			if len(r.Ns) != 1 || !r.Authoritative {
				t.Fatalf("authority %v aa %v, want one SOA, authoritative", r.Ns, r.Authoritative)
			}
			soa, ok := r.Ns[0].(*dns.SOA)
			if !ok || soa.Hdr.Name != zoneName || soa.Hdr.Ttl != negativeTTL {
				t.Errorf("authority %v, want the zone SOA with TTL %d", r.Ns[0], negativeTTL)
			}
		})
	}
}

func withEDNS(m *dns.Msg, size uint16) *dns.Msg {
	m.SetEdns0(size, false)
	return m
}

func TestServer_EDNS(t *testing.T) {
	cfg := testConfig()
	cfg.Answers = 40
	var edges []Edge
	for i := range 40 {
		edges = append(edges, edge(fmt.Sprintf("eu-%02d", i), "eu", 0, true, fmt.Sprintf("192.0.2.%d", i+1)))
	}
	s, reg := startServer(t, cfg, edges)
	www := "www." + zoneName

	t.Run("buffer advertised and honoured", func(t *testing.T) {
		r := exchange(t, s, "udp", withEDNS(question(www, dns.TypeA), 4096))
		opt := r.IsEdns0()
		if opt == nil || opt.UDPSize() != ourUDPSize || opt.Version() != 0 {
			t.Fatalf("OPT %v, want ours with size %d, version 0", opt, ourUDPSize)
		}
		if r.Truncated || len(r.Answer) != 40 {
			t.Errorf("4096-byte client: tc %v, %d answers; want all 40 in one UDP reply", r.Truncated, len(r.Answer))
		}
	})
	t.Run("BADVERS", func(t *testing.T) {
		m := withEDNS(question(www, dns.TypeA), 1232)
		m.IsEdns0().SetVersion(1)
		r := exchange(t, s, "udp", m)
		if r.Rcode != dns.RcodeBadVers || len(r.Answer) != 0 {
			t.Fatalf("rcode %s, %d answers; want BADVERS and none", dns.RcodeToString[r.Rcode], len(r.Answer))
		}
		if opt := r.IsEdns0(); opt == nil || opt.Version() != 0 {
			t.Errorf("OPT %v, want one of version 0", opt)
		}
	})
	t.Run("no EDNS in, none out", func(t *testing.T) {
		r := exchange(t, s, "tcp", question(www, dns.TypeA))
		if r.IsEdns0() != nil {
			t.Errorf("OPT in a reply to a query without one")
		}
	})
	t.Run("512-byte client truncated over UDP, full over TCP", func(t *testing.T) {
		before := counterValue(t, reg, "shoal_gslb_truncated_total")
		r := exchange(t, s, "udp", question(www, dns.TypeA))
		if !r.Truncated || len(r.Answer) >= 40 {
			t.Fatalf("UDP: tc %v, %d answers; want TC and fewer than 40", r.Truncated, len(r.Answer))
		}
		if got := counterValue(t, reg, "shoal_gslb_truncated_total"); got != before+1 {
			t.Errorf("truncated_total %v, want %v", got, before+1)
		}
		r = exchange(t, s, "tcp", question(www, dns.TypeA))
		if r.Truncated || len(r.Answer) != 40 {
			t.Errorf("TCP: tc %v, %d answers; want all 40", r.Truncated, len(r.Answer))
		}
	})
}
