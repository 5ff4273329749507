package vip_test

import (
	"fmt"
	"net/netip"

	"github.com/shoal-cdn/shoal/ring/vip"
)

// Three edges share two VIPs. Every node computes the same holders from the same view; when
// a node fails only the VIPs it held move.
func ExampleHolders() {
	vips := []netip.Prefix{netip.MustParsePrefix("192.0.2.100/24"), netip.MustParsePrefix("192.0.2.101/24")}
	view := func(names ...string) []vip.Candidate {
		var out []vip.Candidate
		for _, n := range names {
			out = append(out, vip.Candidate{Name: n, Offers: vips})
		}
		return out
	}
	before := vip.Holders(vips, view("edge-1", "edge-2", "edge-3"), true)
	for _, p := range vips {
		fmt.Println(p.Addr(), "held by", before[p.Addr()])
	}
	after := vip.Holders(vips, view("edge-1", "edge-2"), true) // edge-3 failed
	for _, p := range vips {
		fmt.Println(p.Addr(), "held by", after[p.Addr()])
	}
	fmt.Println("without quorum:", len(vip.Holders(vips, view("edge-1"), false)), "held")
	// Output:
	// 192.0.2.100 held by edge-3
	// 192.0.2.101 held by edge-2
	// 192.0.2.100 held by edge-1
	// 192.0.2.101 held by edge-2
	// without quorum: 0 held
}

// A node tracks quorum from the number of members it can reach.
func ExampleQuorum() {
	q := vip.NewQuorum(3) // a three-node cluster
	fmt.Println(q.Observe(3), q.Observe(2), q.Observe(1))
	// Output: true true false
}
