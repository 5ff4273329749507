package gslb

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"testing"

	"github.com/miekg/dns"

	"github.com/shoal-cdn/shoal/conf"
)

// slowReply is what the general path sends over UDP for wire from client with rotation rot:
// unpack, serve, pack. ok is false when it sends nothing.
func slowReply(t testing.TB, s *Server, wire []byte, client netip.AddrPort, rot uint64) ([]byte, bool) {
	t.Helper()
	m := new(dns.Msg)
	if err := m.Unpack(wire); err != nil {
		return nil, false
	}
	w := newFakeWriter(client.String())
	if _, sent := s.serve(w, m, rot); !sent || w.written == nil {
		return nil, false
	}
	packed, err := w.written.Pack()
	if err != nil {
		t.Fatalf("pack: %v", err)
	}
	return packed, true
}

func pack(t testing.TB, m *dns.Msg) []byte {
	t.Helper()
	wire, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return wire
}

// withOption adds an EDNS option (OPT at 1232 bytes if there is none yet).
func withOption(m *dns.Msg, o dns.EDNS0) *dns.Msg {
	if m.IsEdns0() == nil {
		m.SetEdns0(1232, false)
	}
	m.IsEdns0().Option = append(m.IsEdns0().Option, o)
	return m
}

// fastCases are queries the fast path must answer exactly as the general path does, and
// their neighbours that it must leave to the general path.
func fastCases(t testing.TB) []struct {
	name     string
	wire     []byte
	wantFast bool
} {
	www := "www." + zoneName
	patch := func(m *dns.Msg, f func([]byte) []byte) []byte { return f(pack(t, m)) }
	set := func(b []byte, i int, v byte) []byte { b[i] = v; return b }
	return []struct {
		name     string
		wire     []byte
		wantFast bool
	}{
		{"A, resolver address", pack(t, question(www, dns.TypeA)), true},
		{"AAAA, resolver address", pack(t, question(www, dns.TypeAAAA)), true},
		{"A at the apex name", pack(t, question(zoneName, dns.TypeA)), true},
		{"A for a deeper service name", pack(t, question("img.eu."+zoneName, dns.TypeA)), true},
		{"0x20 spelling", pack(t, question("WwW.cDn.ExAmPlE.cOm.", dns.TypeA)), true},
		{"RD and CD echoed", func() []byte {
			m := question(www, dns.TypeA)
			m.RecursionDesired, m.CheckingDisabled = true, true
			return pack(t, m)
		}(), true},
		{"EDNS, no option", pack(t, withEDNS(question(www, dns.TypeA), 4096)), true},
		{"EDNS with DO", func() []byte {
			m := withEDNS(question(www, dns.TypeA), 1232)
			m.IsEdns0().SetDo()
			return pack(t, m)
		}(), true},
		{"EDNS buffer below 512", pack(t, withEDNS(question(www, dns.TypeA), 100)), true},
		{"ECS v4 /24 in a region", pack(t, withECS(question(www, dns.TypeA), "10.1.2.0/24")), true},
		{"ECS v4 /16 in another region", pack(t, withECS(question(www, dns.TypeA), "20.1.0.0/16")), true},
		{"ECS v4 in no region", pack(t, withECS(question(www, dns.TypeA), "99.1.2.0/24")), true},
		{"ECS v4 /32", pack(t, withECS(question(www, dns.TypeA), "10.1.2.3/32")), true},
		{"ECS v4 /0 (opt out)", pack(t, withECS(question(www, dns.TypeA), "0.0.0.0/0")), true},
		{"ECS v6 /56", pack(t, withECS(question(www, dns.TypeAAAA), "2001:db8:e:100::/56")), true},
		{"ECS v6 in no region", pack(t, withECS(question(www, dns.TypeAAAA), "2001:db8:f::/48")), true},
		{"ECS v6 /128", pack(t, withECS(question(www, dns.TypeA), "2001:db8:e::1/128")), true},
		{"ECS with a cookie and padding", pack(t, withOption(withOption(withECS(question(www, dns.TypeA), "10.1.2.0/24"),
			&dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: "0102030405060708"}),
			&dns.EDNS0_PADDING{Padding: make([]byte, 20)})), true},

		// Left to the general path.
		{"NS", pack(t, question(zoneName, dns.TypeNS)), false},
		{"SOA", pack(t, question(zoneName, dns.TypeSOA)), false},
		{"A for a name server host", pack(t, question("ns1."+zoneName, dns.TypeA)), false},
		{"NXDOMAIN", pack(t, question("nope."+zoneName, dns.TypeA)), false},
		{"empty non-terminal", pack(t, question("eu."+zoneName, dns.TypeA)), false},
		{"outside the zone", pack(t, question("www.example.org.", dns.TypeA)), false},
		{"class CH", func() []byte {
			m := question(www, dns.TypeA)
			m.Question[0].Qclass = dns.ClassCHAOS
			return pack(t, m)
		}(), false},
		{"escaped dot in a label", pack(t, question(`w\.w.`+zoneName, dns.TypeA)), false},
		{"ECS with bits past the prefix", patch(withECS(question(www, dns.TypeA), "10.1.0.0/20"), func(b []byte) []byte {
			return set(b, len(b)-1, 0x0f) // 10.1.15.0/20: pack would mask it, so the wire is patched
		}), false},
		{"ECS with an address byte too many", patch(withECS(question(www, dns.TypeA), "10.1.0.0/16"), func(b []byte) []byte {
			b = append(b, 0)
			b[len(b)-12]++ // OPT RDLENGTH
			b[len(b)-8]++  // option length
			return b
		}), false},
		{"ECS with a scope in the query", pack(t, withOption(question(www, dns.TypeA), &dns.EDNS0_SUBNET{
			Code: dns.EDNS0SUBNET, Family: 1, SourceNetmask: 24, SourceScope: 8, Address: []byte{10, 1, 2, 0}})), false},
		{"ECS family 0", pack(t, withOption(question(www, dns.TypeA), &dns.EDNS0_SUBNET{
			Code: dns.EDNS0SUBNET, Family: 0})), false},
		{"two ECS options", pack(t, withECS(withECS(question(www, dns.TypeA), "10.1.2.0/24"), "10.1.3.0/24")), false},
		{"an option the fast path does not know", pack(t, withOption(question(www, dns.TypeA),
			&dns.EDNS0_EXPIRE{Code: dns.EDNS0EXPIRE, Expire: 1})), false},
		{"EDNS version 1", func() []byte {
			m := withEDNS(question(www, dns.TypeA), 1232)
			m.IsEdns0().SetVersion(1)
			return pack(t, m)
		}(), false},
		{"opcode NOTIFY", func() []byte {
			m := question(www, dns.TypeA)
			m.Opcode = dns.OpcodeNotify
			return pack(t, m)
		}(), false},
		{"a response", func() []byte {
			m := question(www, dns.TypeA)
			m.Response = true
			return pack(t, m)
		}(), false},
		{"two questions", func() []byte {
			m := question(www, dns.TypeA)
			m.Question = append(m.Question, m.Question[0])
			return pack(t, m)
		}(), false},
		{"a byte after the message", append(pack(t, question(www, dns.TypeA)), 0), false},
		{"a byte after the OPT", append(pack(t, withECS(question(www, dns.TypeA), "10.1.2.0/24")), 0), false},
		{"an answer record in the query", patch(question(www, dns.TypeA), func(b []byte) []byte {
			return set(append(b, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 1, 0, 4, 1, 2, 3, 4), 7, 1)
		}), false},
		{"a compressed question name", []byte{0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1}, false},
		{"a truncated question", pack(t, question(www, dns.TypeA))[:20], false},
		{"the root", pack(t, question(".", dns.TypeA)), false},
	}
}

