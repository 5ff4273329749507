package httpcache

import (
	"testing"
	"time"
)

// TestParseHTTPDate_rfc850TwoDigitYear checks RFC 9110 5.6.7: a two-digit year that would
// be more than 50 years in the future is the most recent past year with those digits, and
// otherwise the year is the nearest one ahead. time.Parse's pivot read 69-76 as 19xx in 2026.
func TestParseHTTPDate_rfc850TwoDigitYear(t *testing.T) {
	now := time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	tests := []struct {
		name string
		in   string
		want int // year; 0: invalid
	}{
		{"9110 5.6.7 past year this century", "Sunday, 06-Nov-94 08:49:37 GMT", 1994},
		{"9110 5.6.7 this year", "Tuesday, 01-Dec-26 00:00:00 GMT", 2026},
		{"9110 5.6.7 next year", "Wednesday, 01-Dec-27 00:00:00 GMT", 2027},
		{"9110 5.6.7 68 is 2068", "Saturday, 01-Dec-68 00:00:00 GMT", 2068},
		{"9110 5.6.7 69 is 2069, not 1969", "Sunday, 01-Dec-69 00:00:00 GMT", 2069},
		{"9110 5.6.7 70 is 2070, not 1970", "Monday, 01-Dec-70 00:00:00 GMT", 2070},
		{"9110 5.6.7 76 at exactly 50 years is 2076", "Tuesday, 01-Dec-76 01:00:00 GMT", 2076},
		{"9110 5.6.7 76 a second past 50 years is 1976", "Wednesday, 01-Dec-76 01:00:01 GMT", 1976},
		{"9110 5.6.7 77 is 1977", "Thursday, 01-Dec-77 00:00:00 GMT", 1977},
		{"9110 5.6.7 00 is 2000", "Saturday, 01-Jan-00 00:00:00 GMT", 2000},
		{"9110 5.6.7 29 Feb 00 exists in 2000", "Tuesday, 29-Feb-00 00:00:00 GMT", 2000},
	}
	for _, tt := range tests {
		got, ok := parseHTTPDateAt(tt.in, clock)
		if !ok || got.Year() != tt.want {
			t.Errorf("%s: parseHTTPDateAt(%q) = %v, %v; want year %d", tt.name, tt.in, got, ok, tt.want)
		}
	}

	// A century on, "00" is 2100, where 29 February does not exist.
	later := func() time.Time { return time.Date(2080, 1, 1, 0, 0, 0, 0, time.UTC) }
	if got, ok := parseHTTPDateAt("Monday, 01-Mar-00 00:00:00 GMT", later); !ok || got.Year() != 2100 {
		t.Errorf("in 2080, 01-Mar-00 = %v, %v; want 2100", got, ok)
	}
	if got, ok := parseHTTPDateAt("Monday, 29-Feb-00 00:00:00 GMT", later); ok {
		t.Errorf("in 2080, 29-Feb-00 = %v, valid; 2100 is no leap year", got)
	}
	// The other forms carry four digits and never move.
	for _, in := range []string{"Mon, 01 Dec 1970 00:00:00 GMT", "Tue Dec  1 00:00:00 1970"} {
		if got, ok := parseHTTPDateAt(in, clock); !ok || got.Year() != 1970 {
			t.Errorf("parseHTTPDateAt(%q) = %v, %v; want 1970", in, got, ok)
		}
	}
}

// TestPolicy_rfc850ExpiresInThe2070sIsFresh is the neighbour through the public rules: an
// rfc850 Expires in 2070 gives a long lifetime, where it was read as 1970 and expired.
func TestPolicy_rfc850ExpiresInThe2070sIsFresh(t *testing.T) {
	r := resp(200, "Date", "Tue, 01 Dec 2026 00:00:00 GMT", "Expires", "Monday, 01-Dec-70 00:00:00 GMT")
	d := Policy{}.Storable(getReq(), r)
	if !d.Store || d.Lifetime < 40*365*24*time.Hour {
		t.Errorf("Storable with Expires in 2070 = %+v; want stored with a lifetime of decades", d)
	}
}
