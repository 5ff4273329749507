package edge

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestHitHead_softPurgeAndFresheningMatchFieldByField: an object whose template and this
// second's patched copy exist is soft-purged (served stale while it revalidates, Cache-Status
// ttl negative), and a second object goes stale and is freshened by a 304 (a new object with
// new fields, RFC 9111 section 4.3.4); every hit before, between and after, within a second
// and across seconds, sends the bytes the field-by-field head sends at that moment: no
// template or patched copy outlives the object, the mark or the second it was made for.
func TestHitHead_softPurgeAndFresheningMatchFieldByField(t *testing.T) {
	clock := newTestClock()
	o := startRFCOrigin(t, clock, func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/plain")
		h.Set("ETag", `"v1"`)
		h.Set("Cache-Control", "max-age=600, stale-while-revalidate=60")
		if r.URL.Path == "/short" {
			h.Set("Cache-Control", "max-age=2")
		}
		h.Set("X-Served", clock.Now().Format(time.TimeOnly)) // a 304 freshens it (RFC 9111 4.3.4)
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Write([]byte(strings.Repeat("x", 100)))
	})
	cfg := "node: {name: test-edge}\ncache: {memory: 64MiB}\norigins:\n  o: {servers: [{url: " + o.URL + "}]}\n" +
		"routes:\n  - {match: {path_prefix: /}, origin: o, cache: true}\n"
	withTemplates, fieldByField := templatePair(t, cfg, clock)
	nodes := []*Node{withTemplates, fieldByField}
	settle := func() {
		for _, n := range nodes {
			n.bg.Wait()
		}
	}
	// One clock: both nodes store the same fields.
	ask := func(p string) (got, want string) {
		got = rawResponse(t, withTemplates.HTTPAddr(), "GET "+p+" HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
		settle()
		want = rawResponse(t, fieldByField.HTTPAddr(), "GET "+p+" HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
		settle()
		return got, want
	}
	hits := func(when string, p string) {
		t.Helper()
		for i := 0; i < 3; i++ { // the template, the hit that patches, the hit that copies
			got, want := ask(p)
			if sameMessage(got) != sameMessage(want) {
				t.Fatalf("%s, %s hit %d:\ntemplate:\n%s\nfield by field:\n%s", when, p, i, got, want)
			}
		}
	}
	for _, p := range []string{"/long", "/short"} {
		ask(p) // the fills
	}
	clock.Add(time.Second)
	hits("before the purge", "/long")
	hits("before the purge", "/short")

	for _, n := range nodes {
		n.Store().PurgeAll(true)
	}
	hits("soft-purged", "/long") // stale, then revalidated in the background
	clock.Add(time.Second)
	hits("a second after the soft purge", "/long")

	clock.Add(2 * time.Second) // /short is stale: its next request is freshened by a 304
	hits("freshened", "/short")
	clock.Add(time.Second)
	hits("a second after the 304", "/short")
}

// templatePair starts two nodes of cfg on one clock: one writing hits from templates, one
// field by field (noHitHeads), for tests that compare their bytes.
func templatePair(t *testing.T, cfg string, clock *testClock) (withTemplates, fieldByField *Node) {
	t.Helper()
	withTemplates = startNode(t, cfg, Options{Now: clock.Now})
	noHitHeads = true
	defer func() { noHitHeads = false }()
	return withTemplates, startNode(t, cfg, Options{Now: clock.Now})
}
