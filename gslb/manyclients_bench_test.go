package gslb

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"

	"github.com/miekg/dns"

	"github.com/shoal-cdn/shoal/conf"
)

// cdnConfig is a zone shaped like a production CDN's rather than the tests' small one: three
// regions with 100 client networks each (a /16 and two /24s of other /16s per step), so that
// finding a client's region is a real lookup, and answers of 2 out of 30 edges of two
// weights, so that every answer is a weighted rendezvous choice.
func cdnConfig() (conf.GSLB, []Edge) {
	cfg := testConfig()
	cfg.Regions = map[string]*conf.Region{}
	for r, name := range []string{"eu", "us", "ap"} {
		reg := &conf.Region{Near: []string{[]string{"us", "eu", "us"}[r]}}
		for i := range 100 {
			first := 10*(r+1) + i/50 // 10-11, 20-21, 30-31
			switch i % 3 {
			case 0:
				reg.CIDRs = append(reg.CIDRs, fmt.Sprintf("%d.%d.0.0/16", first, i))
			default:
				reg.CIDRs = append(reg.CIDRs, fmt.Sprintf("%d.%d.%d.0/24", first+100, i, i%3))
			}
		}
		reg.CIDRs = append(reg.CIDRs, fmt.Sprintf("2001:db8:%x::/48", r+1))
		cfg.Regions[name] = reg
	}
	var edges []Edge
	for i := range 30 {
		region := []string{"eu", "us", "ap"}[i%3]
		edges = append(edges, edge(fmt.Sprintf("%s-%02d", region, i), region, 1+i%2, true,
			fmt.Sprintf("192.0.2.%d", i+1), fmt.Sprintf("2001:db8::%x", i+1)))
	}
	return cfg, edges
}

// cdnClients returns n queries for www, each from one of a CDN's client subnets in ECS: most
// in the regions' networks, one in eight in no region at all (the unmatched scope), one in
// sixteen over IPv6; with ecs false they carry no ECS and the client is the resolver.
func cdnClients(t testing.TB, n int, ecs bool) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		m := question("www."+zoneName, dns.TypeA)
		if ecs {
			var subnet string
			switch {
			case i%16 == 15:
				subnet = fmt.Sprintf("2001:db8:%x:%x::/56", i%4, i&0xff00)
			case i%8 == 7:
				subnet = fmt.Sprintf("%d.%d.%d.0/24", 40+i%50, i>>8&0xff, i&0xff)
			default:
				subnet = fmt.Sprintf("%d.%d.%d.0/24", 10*(1+i%3)+i/3%2+[]int{0, 100}[i/7%2], i/6%100, i%3)
			}
			m = withECS(m, subnet)
		}
		out[i] = pack(t, m)
	}
	return out
}

// cdnResolver is resolver i of 1,000: spread like the client subnets.
func cdnResolver(i int) netip.AddrPort {
	i %= 1000
	a := [4]byte{byte(10*(1+i%3) + i/3%2), byte(i / 6 % 100), byte(i % 7), byte(i%250 + 1)}
	if i%8 == 7 {
		a[0] = byte(40 + i%50)
	}
	return netip.AddrPortFrom(netip.AddrFrom4(a), 53)
}

// BenchmarkAnswerFast_CDN: the fast path where the reply cache cannot help, in a CDN's zone:
// 10,000 client subnets (ECS) or 1,000 resolver addresses, each answer a lookup of the
// client's region among 303 networks and a weighted choice of 2 out of 30 edges, of two
// weights or all of one.
func BenchmarkAnswerFast_CDN(b *testing.B) {
	cfg, edges := cdnConfig()
	uniform := slices.Clone(edges)
	for i := range uniform {
		uniform[i].Weight = 1
	}
	for _, c := range []struct {
		name  string
		edges []Edge
		wires [][]byte
	}{
		{"10000 subnets", edges, cdnClients(b, 10000, true)},
		{"1000 resolvers", edges, cdnClients(b, 1, false)},
		{"10000 subnets, one weight", uniform, cdnClients(b, 10000, true)},
	} {
		s, _ := newTestServer(b, cfg, c.edges)
		sc := newFastScratch(s.zone)
		out := make([]byte, 0, maxQuerySize)
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, ok := s.answerFast(c.wires[i%len(c.wires)], cdnResolver(i), uint64(i), out, sc, false); !ok {
					b.Fatal("not answered")
				}
				i++
			}
		})
	}
}
