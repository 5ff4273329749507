package edge

import (
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/cachestore"
)

// TestNode_hitsOnManyObjectsAllocateNoTemplates: hits spread over more objects than the
// template table holds (a Zipf mix over a full cache) write their heads field by field and
// allocate nothing per hit, instead of rendering a template for each object that the next
// object through the slot pushes out. Each such template was about 40 allocations and
// 2.6 KiB: at 5,000 hits a second, garbage enough for a collection of the whole cache every
// few seconds. An object hit again through its slot still gets one (the zero-allocation
// test of a repeated hit, TestNode_hitAllocatesNothing).
func TestNode_hitsOnManyObjectsAllocateNoTemplates(t *testing.T) {
	o := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=3600")
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("ETag", `"v1"`)
		w.Write([]byte(strings.Repeat("x", 1024)))
	})
	cfg := "node: {name: bench}\ncache: {memory: 256MiB}\norigins:\n  o: {servers: [{url: " + o.URL + "}]}\nroutes:\n" +
		"  - {match: {path_prefix: /}, origin: o, cache: true}\n"
	n := startNode(t, cfg, Options{})
	const objects = 3 * hitHeadSlots
	paths := make([]string, objects)
	ctx := benchCtx("/")
	for i := range paths {
		paths[i] = "/o/" + strconv.Itoa(i)
		ctx.Request.SetRequestURI(paths[i])
		n.handleHTTP1(ctx)
		drainBody(ctx)
		resetResponse(ctx)
	}
	n.settleFills() // the next requests are store hits, not joins of the finished fill
	hits := 0
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for round := 0; round < 2; round++ {
		for i := range paths {
			ctx.Request.SetRequestURI(paths[(i*7919)%objects])
			n.handleHTTP1(ctx)
			if !strings.Contains(string(ctx.Response.Header.Peek("Cache-Status")), "; hit") {
				t.Fatalf("%s: not a hit: %s", paths[(i*7919)%objects], ctx.Response.Header.Peek("Cache-Status"))
			}
			resetResponse(ctx)
			hits++
		}
	}
	runtime.ReadMemStats(&after)
	allocs := float64(after.Mallocs-before.Mallocs) / float64(hits)
	bytes := float64(after.TotalAlloc-before.TotalAlloc) / float64(hits)
	if raceEnabled {
		t.Logf("%.1f allocations, %.0f B per hit under -race (not checked)", allocs, bytes)
		return
	}
	// Before the doorkeeper: 41.8 allocations and 2,661 B per hit. What is left is one
	// small allocation on some hits (48 B), not a template.
	if allocs > 2 || bytes > 256 {
		t.Errorf("%.1f allocations, %.0f B per hit over %d objects, want at most 2 and 256 B", allocs, bytes, objects)
	}
}

// TestHitHeads_doorkeeper: a shape gets a template only when it asks through its slot twice
// in a row; another shape asking in between starts it over.
func TestHitHeads_doorkeeper(t *testing.T) {
	var heads hitHeads
	a, b := &cachestore.Meta{}, &cachestore.Meta{}
	for heads.slot(a, nil, false) != heads.slot(b, nil, false) {
		b = &cachestore.Meta{}
	}
	if heads.claim(a, nil, false) {
		t.Fatal("the first ask claimed the slot")
	}
	if heads.claim(b, nil, false) {
		t.Fatal("another shape's first ask claimed the slot")
	}
	if heads.claim(a, nil, false) {
		t.Fatal("a claimed the slot although b asked in between")
	}
	if !heads.claim(a, nil, false) {
		t.Fatal("the second ask in a row did not claim an empty slot")
	}
	if heads.claim(a, nil, true) {
		t.Fatal("another shape of the same object (vary) shares the first shape's ask")
	}
}

// TestHitHead_oneHitASecondMakesNoPatchedCopy: an object hit once a second edits its own copy
// of the template; the patched copy (an allocation) is made by the second hit of a second.
func TestHitHead_oneHitASecondMakesNoPatchedCopy(t *testing.T) {
	clock := newTestClock()
	o := hitHeadOrigin(t, clock, strings.Repeat("x", 100))
	cfg := "node: {name: test-edge}\ncache: {memory: 64MiB}\norigins:\n  o: {servers: [{url: " + o.URL + "}]}\n" +
		"routes:\n  - {match: {path_prefix: /}, origin: o, cache: true}\n"
	n := startNode(t, cfg, Options{Now: clock.Now})
	ctx := benchCtx("/plain")
	hit := func() {
		t.Helper()
		n.handleHTTP1(ctx)
		if !strings.Contains(string(ctx.Response.Header.Peek("Cache-Status")), "; hit") {
			t.Fatalf("not a hit: %s", ctx.Response.Header.Peek("Cache-Status"))
		}
		resetResponse(ctx)
	}
	n.handleHTTP1(ctx)
	drainBody(ctx)
	resetResponse(ctx)
	n.settleFills() // the next requests are store hits, not joins of the finished fill
	hit()
	hit() // the second ask renders the template
	l := n.rt.Load()
	var hh *hitHead
	for i := range l.heads.slots {
		if h := l.heads.slots[i].Load(); h != nil {
			hh = h
		}
	}
	if hh == nil {
		t.Fatal("no template after two hits")
	}
	for s := 0; s < 5; s++ {
		clock.Add(time.Second)
		hit()
		if hh.patched.Load() != nil && hh.patched.Load().age == int64(s+1) {
			t.Fatalf("second %d: one hit made a patched copy", s+1)
		}
	}
	hit()
	if ph := hh.patched.Load(); ph == nil || ph.age != 5 {
		t.Fatalf("the second hit of a second made no patched copy (%v)", ph)
	}
}
