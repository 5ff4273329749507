package edge

import (
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
