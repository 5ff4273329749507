package httpcache

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestParseRange(t *testing.T) {
	tests := []struct {
		name string
		in   string
		size int64
		want []ByteRange
		err  error
	}{
		{"9110 14.1.2 first-last", "bytes=0-99", 1000, []ByteRange{{0, 99}}, nil},
		{"9110 14.1.2 open-ended", "bytes=900-", 1000, []ByteRange{{900, 999}}, nil},
		{"9110 14.1.2 suffix", "bytes=-100", 1000, []ByteRange{{900, 999}}, nil},
		{"9110 14.1.2 suffix longer than content", "bytes=-5000", 1000, []ByteRange{{0, 999}}, nil},
		{"9110 14.1.2 last-pos beyond end is clamped", "bytes=990-5000", 1000, []ByteRange{{990, 999}}, nil},
		{"9110 14.1.2 multiple ranges keep order", "bytes=0-9, 500-509", 1000, []ByteRange{{0, 9}, {500, 509}}, nil},
		{"9110 14.1.2 disjoint out of order kept", "bytes=500-509,0-9", 1000, []ByteRange{{500, 509}, {0, 9}}, nil},
		{"9110 14.2 overlapping ranges coalesced", "bytes=0-50,40-99,100-120", 1000, []ByteRange{{0, 120}}, nil},
		{"9110 14.1.1 unit is case-insensitive", "Bytes=0-0", 10, []ByteRange{{0, 0}}, nil},
		{"9110 14.1.2 unsatisfiable ranges dropped", "bytes=0-9,2000-", 1000, []ByteRange{{0, 9}}, nil},
		{"9110 14.1.2 first-pos beyond end unsatisfiable", "bytes=1000-", 1000, nil, ErrRangeNotSatisfiable},
		{"9110 14.1.2 zero suffix unsatisfiable", "bytes=-0", 1000, nil, ErrRangeNotSatisfiable},
		{"9110 14.1.2 empty content unsatisfiable", "bytes=0-", 0, nil, ErrRangeNotSatisfiable},
		{"9110 14.2 last before first is invalid", "bytes=10-5", 1000, nil, ErrRangeInvalid},
		{"9110 14.2 unknown unit ignored", "items=0-5", 1000, nil, ErrRangeInvalid},
		{"9110 14.2 garbage ignored", "bytes=a-b", 1000, nil, ErrRangeInvalid},
		{"9110 14.2 missing dash ignored", "bytes=5", 1000, nil, ErrRangeInvalid},
		{"9110 14.2 empty set ignored", "bytes=", 1000, nil, ErrRangeInvalid},
		{"9110 14.2 negative number ignored", "bytes=--5", 1000, nil, ErrRangeInvalid},
		{"9110 14.2 overflow ignored", "bytes=99999999999999999999-", 1000, nil, ErrRangeInvalid},
	}
	for _, tt := range tests {
		got, err := ParseRange(tt.in, tt.size)
		if !errors.Is(err, tt.err) || tt.err == nil && err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: ParseRange(%q, %d) = %v, %v; want %v, %v", tt.name, tt.in, tt.size, got, err, tt.want, tt.err)
		}
	}
}

func TestParseRange_tooManyRangesIgnored(t *testing.T) {
	v := "bytes=0-0"
	for i := 0; i < maxRanges; i++ {
		v += ",0-0"
	}
	if _, err := ParseRange(v, 10); !errors.Is(err, ErrRangeInvalid) {
		t.Errorf("9110 14.2 %d ranges: err = %v, want ErrRangeInvalid", maxRanges+1, err)
	}
}

func TestContentRange(t *testing.T) {
	if got := ContentRange(ByteRange{0, 99}, 1000); got != "bytes 0-99/1000" {
		t.Errorf("9110 14.4 ContentRange = %q", got)
	}
	if got := ContentRangeUnsatisfied(1000); got != "bytes */1000" {
		t.Errorf("9110 14.4 ContentRangeUnsatisfied = %q", got)
	}
	if (ByteRange{5, 9}).Length() != 5 {
		t.Error("Length wrong")
	}
}

func TestIfRangeMatches(t *testing.T) {
	lm := at(-time.Hour)
	stored := resp(200, "ETag", `"v1"`, "Last-Modified", lm)
	tests := []struct {
		name   string
		in     string
		stored Response
		want   bool
	}{
		{"9110 13.1.5 strong ETag match", `"v1"`, stored, true},
		{"9110 13.1.5 ETag differs", `"v2"`, stored, false},
		{"9110 13.1.5 weak ETag never matches", `W/"v1"`, stored, false},
		{"9110 13.1.5 stored weak ETag never matches", `"v1"`, resp(200, "ETag", `W/"v1"`), false},
		{"9110 13.1.5 exact date match", lm, stored, true},
		{"9110 13.1.5 other date", at(0), stored, false},
		{"9110 8.8.2.2 date match a second before Date is strong", at(-time.Second), resp(200, "Date", at(0), "Last-Modified", at(-time.Second)), true},
		{"9110 8.8.2.2 date match in Date's second is weak", at(0), resp(200, "Date", at(0), "Last-Modified", at(0)), false},
		{"9110 8.8.2.2 date match after Date is weak", at(time.Minute), resp(200, "Date", at(0), "Last-Modified", at(time.Minute)), false},
		{"9110 13.1.5 date without a stored Last-Modified", at(-time.Hour), resp(200, "Date", at(0), "ETag", `"v1"`), false},
		{"9110 13.1.5 garbage", "yesterday", stored, false},
		{"9110 13.1.5 empty", "", stored, false},
	}
	for _, tt := range tests {
		if got := IfRangeMatches(tt.in, tt.stored); got != tt.want {
			t.Errorf("%s: IfRangeMatches(%q) = %v, want %v", tt.name, tt.in, got, tt.want)
		}
	}
}

func TestMultipartByteranges(t *testing.T) {
	body := []byte("0123456789")
	ctype, out := MultipartByteranges([]ByteRange{{0, 1}, {8, 20}}, body, "text/plain", "SEP")
	if ctype != "multipart/byteranges; boundary=SEP" {
		t.Errorf("9110 14.6 content type = %q", ctype)
	}
	want := "--SEP\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-1/10\r\n\r\n01" +
		"\r\n--SEP\r\nContent-Type: text/plain\r\nContent-Range: bytes 8-9/10\r\n\r\n89" +
		"\r\n--SEP--\r\n"
	if string(out) != want {
		t.Errorf("9110 14.6 body\n got %q\nwant %q", out, want)
	}
	_, out = MultipartByteranges([]ByteRange{{-1, 3}, {50, 60}}, body, "", "a b")
	if string(out) != "--a b--\r\n" {
		t.Errorf("out-of-range parts must be skipped, got %q", out)
	}
	if ct, _ := MultipartByteranges(nil, body, "", "a b"); ct != `multipart/byteranges; boundary="a b"` {
		t.Errorf("non-token boundary must be quoted: %q", ct)
	}
}