// The fast path sends the very bytes the general path sends, for every client kind.
func TestAnswerFast_sameBytesAsServeDNS(t *testing.T) {
	s, _ := newTestServer(t, testConfig(), testEdges())
	sc := newFastScratch(s.zone)
	clients := []string{"127.0.0.1:5353", "10.9.9.9:53", "20.1.2.3:1", "99.9.9.9:53", "[2001:db8:e::9]:53", "[::1]:53"}
	for _, tc := range fastCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			for _, cl := range clients {
				from := netip.MustParseAddrPort(cl)
				for rot := range uint64(3) {
					got, ok := s.answerFast(tc.wire, from, rot, nil, sc, false)
					if ok != tc.wantFast {
						t.Fatalf("from %s: fast path ok = %v, want %v", cl, ok, tc.wantFast)
					}
					if !ok {
						continue
					}
					want, sent := slowReply(t, s, tc.wire, from, rot)
					if !sent || !bytes.Equal(got, want) {
						m := new(dns.Msg)
						m.Unpack(got)
						t.Fatalf("from %s rot %d:\nfast    %x\n%v\ngeneral %x", cl, rot, got, m, want)
					}
				}
			}
		})
	}
}

// Every edge list shape the fast path sees: more edges than answers (the choice depends on the
// client: ECS scope set), fewer, one family only, and none healthy or none at all (left to the
// general path: fail open and NODATA).
func TestAnswerFast_edgeListShapes(t *testing.T) {
	v4only := []Edge{edge("a", "eu", 0, true, "192.0.2.1")}
	weighted := []Edge{edge("a", "eu", 3, true, "192.0.2.1"), edge("b", "eu", 1, true, "192.0.2.2"),
		edge("c", "eu", 2, true, "192.0.2.3", "192.0.2.33"), edge("d", "us", 1, true, "192.0.2.4")}
	down := []Edge{edge("a", "eu", 0, false, "192.0.2.1"), edge("b", "us", 0, false, "192.0.2.2")}
	tests := []struct {
		name     string
		edges    []Edge
		qtype    uint16
		wantFast bool
	}{
		{"more edges than answers", testEdges(), dns.TypeA, true},
		{"weighted, several addresses", weighted, dns.TypeA, true},
		{"one edge", v4only, dns.TypeA, true},
		{"no edge of the family", v4only, dns.TypeAAAA, false},
		{"none healthy", down, dns.TypeA, false},
		{"no edges", nil, dns.TypeA, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newTestServer(t, testConfig(), tt.edges)
			sc := newFastScratch(s.zone)
			from := netip.MustParseAddrPort("127.0.0.1:53")
			for i := range 50 {
				wire := pack(t, withECS(question("www."+zoneName, tt.qtype), fmt.Sprintf("10.%d.%d.0/24", i, i*7%256)))
				got, ok := s.answerFast(wire, from, uint64(i), nil, sc, false)
				if ok != tt.wantFast {
					t.Fatalf("fast path ok = %v, want %v", ok, tt.wantFast)
				}
				if !ok {
					continue
				}
				if want, _ := slowReply(t, s, wire, from, uint64(i)); !bytes.Equal(got, want) {
					t.Fatalf("query %d:\nfast    %x\ngeneral %x", i, got, want)
				}
			}
		})
	}
}

