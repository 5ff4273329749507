package edge

import (
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/httpcache"
	"github.com/valyala/fasthttp"
)

// TestCacheOutcome_member pins each decision's Cache-Status member (RFC 9211) to the bytes the
// pipeline sent when it wrote httpcache.CacheStatus fields by hand: the outcome is one value
// set once per decision, rendered by httpcache.CacheStatus.
func TestCacheOutcome_member(t *testing.T) {
	lookup := func(steps ...func(*cacheOutcome)) cacheOutcome {
		o := newCacheOutcome("edge-1")
		for _, s := range steps {
			s(&o)
		}
		return o
	}
	serve := func(s served) func(*cacheOutcome) { return func(o *cacheOutcome) { o.serve(s) } }
	ttl := func(d time.Duration) func(*cacheOutcome) { return func(o *cacheOutcome) { o.setTTL(d) } }
	filled := func(code int, stored bool) func(*cacheOutcome) {
		return func(o *cacheOutcome) { o.filled(code, stored) }
	}
	collapse := func(joined bool) func(*cacheOutcome) { return func(o *cacheOutcome) { o.collapse(joined) } }
	tests := []struct {
		name string
		got  cacheOutcome
		want httpcache.CacheStatus // what the pipeline built before cacheOutcome
		text string
	}{
		{"2.1 memory hit", lookup(serve(servedHit), ttl(52*time.Second+900*time.Millisecond)),
			httpcache.CacheStatus{Cache: "shoal", Hit: true, TTL: 52, HasTTL: true, Detail: "edge-1"},
			"shoal; hit; ttl=52; detail=edge-1"},
		{"2.4 stale-while-revalidate hit, ttl rounded down", lookup(serve(servedHit), ttl(-1500*time.Millisecond)),
			httpcache.CacheStatus{Cache: "shoal", Hit: true, TTL: -2, HasTTL: true, Detail: "edge-1"},
			"shoal; hit; ttl=-2; detail=edge-1"},
		// 0.3 s stale is stale: ttl=0 would read as fresh to the peer that forwarded the
		// request, which would keep a hot copy of it (it said ttl=0 before).
		{"2.3 less than a second stale says ttl=-1", lookup(serve(servedHit), ttl(-300*time.Millisecond)),
			httpcache.CacheStatus{Cache: "shoal", Hit: true, TTL: -1, HasTTL: true, Detail: "edge-1"},
			"shoal; hit; ttl=-1; detail=edge-1"},
		{"2.1 disk hit", lookup(func(o *cacheOutcome) { o.diskHit("edge-1") }, ttl(10*time.Second)),
			httpcache.CacheStatus{Cache: "shoal", Hit: true, TTL: 10, HasTTL: true, Detail: "edge-1/disk"},
			"shoal; hit; ttl=10; detail=edge-1/disk"},
		{"2.2 uri-miss stored", lookup(serve(fwdURIMiss), collapse(false), filled(200, true), ttl(60*time.Second)),
			httpcache.CacheStatus{Cache: "shoal", Fwd: "uri-miss", FwdStatus: 200, Stored: true, TTL: 60, HasTTL: true, Detail: "edge-1"},
			"shoal; fwd=uri-miss; fwd-status=200; ttl=60; stored; detail=edge-1"},
		{"2.2 vary-miss collapsed, not stored", lookup(serve(fwdVaryMiss), collapse(true), filled(200, false)),
			httpcache.CacheStatus{Cache: "shoal", Fwd: "vary-miss", FwdStatus: 200, Collapsed: true, Detail: "edge-1"},
			"shoal; fwd=vary-miss; fwd-status=200; collapsed; detail=edge-1"},
		{"2.2 stale revalidated", lookup(serve(fwdStale), collapse(false), filled(304, true), ttl(5*time.Second)),
			httpcache.CacheStatus{Cache: "shoal", Fwd: "stale", FwdStatus: 304, Stored: true, TTL: 5, HasTTL: true, Detail: "edge-1"},
			"shoal; fwd=stale; fwd-status=304; ttl=5; stored; detail=edge-1"},
		{"2.2 request directives refused a fresh copy", lookup(serve(fwdRequest), collapse(false), filled(304, true)),
			httpcache.CacheStatus{Cache: "shoal", Fwd: "request", FwdStatus: 304, Stored: true, Detail: "edge-1"},
			"shoal; fwd=request; fwd-status=304; stored; detail=edge-1"},
		{"5861 4 stale-if-error on a 503", lookup(serve(fwdStale), collapse(true), func(o *cacheOutcome) { o.staleOnError(503) }, ttl(-30*time.Second)),
			httpcache.CacheStatus{Cache: "shoal", Hit: true, Fwd: "stale", FwdStatus: 503, Collapsed: true, TTL: -30, HasTTL: true, Detail: "edge-1"},
			"shoal; hit; fwd=stale; fwd-status=503; ttl=-30; collapsed; detail=edge-1"},
		{"5861 4 stale-if-error, no answer", lookup(serve(fwdStale), func(o *cacheOutcome) { o.staleOnError(0) }, ttl(-2*time.Second)),
			httpcache.CacheStatus{Cache: "shoal", Hit: true, Fwd: "stale", TTL: -2, HasTTL: true, Detail: "edge-1"},
			"shoal; hit; fwd=stale; ttl=-2; detail=edge-1"},
		{"stale copy gone: the origin's 503", lookup(serve(fwdStale), func(o *cacheOutcome) { o.staleOnError(503) }, func(o *cacheOutcome) { o.staleGone() }, filled(503, false)),
			httpcache.CacheStatus{Cache: "shoal", Fwd: "stale", FwdStatus: 503, Detail: "edge-1"},
			"shoal; fwd=stale; fwd-status=503; detail=edge-1"}, // it said no fwd reason before
		{"lingering fill is a hit", lookup(serve(fwdURIMiss), collapse(true), collapse(false), serve(servedHit), ttl(59*time.Second)),
			httpcache.CacheStatus{Cache: "shoal", Hit: true, TTL: 59, HasTTL: true, Detail: "edge-1"},
			"shoal; hit; ttl=59; detail=edge-1"},
		{"5.2.1.7 only-if-cached 504", lookup(serve(fwdURIMiss), serve(servedUnlabelled)),
			httpcache.CacheStatus{Cache: "shoal", Detail: "edge-1"},
			"shoal; detail=edge-1"},
		{"peer hop", forwarded("edge-1", fwdMiss, 200),
			httpcache.CacheStatus{Cache: "shoal", Fwd: "miss", FwdStatus: 200, Detail: "edge-1"},
			"shoal; fwd=miss; fwd-status=200; detail=edge-1"},
		{"peer failed before its head", forwarded("edge-1", fwdMiss, 0),
			httpcache.CacheStatus{Cache: "shoal", Fwd: "miss", Detail: "edge-1"},
			"shoal; fwd=miss; detail=edge-1"},
		{"unsafe method", forwarded("edge-1", fwdMethod, 204),
			httpcache.CacheStatus{Cache: "shoal", Fwd: "method", FwdStatus: 204, Detail: "edge-1"},
			"shoal; fwd=method; fwd-status=204; detail=edge-1"},
		{"pass route", forwarded("edge-1", fwdBypass, 200),
			httpcache.CacheStatus{Cache: "shoal", Fwd: "bypass", FwdStatus: 200, Detail: "edge-1"},
			"shoal; fwd=bypass; fwd-status=200; detail=edge-1"},
	}
	for _, tt := range tests {
		if got := tt.got.member(); got != tt.want {
			t.Errorf("%s: member %+v, want %+v", tt.name, got, tt.want)
		}
		if got := tt.got.String(); got != tt.text {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.text)
		}
		var h fasthttp.ResponseHeader
		setCacheStatus(&h, "", tt.got)
		if got := string(h.Peek("Cache-Status")); got != tt.text {
			t.Errorf("%s: header %q, want %q", tt.name, got, tt.text)
		}
	}
}

// TestCacheOutcome_setCacheStatusDoesNotAllocate: a hit's Cache-Status is written on every
// hit (hitallocs_test.go counts the whole hit).
func TestCacheOutcome_setCacheStatusDoesNotAllocate(t *testing.T) {
	o := newCacheOutcome("edge-1")
	o.serve(servedHit)
	o.setTTL(time.Minute)
	var h fasthttp.ResponseHeader
	setCacheStatus(&h, "", o)
	n := testing.AllocsPerRun(100, func() { setCacheStatus(&h, "", o) })
	// A stored response's upstream members (RFC 9211 section 2) are written before the
	// node's in the same pooled buffer.
	n += testing.AllocsPerRun(100, func() { setCacheStatus(&h, "upstream; hit", o) })
	if raceEnabled {
		t.Logf("%v allocations per Cache-Status under -race (not checked: sync.Pool drops)", n)
		return
	}
	if n != 0 {
		t.Errorf("%v allocations per Cache-Status, want 0", n)
	}
}
