package gslb

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// Many queries in flight on one client socket, to a loop of several readers: on their own
// sockets (SO_REUSEPORT) or sharing one. Every query gets exactly one reply, which is the
// reply to that query (its ID, its client subnet echoed, that subnet's answer set), whatever
// batch it was read and answered in.
func TestUDPLoop_manyQueriesInFlight(t *testing.T) {
	for _, kind := range udpReaderKinds {
		for _, shared := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s, shared socket %v", kind.name, shared), func(t *testing.T) {
				testManyQueriesInFlight(t, kind.blocking, shared)
			})
		}
	}
}

func testManyQueriesInFlight(t *testing.T, blocking, shared bool) {
	s, _ := newTestServer(t, testConfig(), testEdges())
	s.udpReaders, s.udpSharedSocket, s.udpBlocking = 3, shared, blocking
	if err := s.ListenAndServe(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	if n := len(s.udpLoop.socks); n != map[bool]int{false: 3, true: 1}[shared] {
		t.Fatalf("%d sockets", n)
	}
	if got := s.udpLoop.socks[0].blocking(); got != (blocking && blockingWorks) {
		t.Fatalf("blocking sockets %v, want %v", got, blocking && blockingWorks)
	}
	const queries, window = 2000, 64 // a window the socket buffers hold even when the reader is descheduled
	ref, _ := newTestServer(t, testConfig(), testEdges())
	wires := make([][]byte, queries)
	want := make([][]string, queries) // answer set per query, from ServeDNS
	for i := range wires {
		// The general path's queries (NS, NXDOMAIN) are mixed in with the fast path's.
		var m *dns.Msg
		switch i % 10 {
		case 8:
			m = withEDNS(question(zoneName, dns.TypeNS), 1232)
		case 9:
			m = withEDNS(question("nope."+zoneName, dns.TypeA), 1232)
		default:
			m = withECS(question("www."+zoneName, dns.TypeA), fmt.Sprintf("%d.%d.%d.0/24", []int{10, 20, 30, 99}[i%4], i>>8, i&0xff))
		}
		m.Id = uint16(i)
		wires[i] = pack(t, m)
		w := newFakeWriter("127.0.0.1:53")
		ref.ServeDNS(w, m)
		want[i] = sortedRRs(w.written.Answer)
	}

	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadBuffer(1 << 20)
	to := s.udpAddr.(*net.UDPAddr)
	replies := make(chan []byte, queries)
	go func() {
		for {
			buf := make([]byte, 1500)
			c.SetReadDeadline(time.Now().Add(2 * time.Second))
			n, err := c.Read(buf)
			if err != nil {
				close(replies)
				return
			}
			replies <- buf[:n]
		}
	}()
	got := make([]int, queries)
	answered := 0
	check := func(b []byte) {
		m := new(dns.Msg)
		if err := m.Unpack(b); err != nil {
			t.Fatalf("reply %x: %v", b, err)
		}
		id := int(m.Id)
		got[id]++
		q := new(dns.Msg)
		q.Unpack(wires[id])
		if m.Question[0] != q.Question[0] || ecsScope(q) >= 0 && ecsScope(m) < 0 {
			t.Fatalf("reply %d is not to its query:\n%v\nquery:\n%v", id, m, q)
		}
		if sub := subnetOf(m); sub != subnetOf(q) {
			t.Fatalf("reply %d echoes subnet %s, query sent %s", id, sub, subnetOf(q))
		}
		if a := sortedRRs(m.Answer); !slices.Equal(a, want[id]) {
			t.Fatalf("reply %d answers %v, ServeDNS %v", id, a, want[id])
		}
		answered++
	}
	for sent := 0; sent < queries; {
		for sent < queries && sent-answered < window {
			if _, err := c.WriteTo(wires[sent], to); err != nil {
				t.Fatal(err)
			}
			sent++
		}
		b, ok := <-replies
		if !ok {
			t.Fatalf("%d of %d sent answered, then silence", answered, sent)
		}
		check(b)
	}
	for answered < queries {
		b, ok := <-replies
		if !ok {
			t.Fatalf("%d of %d answered", answered, queries)
		}
		check(b)
	}
	for id, n := range got {
		if n != 1 {
			t.Errorf("query %d answered %d times", id, n)
		}
	}
}

// subnetOf renders the client subnet option of m, "" without one.
func subnetOf(m *dns.Msg) string {
	if opt := m.IsEdns0(); opt != nil {
		for _, o := range opt.Option {
			if s, ok := o.(*dns.EDNS0_SUBNET); ok {
				return fmt.Sprintf("%d/%s/%d", s.Family, s.Address, s.SourceNetmask)
			}
		}
	}
	return ""
}

// SCOPE PREFIX-LENGTH on the fast path (RFC 7871 section 7.2.1): the matched network's length
// when the answer depends on the client, the shortest prefix holding no region when no network
// matched, 0 when every edge is answered anyway or the client opted out with SOURCE 0; the
// family, source length and address are echoed unchanged.
func TestAnswerFast_ecsScope(t *testing.T) {
	s, _ := newTestServer(t, testConfig(), testEdges())
	few, _ := newTestServer(t, testConfig(), testEdges()[:2])
	tests := []struct {
		name   string
		s      *Server
		subnet string
		qtype  uint16
		scope  int
	}{
		{"eu /24 in 10/8", s, "10.1.2.0/24", dns.TypeA, 8},
		{"us /24 in 20.1/16, the longest match", s, "20.1.7.0/24", dns.TypeA, 16},
		{"us /12, shorter than the match", s, "20.16.0.0/12", dns.TypeA, 8},
		{"eu over IPv6", s, "2001:db8:e:100::/56", dns.TypeAAAA, 48},
		{"IPv6 subnet asking A", s, "2001:db8:e:100::/56", dns.TypeA, 48},
		{"no region", s, "40.0.0.0/24", dns.TypeA, 3},
		{"opted out: SOURCE 0", s, "0.0.0.0/0", dns.TypeA, 0},
		{"every edge answered", few, "20.1.2.0/24", dns.TypeA, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := withECS(question("www."+zoneName, tt.qtype), tt.subnet)
			wire, _ := q.Pack()
			got, ok := tt.s.answerFast(wire, mustAddrPort("127.0.0.1:53"), 0, nil, newFastScratch(tt.s.zone), false)
			if !ok {
				t.Fatal("fast path declined")
			}
			m := new(dns.Msg)
			if err := m.Unpack(got); err != nil {
				t.Fatal(err)
			}
			if scope := ecsScope(m); scope != tt.scope {
				t.Errorf("scope %d, want %d", scope, tt.scope)
			}
			if subnetOf(m) != subnetOf(q) {
				t.Errorf("echoed %s, sent %s", subnetOf(m), subnetOf(q))
			}
			if binary.BigEndian.Uint16(got) != q.Id || len(m.Answer) == 0 {
				t.Errorf("reply %v", m)
			}
		})
	}
}

