package httpcache

import (
	"reflect"
	"testing"
	"time"
)

func TestEvaluateConditional(t *testing.T) {
	stored := resp(200, "ETag", `"v1"`, "Last-Modified", at(-time.Hour), "Date", at(0))
	tests := []struct {
		name   string
		method string
		req    Header
		stored Response
		want   int
	}{
		{"9110 13.1.2 If-None-Match match gives 304", "GET", hdr("If-None-Match", `"v1"`), stored, 304},
		{"9110 13.1.2 If-None-Match weak comparison", "GET", hdr("If-None-Match", `W/"v1"`), stored, 304},
		{"9110 13.1.2 If-None-Match in a list", "HEAD", hdr("If-None-Match", `"x", "v1"`), stored, 304},
		{"9110 13.1.2 If-None-Match across lines", "GET", hdr("If-None-Match", `"x"`, "If-None-Match", `"v1"`), stored, 304},
		{"9110 13.1.2 If-None-Match star", "GET", hdr("If-None-Match", "*"), stored, 304},
		{"9110 13.1.2 If-None-Match miss serves", "GET", hdr("If-None-Match", `"v2"`), stored, 0},
		{"9110 13.1.2 malformed If-None-Match serves", "GET", hdr("If-None-Match", `v1`), stored, 0},
		{"9110 13.1.3 If-Modified-Since not modified", "GET", hdr("If-Modified-Since", at(-time.Hour)), stored, 304},
		{"9110 13.1.3 If-Modified-Since modified", "GET", hdr("If-Modified-Since", at(-2*time.Hour)), stored, 0},
		{"9110 13.1.3 invalid If-Modified-Since ignored", "GET", hdr("If-Modified-Since", "yesterday"), stored, 0},
		{"9110 13.2.2 If-Modified-Since ignored with If-None-Match", "GET", hdr("If-None-Match", `"v2"`, "If-Modified-Since", at(0)), stored, 0},
		{"9111 4.3.2 If-Modified-Since falls back to Date", "GET", hdr("If-Modified-Since", at(0)), resp(200, "Date", at(-time.Minute)), 304},
		{"9110 13.1.1 If-Match miss gives 412", "GET", hdr("If-Match", `"v2"`), stored, 412},
		{"9110 13.1.1 If-Match uses strong comparison", "GET", hdr("If-Match", `W/"v1"`), stored, 412},
		{"9110 13.1.1 If-Match match then If-None-Match", "GET", hdr("If-Match", `"v1"`, "If-None-Match", `"v1"`), stored, 304},
		{"9110 13.1.1 If-Match star", "GET", hdr("If-Match", "*"), stored, 0},
		{"9110 13.1.4 If-Unmodified-Since violated", "GET", hdr("If-Unmodified-Since", at(-2*time.Hour)), stored, 412},
		{"9110 13.1.4 If-Unmodified-Since satisfied", "GET", hdr("If-Unmodified-Since", at(0)), stored, 0},
		{"9110 13.2.2 If-Unmodified-Since ignored with If-Match", "GET", hdr("If-Match", `"v1"`, "If-Unmodified-Since", at(-2*time.Hour)), stored, 0},
		{"9111 4.3.2 other methods go to the origin", "POST", hdr("If-Match", `"v2"`), stored, 0},
		{"9110 13.2.1 non-2xx stored response ignores preconditions", "GET", hdr("If-None-Match", "*"), resp(404, "ETag", `"v1"`), 0},
	}
	for _, tt := range tests {
		if got := EvaluateConditional(tt.method, tt.req, tt.stored); got != tt.want {
			t.Errorf("%s: got %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestNotModifiedHeader(t *testing.T) {
	stored := hdr("Content-Type", "text/html", "ETag", `"a"`, "Cache-Control", "max-age=5", "Vary", "Accept-Encoding", "Content-Length", "5", "Date", at(0))
	want := hdr("ETag", `"a"`, "Cache-Control", "max-age=5", "Vary", "Accept-Encoding", "Date", at(0))
	for _, v := range []HeaderView{ViewOf(stored), Pack(stored).View()} {
		if got := NotModifiedHeader(v); !reflect.DeepEqual(got, want) {
			t.Errorf("9110 15.4.5 NotModifiedHeader = %v, want %v", got, want)
		}
	}
}
