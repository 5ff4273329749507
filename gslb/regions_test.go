package gslb

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
	"net/netip"
	"testing"
)

// scanLookup and scanUnmatchedScope are the definitions the index must agree with: the
// longest configured network that contains the address, and one more than the longest
// prefix the address shares with a network address of its family.
func scanLookup(entries []cidrEntry, addr netip.Addr) (region, bits int, ok bool) {
	for _, e := range entries { // longest first
		if e.prefix.Contains(addr) {
			return e.region, e.prefix.Bits(), true
		}
	}
	return 0, 0, false
}

func scanUnmatchedScope(entries []cidrEntry, addr netip.Addr) int {
	scope := 0
	for _, e := range entries {
		if e.prefix.Addr().Is4() != addr.Is4() {
			continue
		}
		a16, b16 := addr.As16(), e.prefix.Addr().As16()
		n := 0
		for i := range a16 {
			if x := a16[i] ^ b16[i]; x != 0 {
				n += bits.LeadingZeros8(x)
				break
			}
			n += 8
		}
		if addr.Is4() {
			n -= 96
		}
		scope = max(scope, min(n+1, addr.BitLen()))
	}
	return scope
}

// TestCIDRTable_agreesWithAScan: the index answers what a scan of the networks answers, for
// the networks' own addresses, their first and last addresses and their neighbours on either
// side, addresses in no network, 4-in-6 and zoned addresses, the invalid address, and random
// ones, over the tests' zone, a CDN-sized one, and tables with /0, /32, /128 and repeats.
func TestCIDRTable_agreesWithAScan(t *testing.T) {
	cdn, _ := cdnConfig()
	tables := map[string][]string{
		"edges":   {"0.0.0.0/0", "10.0.0.0/8", "10.1.2.3/32", "::/0", "2001:db8::1/128", "::ffff:10.0.0.0/104"},
		"repeats": {"10.0.0.0/8", "10.0.0.0/8", "10.1.0.0/16", "10.1.0.0/16", "2001:db8::/32"},
		"v6 only": {"2001:db8::/32", "2001:db8:1::/48"},
		"empty":   {},
	}
	configs := map[string][][]string{}
	for name, cidrs := range tables {
		configs[name] = [][]string{cidrs}
	}
	build := func(regions [][]string) *cidrTable {
		t.Helper()
		tab := &cidrTable{}
		for id, cidrs := range regions {
			for _, s := range cidrs {
				tab.entries = append(tab.entries, cidrEntry{prefix: netip.MustParsePrefix(s).Masked(), region: id})
			}
		}
		names := make([]string, len(regions))
		for i := range names {
			names[i] = fmt.Sprint("r", i)
		}
		if err := tab.build(names); err != nil {
			t.Fatal(err)
		}
		return tab
	}
	var regionLists [][]string
	for _, r := range testConfig().Regions {
		regionLists = append(regionLists, r.CIDRs)
	}
	configs["tests' zone"] = regionLists
	regionLists = nil
	for _, r := range cdn.Regions {
		regionLists = append(regionLists, r.CIDRs)
	}
	configs["CDN"] = regionLists

	rng := rand.New(rand.NewPCG(7, 9))
	for name, regions := range configs {
		tab := build(regions)
		var addrs []netip.Addr
		for _, e := range tab.entries {
			p := e.prefix
			first := p.Addr()
			last := lastAddr(p)
			addrs = append(addrs, first, last, first.Prev(), last.Next(), first.Next(), last.Prev())
		}
		for range 20000 {
			var a [16]byte
			for i := range a {
				a[i] = byte(rng.Uint32())
			}
			v6 := netip.AddrFrom16(a)
			v4 := netip.AddrFrom4([4]byte(a[:4]))
			addrs = append(addrs, v6, v4, netip.AddrFrom16(v4.As16()), v4.Next(),
				netip.AddrFrom4([4]byte{10, a[0], a[1], a[2]}), netip.AddrFrom4([4]byte{byte(10 + a[3]%30), a[0], a[1] % 3, a[2]}))
		}
		addrs = append(addrs, netip.Addr{}, netip.MustParseAddr("fe80::1%eth0"), netip.MustParseAddr("2001:db8::1%x"),
			netip.MustParseAddr("::ffff:10.1.2.3"), netip.MustParseAddr("255.255.255.255"), netip.MustParseAddr("0.0.0.0"),
			netip.MustParseAddr("::"), netip.MustParseAddr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"))
		for _, a := range addrs {
			if !a.IsValid() && name != "edges" {
				continue
			}
			gr, gb, gok := tab.lookup(a)
			wr, wb, wok := scanLookup(tab.entries, a)
			if gr != wr || gb != wb || gok != wok {
				t.Fatalf("%s: lookup(%v) = %d, /%d, %v; the scan finds %d, /%d, %v", name, a, gr, gb, gok, wr, wb, wok)
			}
			if !a.IsValid() {
				continue
			}
			if got, want := tab.unmatchedScope(a), scanUnmatchedScope(tab.entries, a); got != want {
				t.Fatalf("%s: unmatchedScope(%v) = %d, the scan finds %d", name, a, got, want)
			}
		}
	}
}

// lastAddr is the last address of p.
func lastAddr(p netip.Prefix) netip.Addr {
	a := p.Addr().AsSlice()
	hostBits := len(a)*8 - p.Bits()
	for i := len(a) - 1; i >= 0 && hostBits > 0; i-- {
		n := min(hostBits, 8)
		a[i] |= byte(1<<n - 1)
		hostBits -= n
	}
	out, _ := netip.AddrFromSlice(a)
	return out
}
