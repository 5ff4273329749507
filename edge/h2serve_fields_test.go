package edge

import (
	"hash/maphash"
	"strconv"
	"strings"
	"testing"
)

// TestFieldStrings_nameLowercase: every name comes out lowercase (RFC 9113 section 8.2.1),
// whether the table, the map or the fold finds it, and the common names, in both spellings,
// are all in the direct-mapped table (no two share a slot), so a hit's names cost no hash.
func TestFieldStrings_nameLowercase(t *testing.T) {
	strs := newFieldStrings()
	for raw, lower := range lowerNames {
		if got := strs.name([]byte(raw)); got != lower {
			t.Errorf("name(%q) = %q, want %q", raw, got, lower)
		}
		if slot := nameTable[nameHash([]byte(raw))]; slot.raw != raw {
			t.Errorf("%q shares its slot with %q: found through the map", raw, slot.raw)
		}
	}
	for _, raw := range []string{"X-Custom-Thing", "x-custom-thing", "ETAG", "Content-type", "A", strings.Repeat("Long-", 20)} {
		if got, want := strs.name([]byte(raw)), strings.ToLower(raw); got != want {
			t.Errorf("name(%q) = %q, want %q", raw, got, want)
		}
	}
	if got := strs.name(nil); got != "" {
		t.Errorf("name(nil) = %q", got)
	}
}

// TestFieldStrings_collidingPairAllocatesNothing: two values of one response whose hashes
// share a slot both stay in the table, so a hit that writes both allocates nothing.
// Direct-mapped, each replaced the other on every hit (4 allocations per hit, for about one
// table seed in twenty-five with a dozen fields: BenchmarkH2Serve_hit1KiB showed it once in
// ~30 runs).
func TestFieldStrings_collidingPairAllocatesNothing(t *testing.T) {
	tab := newFieldStrings()
	first := map[uint64][]byte{}
	var a, b []byte
	for i := 0; a == nil; i++ {
		v := []byte("value-" + strconv.Itoa(i))
		slot := maphash.Bytes(tab.seed, v) & (fieldSlots - 1)
		if other, ok := first[slot]; ok {
			a, b = other, v
		}
		first[slot] = v
	}
	tab.value(a)
	tab.value(b)
	allocs := testing.AllocsPerRun(100, func() {
		if tab.value(a) != string(a) || tab.value(b) != string(b) {
			t.Fatal("wrong string")
		}
	})
	if raceEnabled {
		return
	}
	if allocs != 0 {
		t.Errorf("%q and %q (one slot): %.0f allocations per pair, want 0", a, b, allocs)
	}
}
