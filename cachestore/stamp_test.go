package cachestore

import (
	"testing"
	"time"
	"unsafe"
)

// TestStamp keeps an instant to the nanosecond and the zero time as 0, both ways.
func TestStamp(t *testing.T) {
	at := time.Date(2026, 11, 30, 6, 55, 0, 123456789, time.UTC)
	if got := StampOf(at).Time(); !got.Equal(at) {
		t.Errorf("StampOf(%v).Time() = %v", at, got)
	}
	if s := StampOf(time.Time{}); s != 0 || !s.Time().IsZero() {
		t.Errorf("zero time: StampOf = %d, Time().IsZero() = %v", s, s.Time().IsZero())
	}
	now := time.Now()
	if got := StampOf(now).Time(); !got.Equal(now) {
		t.Errorf("now: %v back as %v", now, got)
	}
}

// TestObject_oneSizeClass keeps the Object struct in the 128 B size class: its two instants
// are Stamps (8 B), not time.Times (24 B), Status shares a word with the soft-purge mark, and
// the tags are behind one pointer.
func TestObject_oneSizeClass(t *testing.T) {
	if n := unsafe.Sizeof(Object{}); n > 128 {
		t.Fatalf("Object is %d bytes, more than its 128 B size class", n)
	}
}
