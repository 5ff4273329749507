package gslb_test

import (
	"context"
	"fmt"
	"net/netip"
	"slices"

	"github.com/miekg/dns"

	"github.com/shoal-cdn/shoal/conf"
	"github.com/shoal-cdn/shoal/gslb"
)

func ExampleServer() {
	s, err := gslb.New(conf.GSLB{
		Listen:  "127.0.0.1:0",
		Zone:    "cdn.example.com.",
		Names:   []string{"www"},
		Answers: 2,
		Regions: map[string]*conf.Region{
			"eu": {CIDRs: []string{"127.0.0.0/8"}, Near: []string{"us"}},
			"us": {CIDRs: []string{"198.18.0.0/15"}},
		},
	}, gslb.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	// The edge calls SetEdges on every ring change.
	s.SetEdges([]gslb.Edge{
		{Name: "eu-1", Region: "eu", Addrs: []netip.Addr{netip.MustParseAddr("192.0.2.1")}, Healthy: true},
		{Name: "eu-2", Region: "eu", Addrs: []netip.Addr{netip.MustParseAddr("192.0.2.2")}, Healthy: false},
		{Name: "us-1", Region: "us", Addrs: []netip.Addr{netip.MustParseAddr("198.51.100.1")}, Healthy: true},
	})
	if err := s.ListenAndServe(); err != nil {
		fmt.Println(err)
		return
	}
	defer s.Shutdown(context.Background())

	udp, _ := s.Addr()
	q := new(dns.Msg)
	q.SetQuestion("www.cdn.example.com.", dns.TypeA)
	r, _, err := new(dns.Client).Exchange(q, udp.String())
	if err != nil {
		fmt.Println(err)
		return
	}
	var addrs []string
	for _, rr := range r.Answer {
		addrs = append(addrs, rr.(*dns.A).A.String())
	}
	slices.Sort(addrs)
	// 127.0.0.1 is in eu: its healthy edge, filled up from us.
	fmt.Println(addrs)
	// Output: [192.0.2.1 198.51.100.1]
}
