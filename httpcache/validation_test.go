package httpcache

import (
	"reflect"
	"testing"
	"time"
)

func TestConditionalHeaders(t *testing.T) {
	tests := []struct {
		name string
		resp Response
		want Header
	}{
		{"9111 4.3.1 ETag and Last-Modified", resp(200, "ETag", `"v1"`, "Last-Modified", at(-time.Hour)),
			hdr("If-None-Match", `"v1"`, "If-Modified-Since", at(-time.Hour))},
		{"9111 4.3.1 weak ETag still sent", resp(200, "ETag", `W/"v1"`), hdr("If-None-Match", `W/"v1"`)},
		{"9111 4.3.1 no validator, no conditions", resp(200), nil},
	}
	for _, tt := range tests {
		if got := ConditionalHeaders(tt.resp); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestFreshen(t *testing.T) {
	stored := hdr("Date", at(-time.Hour), "Cache-Control", "max-age=1", "ETag", `"e"`, "Content-Length", "10",
		"X-Test", "A", "Set-Cookie", "a=1", "Set-Cookie", "b=1", "Content-Type", "text/plain")
	notModified := hdr("Date", at(0), "Cache-Control", "max-age=3600", "ETag", `"e"`, "Content-Length", "0",
		"X-Test", "B", "Connection", "X-Hop", "X-Hop", "1", "Keep-Alive", "timeout=5",
		"Set-Cookie", "a=2", "Set-Cookie", "b=2", "X-New", "n", "Content-Type", "text/plain;charset=utf-8")
	got := Freshen(stored, notModified)
	want := hdr("Date", at(0), "Cache-Control", "max-age=3600", "ETag", `"e"`, "Content-Length", "10",
		"X-Test", "B", "Set-Cookie", "a=2", "Set-Cookie", "b=2", "Content-Type", "text/plain;charset=utf-8", "X-New", "n")
	if !reflect.DeepEqual(got, want) {
		t.Errorf("9111 3.2 Freshen\n got %v\nwant %v", got, want)
	}
	if stored.Get("X-Test") != "A" {
		t.Error("Freshen modified its input")
	}
}

func TestFreshenResponse_restartsAge(t *testing.T) {
	stored := resp(200, "Date", at(0), "Cache-Control", "max-age=10", "ETag", `"e"`)
	later := t0.Add(time.Hour)
	val := Response{Status: 304, Header: hdr("Date", FormatHTTPDate(later), "Cache-Control", "max-age=60"), RequestTime: later, ResponseTime: later}
	fr := FreshenResponse(stored, val)
	if fr.Status != 200 {
		t.Errorf("status = %d, want stored 200", fr.Status)
	}
	if age := CurrentAge(fr, later.Add(5*time.Second)); age != 5*time.Second {
		t.Errorf("9111 4.3.4 age after freshening = %v, want 5s", age)
	}
	d := Policy{}.Storable(getReq(), fr)
	if u := (Policy{}).Evaluate(getReq(), fr, d, later.Add(5*time.Second)); u.State != Fresh {
		t.Errorf("9111 4.3.4 freshened response not fresh: %+v", u)
	}
}

// TestFreshenResponse_ageIsTheValidations: the stored Age (a parent cache's, on the 200)
// is not the age of the freshened response; the 304's Age is, or none. Failed before: a
// max-age=3600 response stored with Age: 3500 was 3505 s old 5 s after a 304 without Age.
func TestFreshenResponse_ageIsTheValidations(t *testing.T) {
	stored := resp(200, "Date", at(0), "Cache-Control", "max-age=3600", "ETag", `"e"`, "Age", "3500")
	later := t0.Add(200 * time.Second)
	for _, tt := range []struct {
		name    string
		age     []string // the 304's Age lines
		wantAge time.Duration
	}{
		{"9111 4.3.4 a 304 without Age: the origin's, age 0", nil, 5 * time.Second},
		{"9111 4.3.4 a 304 with Age: a cache's, that age", []string{"Age", "30"}, 35 * time.Second},
	} {
		val := Response{Status: 304, Header: hdr(append([]string{"Date", FormatHTTPDate(later), "ETag", `"e"`}, tt.age...)...), RequestTime: later, ResponseTime: later}
		fr := FreshenResponse(stored, val)
		if got := fr.Header.Values("Age"); len(got) != len(tt.age)/2 {
			t.Errorf("%s: Age lines %q", tt.name, got)
		}
		if age := CurrentAge(fr, later.Add(5*time.Second)); age != tt.wantAge {
			t.Errorf("%s: age after freshening = %v, want %v", tt.name, age, tt.wantAge)
		}
	}
}

func TestNotModifiedMatches(t *testing.T) {
	lm := at(-time.Hour)
	tests := []struct {
		name   string
		stored Header
		nm     Header
		want   bool
	}{
		{"9111 4.3.4 strong ETag matches", hdr("ETag", `"a"`), hdr("ETag", `"a"`), true},
		{"9111 4.3.4 strong ETag differs", hdr("ETag", `"a"`), hdr("ETag", `"b"`), false},
		{"9111 4.3.4 strong ETag against weak stored", hdr("ETag", `W/"a"`), hdr("ETag", `"a"`), false},
		{"9111 4.3.4 weak ETag weakly matches", hdr("ETag", `"a"`), hdr("ETag", `W/"a"`), true},
		{"9111 4.3.4 Last-Modified matches", hdr("Last-Modified", lm), hdr("Last-Modified", lm), true},
		{"9111 4.3.4 Last-Modified differs", hdr("Last-Modified", lm), hdr("Last-Modified", at(0)), false},
		{"9111 4.3.4 no validator in 304", hdr("ETag", `"a"`), hdr("Date", at(0)), true},
	}
	for _, tt := range tests {
		for _, stored := range []HeaderView{ViewOf(tt.stored), Pack(tt.stored).View()} {
			if got := NotModifiedMatches(stored, tt.nm); got != tt.want {
				t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
			}
		}
	}
}

func TestHeadFreshens(t *testing.T) {
	stored := resp(200, "ETag", `"a"`, "Last-Modified", at(-time.Hour), "Content-Length", "10")
	tests := []struct {
		name string
		head Response
		want bool
	}{
		{"9111 4.3.5 matching ETag", resp(200, "ETag", `"a"`), true},
		{"9111 4.3.5 matching ETag and length", resp(200, "ETag", `"a"`, "Content-Length", "10"), true},
		{"9111 4.3.5 length differs", resp(200, "ETag", `"a"`, "Content-Length", "11"), false},
		{"9111 4.3.5 ETag differs", resp(200, "ETag", `"b"`), false},
		{"9111 4.3.5 Last-Modified differs", resp(200, "ETag", `"a"`, "Last-Modified", at(0)), false},
		{"9111 4.3.5 Last-Modified matches", resp(200, "Last-Modified", at(-time.Hour)), true},
		{"9111 4.3.5 no validator: treat as stale", resp(200, "Content-Length", "10"), false},
		{"9111 4.3.5 only a 200 updates", resp(404, "ETag", `"a"`), false},
	}
	for _, tt := range tests {
		if got := HeadFreshens(stored, tt.head); got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}
