package cachestore

import (
	"slices"
	"strings"
	"testing"
	"unsafe"
)

// TestTags holds the keys it was made with; no keys is the zero value, which lists nil.
func TestTags(t *testing.T) {
	if got := NewTags().List(); got != nil || NewTags() != (Tags{}) {
		t.Errorf("NewTags() = %v; want the zero Tags", got)
	}
	if got := (Tags{}).List(); got != nil {
		t.Errorf("zero Tags list %v", got)
	}
	if got := NewTags("a", "b").List(); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("NewTags(a, b).List() = %v", got)
	}
}

// Tags cut from a header's text hold none of its bytes: the object stores its header packed,
// and a tag pointing into the origin's header text would keep all of it alive, uncharged.
func TestTags_copyTheKeys(t *testing.T) {
	header := strings.Repeat("x", 512) + "Cache-Tag: product-42, home"
	keys := []string{header[len(header)-16 : len(header)-6], header[len(header)-4:]}
	for _, k := range NewTags(keys...).List() {
		if within(k, header) {
			t.Errorf("tag %q points into the header it was cut from", k)
		}
	}
	if got := NewTags(keys...).List(); !slices.Equal(got, []string{"product-42", "home"}) {
		t.Errorf("NewTags = %q", got)
	}
}

// within reports whether s's bytes lie inside of's.
func within(s, of string) bool {
	p, start := uintptr(unsafe.Pointer(unsafe.StringData(s))), uintptr(unsafe.Pointer(unsafe.StringData(of)))
	return len(s) > 0 && p >= start && p < start+uintptr(len(of))
}

// NewTags leaves the list it is given as it was: a disk record's tags are one slice that
// every concurrent hit on the record passes in (the race detector caught two hits rewriting
// it at once).
func TestNewTags_leavesItsArgumentAlone(t *testing.T) {
	header := "Cache-Tag: product-42, home"
	keys := []string{header[11:21], header[23:]}
	NewTags(keys...)
	if !within(keys[0], header) || !within(keys[1], header) {
		t.Errorf("NewTags rewrote the caller's list: %q no longer points into the header", keys)
	}
}
