package gslb

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/miekg/dns"
)

// discardWriter is a datagramWriter that sends nothing: the benchmark measures answering.
type discardWriter struct{}

func (discardWriter) set(int, []byte, netip.AddrPort, netip.Addr) {}
func (discardWriter) flush(from, n int) (int, error)              { return n - from, nil }

// BenchmarkGeneralPath_newQueries: a stream in which no query repeats (random names under the
// zone, as a random-subdomain flood sends: NXDOMAIN from the general path), through one
// reader's serve and flush, with its reply cache and with the cache off. The difference is
// what keeping replies that are never asked for again costs per query.
func BenchmarkGeneralPath_newQueries(b *testing.B) {
	s, _ := newTestServer(b, testConfig(), testEdges())
	wires := make([][]byte, 1<<16)
	for i := range wires {
		wires[i] = pack(b, question(fmt.Sprintf("r%d.%s", i, zoneName), dns.TypeA))
	}
	from := netip.MustParseAddrPort("10.1.2.3:5353")
	for _, cached := range []bool{true, false} {
		b.Run(fmt.Sprintf("reply cache %v", cached), func(b *testing.B) {
			r := newDiscardReader(s)
			if !cached {
				r.cache.period = 0
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				r.serve(wires[i%len(wires)], from, netip.Addr{}, uint64(i))
				if r.nout == udpBatch {
					r.flush()
				}
				i++
			}
		})
	}
}