func mustAddrPort(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

// BenchmarkUDPLoop drives the whole loop over loopback (read batch, answer, write batch) with
// the many-subnet workload, keeping window queries in flight from one client socket; one op is
// one query answered. Allocations per op include the socket layer's.
func BenchmarkUDPLoop(b *testing.B) {
	for _, kind := range udpReaderKinds {
		for _, shared := range []bool{false, true} {
			b.Run(fmt.Sprintf("%s, shared socket %v", kind.name, shared), func(b *testing.B) {
				benchmarkUDPLoop(b, kind.blocking, shared)
			})
		}
	}
}

func benchmarkUDPLoop(b *testing.B, blocking, shared bool) {
	s, _ := newTestServer(b, testConfig(), testEdges())
	s.udpSharedSocket, s.udpBlocking = shared, blocking
	if err := s.ListenAndServe(); err != nil {
		b.Fatal(err)
	}
	defer s.Shutdown(context.Background())
	wires := manySubnetQueries(b, 10000)
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	c.SetReadBuffer(1 << 20)
	to := s.udpAddr.(*net.UDPAddr).AddrPort()
	buf := make([]byte, 1500)
	const window = 64
	b.ReportAllocs()
	b.ResetTimer()
	sent, got := 0, 0
	for got < b.N {
		for sent < b.N && sent-got < window {
			if _, err := c.WriteToUDPAddrPort(wires[sent%len(wires)], to); err != nil {
				b.Fatal(err)
			}
			sent++
		}
		c.SetReadDeadline(time.Now().Add(time.Second))
		if _, _, err := c.ReadFromUDPAddrPort(buf); err != nil {
			b.Fatalf("%d of %d answered: %v", got, sent, err)
		}
		got++
	}
}

// On an IPv6 address the loop reads IPv6 senders and answers them, on the fast path (AAAA with
// a subnet) and the general one (NS), with each reply going back to its own client.
func TestUDPLoop_ipv6(t *testing.T) {
	for _, kind := range udpReaderKinds {
		t.Run(kind.name, func(t *testing.T) { testIPv6(t, kind.blocking) })
	}
}

func testIPv6(t *testing.T, blocking bool) {
	cfg := testConfig()
	cfg.Listen = "[::1]:0"
	s, _ := startServerBlocking(t, cfg, testEdges(), blocking)
	if s.udpLoop == nil {
		t.Fatal("[::1] is served by miekg/dns, not the loop")
	}
	r := exchange(t, s, "udp", withECS(question("www."+zoneName, dns.TypeAAAA), "2001:db8:e:100::/56"))
	if got := answerAddrs(r); !slices.Equal(got, []string{"2001:db8::1", "2001:db8::2"}) || ecsScope(r) != 48 {
		t.Errorf("AAAA answer %v scope %d, want eu's two edges, scope 48", got, ecsScope(r))
	}
	if r := exchange(t, s, "udp", question(zoneName, dns.TypeNS)); len(r.Answer) == 0 {
		t.Errorf("NS answer %v", r)
	}
}
