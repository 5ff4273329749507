package httpcache

import (
	"reflect"
	"testing"
	"time"
)

func TestParseTargeted(t *testing.T) {
	tests := []struct {
		name  string
		lines []string
		want  Directives
		ok    bool
	}{
		{"9213 2.1 max-age integer", []string{"max-age=60"}, Directives{HasMaxAge: true, MaxAge: time.Minute}, true},
		{"9213 2.1 extension directive ignored", []string{"foobar, max-age=60"}, Directives{HasMaxAge: true, MaxAge: time.Minute}, true},
		{"9213 2.1 lines joined", []string{"max-age=60", "no-transform"}, Directives{HasMaxAge: true, MaxAge: time.Minute, NoTransform: true}, true},
		{"9213 3.1 unknown-only field is valid and governs", []string{"none"}, Directives{}, true},
		{"9213 2.1 string max-age ignored", []string{`max-age="60"`}, Directives{}, true},
		{"9213 2.1 decimal max-age ignored", []string{"max-age=60.5"}, Directives{}, true},
		{"9213 2.1 negative max-age ignored", []string{"max-age=-1"}, Directives{}, true},
		{"8941 4.2.2 last duplicate wins", []string{"max-age=1, max-age=60"}, Directives{HasMaxAge: true, MaxAge: time.Minute}, true},
		{"8941 3.2 parameters ignored", []string{"max-age=60;foo=bar, public;x"}, Directives{HasMaxAge: true, MaxAge: time.Minute, Public: true}, true},
		{"8941 3.3.6 boolean false does not set", []string{"no-store=?0"}, Directives{}, true},
		{"9213 2.1 empty field ignored", []string{""}, Directives{}, false},
		{"9213 2.1 absent field ignored", nil, Directives{}, false},
		{"9213 2.1 invalid item fails the field", []string{"max-age=60, &&&"}, Directives{}, false},
		{"8941 3.2 upper-case key fails the field", []string{"MaX-aGe=60"}, Directives{}, false},
		{"8941 3.2 space before = fails the field", []string{"max-age =60"}, Directives{}, false},
		{"8941 3.2 space after = fails the field", []string{"max-age= 60"}, Directives{}, false},
		{"8941 3.2 trailing comma fails the field", []string{"max-age=60,"}, Directives{}, false},
		{"8941 3.3.1 integer over 15 digits fails", []string{"max-age=1234567890123456"}, Directives{}, false},
		{"8941 3.3.3 bad escape fails", []string{`private="a\b"`}, Directives{}, false},
		{"8941 3.3.5 byte sequence parsed", []string{"x=:aGVsbG8=:, public"}, Directives{Public: true}, true},
	}
	for _, tt := range tests {
		got, ok := parseTargeted(tt.lines)
		if ok != tt.ok || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: parseTargeted(%q) = %+v, %v; want %+v, %v", tt.name, tt.lines, got, ok, tt.want, tt.ok)
		}
	}
}

func TestStripTargeted_consumesOwnFieldsOnly(t *testing.T) {
	h := hdr("Cache-Control", "max-age=5", "CDN-Cache-Control", "max-age=60", "Shoal-Cache-Control", "max-age=600", "Surrogate-Control", "max-age=60")
	for _, f := range (Policy{}).ConsumedFields() {
		StripTargeted(&h, f)
	}
	want := hdr("Cache-Control", "max-age=5", "CDN-Cache-Control", "max-age=60")
	if !reflect.DeepEqual(h, want) {
		t.Errorf("9213 3 after stripping: %v, want %v", h, want)
	}
	if got := (Policy{TargetedField: "X-CC"}).ConsumedFields(); got[0] != "X-CC" {
		t.Errorf("ConsumedFields = %v", got)
	}
}
