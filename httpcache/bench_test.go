package httpcache

import (
	"testing"
	"time"
)

func BenchmarkParseCacheControl(b *testing.B) {
	lines := []string{`public, max-age=3600, s-maxage=600, stale-while-revalidate=30, no-cache="Set-Cookie"`}
	b.ReportAllocs()
	for b.Loop() {
		ParseCacheControl(lines)
	}
}

func BenchmarkPolicy_Evaluate(b *testing.B) {
	p := Policy{}
	stored := resp(200, "Date", at(0), "Cache-Control", "max-age=3600", "Age", "10", "ETag", `"x"`, "Content-Type", "text/css")
	d := p.Storable(getReq(), stored)
	req := getReq("Host", "example.com", "Accept-Encoding", "gzip, br", "Cache-Control", "max-age=600")
	now := t0.Add(time.Minute)
	b.ReportAllocs()
	for b.Loop() {
		p.Evaluate(req, stored, d, now)
	}
}

func BenchmarkSecondaryKey(b *testing.B) {
	names := []string{"accept-encoding", "accept-language"}
	req := getReq("Accept-Encoding", "gzip, deflate, br, zstd", "Accept-Language", "en-US,en;q=0.9").Header
	b.ReportAllocs()
	for b.Loop() {
		SecondaryKey(names, req)
	}
}

func BenchmarkHeader_Get(b *testing.B) {
	h := hdr("Host", "example.com", "User-Agent", "x", "Accept", "*/*", "Cache-Control", "no-cache")
	b.ReportAllocs()
	for b.Loop() {
		_ = h.Get("cache-control")
	}
}

func TestEvaluate_doesNotAllocate(t *testing.T) {
	p := Policy{}
	stored := resp(200, "Date", at(0), "Cache-Control", "max-age=3600", "Age", "10")
	d := p.Storable(getReq(), stored)
	req := getReq("Cache-Control", "max-age=600, no-cache", "Pragma", "no-cache")
	if n := testing.AllocsPerRun(100, func() { p.Evaluate(req, stored, d, t0) }); n != 0 {
		t.Errorf("Evaluate allocates %v times per call", n)
	}
	if n := testing.AllocsPerRun(100, func() { _ = req.Header.Get("pragma") }); n != 0 {
		t.Errorf("Header.Get allocates %v times per call", n)
	}
}