// An answer too large for the client's buffer is left to the general path, which truncates.
func TestAnswerFast_largeAnswersLeftToTruncation(t *testing.T) {
	cfg := testConfig()
	cfg.Answers = 40
	var edges []Edge
	for i := range 40 {
		edges = append(edges, edge(fmt.Sprintf("e%02d", i), "eu", 0, true, fmt.Sprintf("2001:db8::%x", i+1)))
	}
	s, _ := newTestServer(t, cfg, edges)
	sc := newFastScratch(s.zone)
	from := netip.MustParseAddrPort("10.0.0.1:53")
	wire := pack(t, question("www."+zoneName, dns.TypeAAAA)) // 40 x 28 bytes > 512
	if _, ok := s.answerFast(wire, from, 0, nil, sc, false); ok {
		t.Fatal("fast path answered a reply larger than 512 bytes")
	}
	want, _ := slowReply(t, s, wire, from, 0)
	m := new(dns.Msg)
	if err := m.Unpack(want); err != nil || !m.Truncated || len(want) > dns.MinMsgSize {
		t.Fatalf("general path: %d bytes, TC %v, err %v", len(want), m.Truncated, err)
	}
	// With a large enough EDNS buffer the same answer fits, and the fast path sends it.
	wire = pack(t, withEDNS(question("www."+zoneName, dns.TypeAAAA), 4096))
	got, ok := s.answerFast(wire, from, 0, nil, sc, false)
	want, _ = slowReply(t, s, wire, from, 0)
	if !ok || !bytes.Equal(got, want) {
		t.Fatalf("EDNS 4096: fast ok %v\nfast    %x\ngeneral %x", ok, got, want)
	}
}

