package cachestore

import (
	"reflect"
	"testing"
	"time"
	"unsafe"

	"github.com/shoal-cdn/shoal/httpcache"
)

// TestMeta_Decision gives back every part of the decision it was made with but the Reason,
// which a decision to store does not have.
func TestMeta_Decision(t *testing.T) {
	tests := []httpcache.StoreDecision{
		{},
		{Store: true, Lifetime: time.Hour},
		{Store: true, Heuristic: true, Lifetime: 90 * time.Second},
		{Store: true, MustRevalidate: true, NoCache: true, Immutable: true, NoTransform: true,
			Lifetime: time.Minute, StaleWhileRevalidate: 30 * time.Second, StaleIfError: time.Hour},
		{Store: true, NoCache: true, NoCacheFields: []string{"Set-Cookie"}},
		{Store: true, PrivateFields: []string{"X-User", "X-Session"}},
		{Store: true, NoCacheFields: []string{"A"}, PrivateFields: []string{"B"}},
	}
	for _, d := range tests {
		m := NewMeta(d, nil)
		if got := m.Decision(); !reflect.DeepEqual(got, d) {
			t.Errorf("NewMeta(%+v).Decision() = %+v", d, got)
		}
		if m.Lifetime() != d.Lifetime || m.NoCache() != d.NoCache || m.NoTransform() != d.NoTransform ||
			!reflect.DeepEqual(m.NoCacheFields(), d.NoCacheFields) {
			t.Errorf("NewMeta(%+v): accessors disagree with Decision", d)
		}
	}
}

// TestMeta_oneSizeClass keeps a Meta, which every stored object has, in the 48 B size class
// (64 B before its durations and booleans were packed).
func TestMeta_oneSizeClass(t *testing.T) {
	if n := unsafe.Sizeof(Meta{}); n > 48 {
		t.Fatalf("Meta is %d bytes, more than its 48 B size class", n)
	}
}

// TestMeta_durationsKeepMillisecondsAndYears: a Meta's 32-bit durations give back what HTTP
// and the configuration say to the millisecond up to 24 days, to the second beyond, a
// negative lifetime as 0 and an absurd one as 2^31-1 s (RFC 9111 section 1.2.2).
func TestMeta_durationsKeepMillisecondsAndYears(t *testing.T) {
	const year = 365 * 24 * time.Hour
	tests := []struct{ in, want time.Duration }{
		{0, 0},
		{-time.Second, 0},
		{1500 * time.Microsecond, time.Millisecond},
		{250 * time.Millisecond, 250 * time.Millisecond},
		{(1<<31 - 1) * time.Millisecond, (1<<31 - 1) * time.Millisecond},
		{(1 << 31) * time.Millisecond, 2147483 * time.Second},
		{year + 1500*time.Millisecond, year + time.Second},
		{60 * year, 60 * year},
		{1<<63 - 1, (1<<31 - 1) * time.Second},
	}
	for _, tt := range tests {
		d := httpcache.StoreDecision{Store: true, Lifetime: tt.in, StaleWhileRevalidate: tt.in, StaleIfError: tt.in}
		got := NewMeta(d, nil).Decision()
		if got.Lifetime != tt.want || got.StaleWhileRevalidate != tt.want || got.StaleIfError != tt.want {
			t.Errorf("%v kept as %v, %v, %v; want %v", tt.in, got.Lifetime, got.StaleWhileRevalidate, got.StaleIfError, tt.want)
		}
	}
}

// TestMeta_Date keeps the Date parsed to the second, and 0 when absent.
func TestMeta_Date(t *testing.T) {
	h := httpcache.Header{{Name: "Date", Value: "Mon, 30 Nov 2026 06:55:00 GMT"}}
	if got, want := NewMeta(httpcache.StoreDecision{}, h).Date, time.Date(2026, 11, 30, 6, 55, 0, 0, time.UTC).Unix(); got != want {
		t.Errorf("Date = %d, want %d", got, want)
	}
	if got := NewMeta(httpcache.StoreDecision{}, nil).Date; got != 0 {
		t.Errorf("Date without the field = %d, want 0", got)
	}
}

// The field names of no-cache="..." and private="..." hold none of the Cache-Control text
// they were cut from (see TestTags_copyTheKeys).
func TestMeta_fieldNamesCopied(t *testing.T) {
	cc := `no-cache="Set-Cookie", private="X-User"`
	d := httpcache.StoreDecision{Store: true, NoCacheFields: []string{cc[10:20]}, PrivateFields: []string{cc[32:38]}}
	got := NewMeta(d, nil).Decision()
	if !reflect.DeepEqual(got.NoCacheFields, []string{"Set-Cookie"}) || !reflect.DeepEqual(got.PrivateFields, []string{"X-User"}) {
		t.Fatalf("fields = %q, %q", got.NoCacheFields, got.PrivateFields)
	}
	for _, f := range append(got.NoCacheFields, got.PrivateFields...) {
		if within(f, cc) {
			t.Errorf("field name %q points into the Cache-Control it was cut from", f)
		}
	}
	if d.NoCacheFields[0] != cc[10:20] || !within(d.NoCacheFields[0], cc) {
		t.Error("NewMeta changed the decision it was given")
	}
}
