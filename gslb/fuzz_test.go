package gslb

import (
	"encoding/binary"
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// FuzzServeDNS feeds arbitrary packets through unpack and ServeDNS, as the dns.Server does. The
// handler must never panic, and whatever it writes must be a packable reply to that query.
func FuzzServeDNS(f *testing.F) {
	seeds := []*dns.Msg{
		question("www."+zoneName, dns.TypeA),
		withECS(question("www."+zoneName, dns.TypeAAAA), "2001:db8:e::/48"),
		withECS(question("WwW."+zoneName, dns.TypeA), "10.1.2.0/24"),
		withEDNS(question(zoneName, dns.TypeNS), 512),
		question("nope."+zoneName, dns.TypeANY),
		question("example.org.", dns.TypeSOA),
	}
	for _, m := range seeds {
		wire, err := m.Pack()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(wire, false)
	}
	f.Add([]byte{0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, true)
	s, _ := newTestServer(f, testConfig(), testEdges())
	f.Fuzz(func(t *testing.T, wire []byte, overTCP bool) {
		m := new(dns.Msg)
		if err := m.Unpack(wire); err != nil {
			return // the dns.Server answers these itself, or drops them
		}
		w := newFakeWriter("10.1.2.3:5353")
		if overTCP {
			w.remote = &tcpAddr
		}
		s.ServeDNS(w, m)
		if w.packErr != nil {
			t.Fatalf("reply does not pack: %v", w.packErr)
		}
		if w.written == nil {
			if !m.Response {
				t.Fatalf("no reply to a query")
			}
			return
		}
		if !w.written.Response || w.written.Id != m.Id {
			t.Fatalf("reply id %d response %v to query id %d", w.written.Id, w.written.Response, m.Id)
		}
		if packed, _ := w.written.Pack(); !overTCP && len(packed) > ourUDPSize {
			t.Fatalf("UDP reply of %d bytes", len(packed))
		}
	})
}

// FuzzUDPLoop feeds arbitrary packets to the UDP loop twice (a miss, then a possible cache
// hit) with a receiving socket on loopback: it must never panic, and every reply must decode,
// carry the query's ID and be the same both times up to the rotation.
func FuzzUDPLoop(f *testing.F) {
	for _, m := range []*dns.Msg{
		question("www."+zoneName, dns.TypeA),
		withECS(question("WwW."+zoneName, dns.TypeA), "10.1.2.0/24"),
		withEDNS(question(zoneName, dns.TypeNS), 512),
	} {
		wire, err := m.Pack()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(wire)
	}
	f.Add([]byte{0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 3, 'w', 'w'})
	s, _ := newTestServer(f, testConfig(), testEdges())
	r, conn := loopbackReader(f, s)
	self := conn.LocalAddr().(*net.UDPAddr)
	buf := make([]byte, 65536)
	f.Fuzz(func(t *testing.T, wire []byte) {
		var replies []*dns.Msg
		for range 2 {
			r.serve(slices.Clone(wire), self.AddrPort(), netip.Addr{}, s.rotation.Add(1))
			r.flush()
			conn.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
			n, err := conn.Read(buf)
			if err != nil {
				continue // dropped: junk or a response
			}
			reply := new(dns.Msg)
			if err := reply.Unpack(buf[:n]); err != nil {
				t.Fatalf("reply %x does not decode: %v", buf[:n], err)
			}
			if reply.Id != binary.BigEndian.Uint16(wire) || !reply.Response {
				t.Fatalf("reply id %d response %v to %x", reply.Id, reply.Response, wire[:2])
			}
			replies = append(replies, reply)
		}
		if len(replies) == 2 && (replies[0].Rcode != replies[1].Rcode ||
			!slices.Equal(sortedRRs(replies[0].Answer), sortedRRs(replies[1].Answer))) {
			t.Fatalf("the same query answered differently:\n%v\n%v", replies[0], replies[1])
		}
	})
}
