package httpcache

import (
	"math"
	"testing"
	"time"
)

func TestCurrentAge(t *testing.T) {
	tests := []struct {
		name string
		resp Response
		now  time.Time
		want time.Duration
	}{
		{"9111 4.2.3 fresh arrival has age 0", resp(200, "Date", at(0)), t0, 0},
		{"9111 4.2.3 resident time adds", resp(200, "Date", at(0)), t0.Add(90 * time.Second), 90 * time.Second},
		{"9111 4.2.3 apparent age from an old Date", resp(200, "Date", at(-30*time.Second)), t0, 30 * time.Second},
		{"9111 4.2.3 Date in the future gives apparent age 0", resp(200, "Date", at(time.Hour)), t0, 0},
		{"9111 4.2.3 missing Date uses response time", resp(200), t0.Add(time.Second), time.Second},
		{"9111 4.2.3 upstream Age counts", resp(200, "Date", at(0), "Age", "100"), t0, 100 * time.Second},
		{"9111 4.2.3 corrected initial age is the max", resp(200, "Date", at(-200*time.Second), "Age", "100"), t0, 200 * time.Second},
		{"9111 4.2.3 response delay added to Age", Response{Status: 200, Header: hdr("Date", at(0), "Age", "10"), RequestTime: t0.Add(-5 * time.Second), ResponseTime: t0}, t0, 15 * time.Second},
		{"9111 4.2.3 unknown request time means no delay", Response{Status: 200, Header: hdr("Age", "10"), ResponseTime: t0}, t0, 10 * time.Second},
		{"9111 5.1 list-valued Age uses first member", resp(200, "Date", at(0), "Age", "7200, 0"), t0, 2 * time.Hour},
		{"9111 5.1 first Age line wins", resp(200, "Date", at(0), "Age", "0", "Age", "7200"), t0, 0},
		{"9111 5.1 invalid Age ignored", resp(200, "Date", at(0), "Age", "abc"), t0, 0},
		{"9111 5.1 negative Age ignored", resp(200, "Date", at(0), "Age", "-7200"), t0, 0},
		{"9111 1.2.2 huge Age clamps", resp(200, "Date", at(0), "Age", "99999999999999"), t0, maxDeltaSeconds * time.Second},
		{"clock stepped back: resident time never negative", resp(200, "Date", at(0)), t0.Add(-time.Hour), 0},
		// Go's zero time as a Date saturates apparent_age; residence must not wrap it
		// negative (failed before: -2562047h47m15.854775809s).
		{"9111 5.1 an age never wraps negative", resp(200, "Date", "Mon, 01 Jan 0001 00:00:00 GMT"), t0.Add(time.Second), math.MaxInt64},
		{"9111 5.1 an age never wraps negative, with Age", resp(200, "Date", "Mon, 01 Jan 0001 00:00:00 GMT", "Age", "99999999999"), t0.Add(time.Hour), math.MaxInt64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CurrentAge(tt.resp, tt.now); got != tt.want {
				t.Errorf("CurrentAge = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestAgeValue(t *testing.T) {
	tests := []struct {
		name string
		in   time.Duration
		want string
	}{
		{"9111 5.1 whole seconds", 1500 * time.Millisecond, "1"},
		{"9111 5.1 never negative", -time.Second, "0"},
		{"9111 5.1 overflow sends 2147483648", 1 << 62, "2147483648"},
	}
	for _, tt := range tests {
		if got := AgeValue(tt.in); got != tt.want {
			t.Errorf("%s: AgeValue(%v) = %q, want %q", tt.name, tt.in, got, tt.want)
		}
	}
}

func TestParseHTTPDate(t *testing.T) {
	want := time.Date(1994, 11, 6, 8, 49, 37, 0, time.UTC)
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"9110 5.6.7 IMF-fixdate", "Sun, 06 Nov 1994 08:49:37 GMT", true},
		{"9110 5.6.7 rfc850-date", "Sunday, 06-Nov-94 08:49:37 GMT", true},
		{"9110 5.6.7 asctime-date", "Sun Nov  6 08:49:37 1994", true},
		{"9110 5.6.7 GMT is case-sensitive", "Sun, 06 Nov 1994 08:49:37 gmt", false},
		{"9110 5.6.7 other zones invalid", "Sun, 06 Nov 1994 08:49:37 PST", false},
		{"9110 5.6.7 impossible day", "Thu, 31 Feb 1994 08:49:37 GMT", false},
		{"9111 5.3 the value 0", "0", false},
	}
	for _, tt := range tests {
		got, ok := parseHTTPDate(tt.in)
		if ok != tt.ok || ok && !got.Equal(want) {
			t.Errorf("%s: parseHTTPDate(%q) = %v, %v", tt.name, tt.in, got, ok)
		}
	}
	if s := FormatHTTPDate(want); s != "Sun, 06 Nov 1994 08:49:37 GMT" {
		t.Errorf("FormatHTTPDate = %q", s)
	}
}
