package gslb

import (
	"cmp"
	"encoding/binary"
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

// cidrTable maps client addresses to regions by longest prefix match. Every query that the
// reply cache cannot answer (a new client subnet, a new resolver) looks its client up here,
// and a CDN's table has hundreds of networks: a scan of them cost 1-9 µs a query, more than
// the kernel's share. So build indexes the networks per family and prefix length, sorted, and
// a lookup is one binary search per distinct length (a handful), longest first.
type cidrTable struct {
	entries []cidrEntry // longest prefix first, as configured within a length
	v4, v6  familyIndex
}

// familyIndex is one address family's networks. Addresses are 128-bit keys (As16; IPv4 as
// ::ffff:a.b.c.d, offset 96 bits into the key).
type familyIndex struct {
	offset  int
	lengths []lengthIndex // longest first
	all     []u128        // every network's address, sorted: for unmatchedScope
}

// lengthIndex is the networks of one prefix length: sorted, distinct, never overlapping.
type lengthIndex struct {
	bits    int
	nets    []u128
	regions []int
}

// build sorts the entries and refuses networks of different regions that overlap: with them a
// client's region would depend on which prefix happens to be longer, which is rarely intended.
// Then it builds the per-family indexes.
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
	t.v4, t.v6 = familyIndex{offset: 96}, familyIndex{}
	for _, e := range t.entries { // longest first
		fi := t.family(e.prefix.Addr())
		k := u128Of(e.prefix.Addr())
		fi.all = append(fi.all, k)
		if n := len(fi.lengths); n == 0 || fi.lengths[n-1].bits != e.prefix.Bits() {
			fi.lengths = append(fi.lengths, lengthIndex{bits: e.prefix.Bits()})
		}
		li := &fi.lengths[len(fi.lengths)-1]
		// A network listed twice is one region's (different regions may not overlap): the
		// first listing stands, as the scan it replaces found it first.
		if i, found := slices.BinarySearchFunc(li.nets, k, u128.cmp); !found {
			li.nets = slices.Insert(li.nets, i, k)
			li.regions = slices.Insert(li.regions, i, e.region)
		}
	}
	for _, fi := range []*familyIndex{&t.v4, &t.v6} {
		slices.SortFunc(fi.all, u128.cmp)
		fi.all = slices.Compact(fi.all)
	}
	return nil
}

// family is the index that holds networks of addr's family (a 4-in-6 address is IPv6).
func (t *cidrTable) family(addr netip.Addr) *familyIndex {
	if addr.Is4() {
		return &t.v4
	}
	return &t.v6
}

// lookup returns the region of addr and the length of the matched prefix. An address with a
// zone matches no network (netip.Prefix.Contains).
func (t *cidrTable) lookup(addr netip.Addr) (region, bits int, ok bool) {
	if !addr.IsValid() || addr.Zone() != "" {
		return 0, 0, false
	}
	fi := t.family(addr)
	k := u128Of(addr)
	for i := range fi.lengths {
		li := &fi.lengths[i]
		if j, found := slices.BinarySearchFunc(li.nets, k.mask(fi.offset+li.bits), u128.cmp); found {
			return li.regions[j], li.bits, true
		}
	}
	return 0, 0, false
}

// unmatchedScope is the shortest prefix of addr that overlaps no region network: the ECS scope
// for "this client is in no region", true for every address sharing that prefix. It is one
// more than the longest prefix addr shares with a network's address; of sorted addresses the
// one sharing the longest prefix with addr is next to it, on one side or the other.
func (t *cidrTable) unmatchedScope(addr netip.Addr) int {
	fi := t.family(addr)
	if len(fi.all) == 0 {
		return 0
	}
	k := u128Of(addr)
	i, _ := slices.BinarySearchFunc(fi.all, k, u128.cmp)
	common := 0
	if i < len(fi.all) {
		common = k.commonPrefix(fi.all[i])
	}
	if i > 0 {
		common = max(common, k.commonPrefix(fi.all[i-1]))
	}
	return min(common-fi.offset+1, addr.BitLen())
}

// u128 is an address as a 128-bit number, for sorting and masking without netip's checks.
type u128 struct{ hi, lo uint64 }

func u128Of(a netip.Addr) u128 {
	b := a.As16()
	return u128{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
}

func (u u128) cmp(v u128) int {
	if c := cmp.Compare(u.hi, v.hi); c != 0 {
		return c
	}
	return cmp.Compare(u.lo, v.lo)
}

// mask keeps the first n bits (0 <= n <= 128).
func (u u128) mask(n int) u128 {
	switch {
	case n >= 128:
		return u
	case n > 64:
		return u128{u.hi, u.lo &^ (1<<(128-n) - 1)}
	case n == 64:
		return u128{u.hi, 0}
	default:
		return u128{u.hi &^ (1<<(64-n) - 1), 0}
	}
}

// commonPrefix is how many leading bits u and v share (128 when equal).
func (u u128) commonPrefix(v u128) int {
	if x := u.hi ^ v.hi; x != 0 {
		return bits.LeadingZeros64(x)
	}
	return 64 + bits.LeadingZeros64(u.lo^v.lo)
}
