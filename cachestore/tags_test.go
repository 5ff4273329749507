package cachestore

import (
	"slices"
	"testing"
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
