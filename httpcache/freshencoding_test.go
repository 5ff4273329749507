package httpcache

import (
	"reflect"
	"testing"
	"time"
)

// TestFreshen_keepsTheStoredCoding: RFC 9111 section 3.2, a 304 (or a HEAD) does not change
// the fields that describe the stored content's bytes: the body stays in the coding and the
// extent the 200 brought, whatever Content-Encoding or Content-Range the 304 names.
func TestFreshen_keepsTheStoredCoding(t *testing.T) {
	stored := hdr("Date", at(-time.Hour), "ETag", `"e"`, "Content-Length", "10", "Content-Type", "text/plain")
	notModified := hdr("Date", at(0), "ETag", `"e"`, "Content-Encoding", "gzip", "content-range", "bytes 0-1/10", "X-New", "n")
	want := hdr("Date", at(0), "ETag", `"e"`, "Content-Length", "10", "Content-Type", "text/plain", "X-New", "n")
	if got := Freshen(stored, notModified); !reflect.DeepEqual(got, want) {
		t.Errorf("9111 3.2: a 304's Content-Encoding and Content-Range on an identity body\n got %v\nwant %v", got, want)
	}
	coded := hdr("ETag", `"e"`, "Content-Encoding", "br", "Content-Length", "10")
	want = hdr("ETag", `"e"`, "Content-Encoding", "br", "Content-Length", "10")
	if got := Freshen(coded, hdr("ETag", `"e"`, "Content-Encoding", "gzip")); !reflect.DeepEqual(got, want) {
		t.Errorf("9111 3.2: a 304's Content-Encoding on a br body\n got %v\nwant %v", got, want)
	}
}