// The fast path counts its answers under the labels the general path uses.
func TestAnswerFast_counts(t *testing.T) {
	s, reg := newTestServer(t, testConfig(), testEdges())
	sc := newFastScratch(s.zone)
	from := netip.MustParseAddrPort("127.0.0.1:53")
	for _, q := range []*dns.Msg{
		withECS(question("www."+zoneName, dns.TypeA), "10.1.2.0/24"),
		withECS(question("www."+zoneName, dns.TypeA), "10.1.3.0/24"),
		withECS(question("www."+zoneName, dns.TypeAAAA), "99.1.2.0/24"),
		question("www."+zoneName, dns.TypeA),
	} {
		if _, ok := s.answerFast(pack(t, q), from, 0, nil, sc, false); !ok {
			t.Fatalf("not answered: %v", q)
		}
	}
	for _, c := range []struct {
		labels []string
		want   float64
	}{
		{[]string{"qtype", "A", "rcode", "NOERROR", "region", "eu"}, 2},
		{[]string{"qtype", "AAAA", "rcode", "NOERROR", "region", "none"}, 1},
		{[]string{"qtype", "A", "rcode", "NOERROR", "region", "local"}, 1},
	} {
		if got := counterValue(t, reg, "shoal_gslb_queries_total", c.labels...); got != c.want {
			t.Errorf("queries %v = %v, want %v", c.labels, got, c.want)
		}
	}
}

// The fast path allocates nothing per query: no garbage, no collector pauses in the tail. In
// the CDN's zone the clients are in no region, so the choice is among all 30 edges: a tier of
// more than 16 edges allocated its scores before, and so did an answer of more than 16.
func TestAnswerFast_allocatesNothing(t *testing.T) {
	cdn, cdnEdges := cdnConfig()
	cdn20, _ := cdnConfig()
	cdn20.Answers = 20 // a choice of 20 out of 30: more than a reader's room on the stack
	var unmatched [][]byte
	for i, w := range cdnClients(t, 256, true) {
		if i%16 == 7 { // IPv4 in no region
			unmatched = append(unmatched, w)
		}
	}
	for _, c := range []struct {
		name  string
		cfg   conf.GSLB
		edges []Edge
		wires [][]byte
	}{
		{"tests' zone", testConfig(), testEdges(), manySubnetQueries(t, 256)},
		{"CDN zone, clients in no region", cdn, cdnEdges, unmatched},
		{"CDN zone, 20 answers, clients in no region", cdn20, cdnEdges, unmatched},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, _ := newTestServer(t, c.cfg, c.edges)
			sc := newFastScratch(s.zone)
			out := make([]byte, 0, maxQuerySize)
			var i int
			allocs := testing.AllocsPerRun(1000, func() {
				from := netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 1, byte(i >> 8), byte(i)}), 53)
				if _, ok := s.answerFast(c.wires[i%len(c.wires)], from, uint64(i), out, sc, false); !ok {
					t.Fatal("not answered")
				}
				i++
			})
			if allocs != 0 {
				t.Errorf("%v allocations per query, want 0", allocs)
			}
		})
	}
}

func manySubnetQueries(t testing.TB, n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		w := pack(t, withECS(question("www."+zoneName, dns.TypeA), fmt.Sprintf("10.%d.%d.0/24", i>>8&0xff, i&0xff)))
		binary.BigEndian.PutUint16(w, uint16(i))
		out[i] = w
	}
	return out
}

