package gslb

import (
	"cmp"
	"fmt"
	"math/bits"
	"net/netip"
	"slices"
)

// cidrEntry maps one client network to a region id.
type cidrEntry struct {
	prefix netip.Prefix
	region int
}

// cidrTable maps client addresses to regions by longest prefix match. Region tables are a few
// hundred networks at most, so a scan of the entries sorted longest first beats a trie in both
// code and cache misses; the benchmark of ServeDNS covers it.
type cidrTable struct {
	entries []cidrEntry
}

// build sorts the entries and refuses networks of different regions that overlap: with them a
// client's region would depend on which prefix happens to be longer, which is rarely intended.
func (t *cidrTable) build(regionNames []string) error {
	slices.SortStableFunc(t.entries, func(a, b cidrEntry) int {
		return cmp.Compare(b.prefix.Bits(), a.prefix.Bits())
	})
	for i, a := range t.entries {
		for _, b := range t.entries[i+1:] {
			if a.region != b.region && a.prefix.Overlaps(b.prefix) {
				return fmt.Errorf("gslb.regions: %s (%s) overlaps %s (%s)",
					a.prefix, regionNames[a.region], b.prefix, regionNames[b.region])
			}
		}
	}
	return nil
}

// lookup returns the region of addr and the length of the matched prefix.
func (t *cidrTable) lookup(addr netip.Addr) (region, bits int, ok bool) {
	for _, e := range t.entries {
		if e.prefix.Contains(addr) {
			return e.region, e.prefix.Bits(), true
		}
	}
	return 0, 0, false
}

// unmatchedScope is the shortest prefix of addr that overlaps no region network: the ECS scope
// for "this client is in no region", true for every address sharing that prefix.
func (t *cidrTable) unmatchedScope(addr netip.Addr) int {
	scope := 0
	for _, e := range t.entries {
		if e.prefix.Addr().Is4() != addr.Is4() {
			continue
		}
		if l := commonPrefixLen(addr, e.prefix.Addr()) + 1; l > scope {
			scope = min(l, addr.BitLen())
		}
	}
	return scope
}

func commonPrefixLen(a, b netip.Addr) int {
	a16, b16 := a.As16(), b.As16()
	n := 0
	for i := range a16 {
		x := a16[i] ^ b16[i]
		if x != 0 {
			n += bits.LeadingZeros8(x)
			break
		}
		n += 8
	}
	if a.Is4() {
		n -= 96
	}
	return n
}
