package gslb

import (
	"testing"

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