// FuzzAnswerFast: whatever the packet, the fast path never panics, and whatever it answers
// the general path answers with the same bytes.
func FuzzAnswerFast(f *testing.F) {
	for _, tc := range fastCases(f) {
		f.Add(tc.wire, uint8(0))
		f.Add(tc.wire, uint8(0x81))
	}
	s, _ := newTestServer(f, testConfig(), testEdges())
	sc := newFastScratch(s.zone)
	clients := []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:53"), netip.MustParseAddrPort("10.1.1.1:53"),
		netip.MustParseAddrPort("[2001:db8:e::1]:53")}
	f.Fuzz(func(t *testing.T, wire []byte, client uint8) {
		from := clients[int(client&0x7f)%len(clients)]
		tcp := client&0x80 != 0 // and over TCP, against the general path's TCP answer
		got, ok := s.answerFast(wire, from, 1, nil, sc, tcp)
		if !ok {
			return
		}
		slow := slowReply
		if tcp {
			slow = tcpSlowReply
		}
		want, sent := slow(t, s, wire, from, 1)
		if !sent || !bytes.Equal(got, want) {
			t.Fatalf("query %x:\nfast    %x\ngeneral %x (sent %v)", wire, got, want, sent)
		}
	})
}

func BenchmarkAnswerFast(b *testing.B) {
	s, _ := newTestServer(b, testConfig(), testEdges())
	sc := newFastScratch(s.zone)
	out := make([]byte, 0, maxQuerySize)
	cases := []struct {
		name  string
		wires [][]byte
	}{
		{"A", [][]byte{pack(b, question("www."+zoneName, dns.TypeA))}},
		{"ECS", [][]byte{pack(b, withECS(question("www."+zoneName, dns.TypeA), "10.1.2.0/24"))}},
		{"many subnets", manySubnetQueries(b, 10000)},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				// 1,000 resolver addresses in 127.1.0.0/16, as gslb/bench/dnsflood sends from.
				from := netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 1, byte(i % 1000 / 250), byte(i%250 + 1)}), 53)
				if _, ok := s.answerFast(c.wires[i%len(c.wires)], from, uint64(i), out, sc, false); !ok {
					b.Fatal("not answered")
				}
				i++
			}
		})
	}
}

// parseWire takes a label byte into the name in lower case when it is a letter, digit, '-' or
// '_', and leaves the query to the general path for any other byte, whatever its position.
func TestParseWire_labelBytes(t *testing.T) {
	for c := range 256 {
		b := byte(c)
		packet := []byte{0xab, 0xcd, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 3, 'w', b, 'w', 2, 'e', 'x', 0, 0, 1, 0, 1}
		_, lname, ok := parseWire(packet, make([]byte, 0, maxNameWire))
		lower := b
		if 'A' <= b && b <= 'Z' {
			lower = b + 'a' - 'A'
		}
		plain := 'a' <= lower && lower <= 'z' || '0' <= lower && lower <= '9' || lower == '-' || lower == '_'
		if ok != plain {
			t.Fatalf("byte %#x: parsed %v, want %v", b, ok, plain)
		}
		if want := "w" + string(lower) + "w.ex."; ok && string(lname) != want {
			t.Fatalf("byte %#x: name %q, want %q", b, lname, want)
		}
	}
}

// A name as long as the wire allows fills the name buffer exactly; one byte more is refused.
func TestParseWire_longestName(t *testing.T) {
	for _, wireLen := range []int{maxNameWire, maxNameWire + 1} {
		packet := []byte{0xab, 0xcd, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0}
		left := wireLen - 1 // the root's zero byte
		for left > 0 {
			l := min(63, left-1)
			packet = append(packet, byte(l))
			packet = append(packet, bytes.Repeat([]byte{'A'}, l)...)
			left -= l + 1
		}
		packet = append(packet, 0, 0, 1, 0, 1)
		_, lname, ok := parseWire(packet, make([]byte, 0, maxNameWire))
		if want := wireLen <= maxNameWire; ok != want {
			t.Fatalf("name of %d wire bytes: parsed %v, want %v", wireLen, ok, want)
		}
		if ok && (len(lname) != wireLen-1 || lname[0] != 'a') {
			t.Fatalf("name of %d wire bytes: %d bytes %q", wireLen, len(lname), lname[:8])
		}
	}
}
