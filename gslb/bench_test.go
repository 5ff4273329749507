package gslb

import (
	"fmt"
	"testing"

	"github.com/miekg/dns"
)

func BenchmarkServer_ServeDNS_A(b *testing.B) {
	var edges []Edge
	for i := range 30 {
		region := []string{"eu", "us", "ap"}[i%3]
		edges = append(edges, edge(fmt.Sprintf("%s-%02d", region, i), region, 1+i%2, true,
			fmt.Sprintf("192.0.2.%d", i+1), fmt.Sprintf("2001:db8::%x", i+1)))
	}
	s, _ := newTestServer(b, testConfig(), edges)
	cases := []struct {
		name string
		m    *dns.Msg
	}{
		{"resolver address", question("www."+zoneName, dns.TypeA)},
		{"ECS", withECS(question("www."+zoneName, dns.TypeA), "10.1.2.0/24")},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			w := newFakeWriter("10.9.9.9:5353")
			b.ReportAllocs()
			for b.Loop() {
				s.ServeDNS(w, c.m)
			}
		})
	}
}
