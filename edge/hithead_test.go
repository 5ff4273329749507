package edge

import (
	"net/http"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/cachestore"
	"github.com/valyala/fasthttp"
)

// hitHeadOrigin answers every path of the template tests: a stored 200 with the fields a
// hit's head filters (Age, no-cache="...", Via, repeated lines, a field the rules remove,
// Vary) and body, with its Content-Length.
func hitHeadOrigin(t *testing.T, clock *testClock, body string) *rfcOrigin {
	return startRFCOrigin(t, clock, func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "max-age=600")
		h.Set("Content-Type", "text/plain")
		h.Set("ETag", `"v1"`)
		h.Set("X-Powered-By", "PHP/8.2")
		switch r.URL.Path {
		case "/nocache-field":
			h.Set("Cache-Control", `max-age=600, no-cache="X-Secret"`)
			h.Set("X-Secret", "s")
		case "/via":
			h.Set("Via", "1.0 upstream")
		case "/multi":
			h.Add("X-Multi", "a")
			h.Add("X-Multi", "b")
		case "/age":
			h.Set("Age", "5")
		case "/vary":
			h.Set("Vary", "Accept-Encoding")
		}
		h.Set("Content-Length", strconv.Itoa(len(body)))
		w.Write([]byte(body))
	})
}

// TestHitHead_sameBytesAsFieldByField: a hit written from its template (hithead.go) sends
// the very bytes the field-by-field head sends, for every shape of stored response, request
// and route policy: the origin's Date (not the node's), Age and ttl of this hit, the fields
// a cache drops, Via, response rules applied once, HEAD, Range, HTTP/1.0 and preconditions.
// Two nodes with one clock and one origin: one with templates, one without.
func TestHitHead_sameBytesAsFieldByField(t *testing.T) {
	clock := newTestClock()
	o := hitHeadOrigin(t, clock, strings.Repeat("x", 100))
	routes := map[string]string{
		"no rules": "",
		"constant rules": `    headers:
      response:
        set: {X-Frame-Options: SAMEORIGIN, Strict-Transport-Security: "max-age=31536000"}
        add: {X-Extra: one}
        remove: [X-Powered-By]
`,
		"rules with a variable": `    headers:
      response:
        set: {X-Served-By: "${node} ${path}"}
        add: {X-Extra: one}
`,
		"rules on a field written per hit": `    headers:
      response:
        remove: [Age]
        add: {X-Extra: one}
`,
	}
	paths := []string{"/plain", "/nocache-field", "/via", "/multi", "/age"}
	requests := []struct{ name, head string }{
		{"GET", "GET %s HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"},
		{"HEAD", "HEAD %s HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"},
		{"Range", "GET %s HTTP/1.1\r\nHost: h\r\nRange: bytes=0-9\r\nConnection: close\r\n\r\n"},
		{"HTTP/1.0", "GET %s HTTP/1.0\r\nHost: h\r\n\r\n"},
		{"If-None-Match other", "GET %s HTTP/1.1\r\nHost: h\r\nIf-None-Match: \"v0\"\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n"},
	}
	for name, policy := range routes {
		t.Run(name, func(t *testing.T) {
			cfg := "node: {name: test-edge}\ncache: {memory: 64MiB}\norigins:\n  o: {servers: [{url: " + o.URL + "}]}\n" +
				"routes:\n  - match: {path_prefix: /}\n    origin: o\n    cache: true\n" + policy
			withTemplates, fieldByField := templatePair(t, cfg, clock)
			if fieldByField.rt.Load().heads != nil || withTemplates.rt.Load().heads == nil {
				t.Fatal("noHitHeads did not choose the head writer")
			}
			for _, p := range paths {
				for _, n := range []*Node{withTemplates, fieldByField} {
					rawResponse(t, n.HTTPAddr(), "GET "+p+" HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
					n.bg.Wait()
				}
			}
			clock.Add(7 * time.Second)
			for _, p := range paths {
				for _, r := range requests {
					raw := strings.Replace(r.head, "%s", p, 1)
					var want, got string
					for i := 0; i < 2; i++ { // the first hit renders the template, the second copies it
						got = rawResponse(t, withTemplates.HTTPAddr(), raw)
						want = rawResponse(t, fieldByField.HTTPAddr(), raw)
					}
					if sameMessage(got) != sameMessage(want) {
						t.Errorf("%s %s:\ntemplate:\n%s\nfield by field:\n%s", p, r.name, got, want)
					}
					if !strings.Contains(got, "Date: "+clock.httpDate(-7*time.Second)) || !strings.Contains(got, "; hit; ttl=") {
						t.Errorf("%s %s: not a hit with the origin's Date:\n%s", p, r.name, got)
					}
				}
			}
		})
	}
}

// TestHitHead_agePerHit: the template's Age and Cache-Status ttl are this hit's, not those
// of the hit that rendered it.
func TestHitHead_agePerHit(t *testing.T) {
	clock := newTestClock()
	o := hitHeadOrigin(t, clock, strings.Repeat("x", 100))
	n := rfcNode(t, clock, o.URL, "")
	fillOnce(t, n, "/plain")
	since := 0
	for _, step := range []int{3, 4, 50} {
		clock.Add(time.Duration(step) * time.Second)
		since += step
		r := send(t, n, "GET", "/plain")
		if !r.hit() {
			t.Fatalf("not a hit: %v", r.header)
		}
		if got, want := r.cacheStatus(), "; ttl="+strconv.Itoa(600-since)+";"; !strings.Contains(got, want) {
			t.Errorf("Cache-Status %q, want %q", got, want)
		}
		if got := r.header.Values("Age"); len(got) != 1 || got[0] != strconv.Itoa(since) {
			t.Errorf("Age %q, want %d", got, since)
		}
	}
}

// TestHitHead_reloadedRulesReachHits: a reload swaps the templates with the settings, so a
// hot object's hits carry the new response rules at once.
func TestHitHead_reloadedRulesReachHits(t *testing.T) {
	clock := newTestClock()
	o := hitHeadOrigin(t, clock, strings.Repeat("x", 100))
	cfg := func(v string) string {
		return "node: {name: test-edge}\ncache: {memory: 64MiB}\norigins:\n  o: {servers: [{url: " + o.URL + "}]}\n" +
			"routes:\n  - match: {path_prefix: /}\n    origin: o\n    cache: true\n    headers: {response: {set: {X-Rule: " + v + "}}}\n"
	}
	n := startNode(t, cfg("one"), Options{Now: clock.Now})
	fillOnce(t, n, "/plain")
	for i := 0; i < 3; i++ {
		if r := send(t, n, "GET", "/plain"); !r.hit() || r.header.Values("X-Rule")[0] != "one" || len(r.header.Values("X-Rule")) != 1 {
			t.Fatalf("before reload: %v", r.header)
		}
	}
	if err := reloadConfig(t, n, cfg("two")); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if r := send(t, n, "GET", "/plain"); !r.hit() || strings.Join(r.header.Values("X-Rule"), ",") != "two" {
			t.Fatalf("after reload: X-Rule %q (%v)", r.header.Values("X-Rule"), r.header)
		}
	}
}

// TestHitHeads_secondChance: a template that hits keep using stays in its slot when another
// object asks for it once; an unused one gives way.
func TestHitHeads_secondChance(t *testing.T) {
	var heads hitHeads
	hot, cold := &cachestore.Meta{}, &cachestore.Meta{}
	// Two metas that share a slot.
	for heads.slot(cold, nil, false) != heads.slot(hot, nil, false) {
		cold = &cachestore.Meta{}
	}
	if heads.claim(hot, nil, false) || !heads.claim(hot, nil, false) {
		t.Fatal("an empty slot refused the second ask in a row (the doorkeeper lets the first by)")
	}
	heads.keep(&hitHead{meta: hot})
	if heads.find(hot, nil, false) == nil {
		t.Fatal("kept template not found")
	}
	if heads.find(hot, nil, true) != nil || heads.find(hot, &routeRules{}, false) != nil {
		t.Fatal("a template served another shape of the head")
	}
	if heads.claim(cold, nil, false) {
		t.Fatal("the doorkeeper let a first ask claim")
	}
	if heads.claim(cold, nil, false) {
		t.Fatal("a used template gave way at the first claim")
	}
	if !heads.claim(cold, nil, false) {
		t.Fatal("an unused template kept its slot")
	}
}

// TestServerHead_noDefaultDate: the seed of every template tells fasthttp not to write a
// Date of its own, so the origin's Date is the one sent.
func TestServerHead_noDefaultDate(t *testing.T) {
	seed := serverHead()
	if seed == nil {
		t.Fatal("fasthttp's server never ran the seed's handler")
	}
	var h fasthttp.ResponseHeader
	seed.CopyTo(&h)
	h.SetStatusCode(200)
	if head := string(h.Header()); strings.Contains(head, "Date:") || strings.Contains(head, "Content-Type") {
		t.Fatalf("the seed head writes defaults:\n%s", head)
	}
}

// sameMessage is a raw response in a form where two equal messages compare equal: the
// status line and body as sent, the field lines sorted by name, lines of one name in the
// order sent (RFC 9110 section 5.3: only that order carries meaning).
func sameMessage(raw string) string {
	head, body, _ := strings.Cut(raw, "\r\n\r\n")
	lines := strings.Split(head, "\r\n")
	fields := lines[1:]
	sort.SliceStable(fields, func(i, j int) bool {
		a, _, _ := strings.Cut(fields[i], ":")
		b, _, _ := strings.Cut(fields[j], ":")
		return strings.ToLower(a) < strings.ToLower(b)
	})
	return lines[0] + "\n" + strings.Join(fields, "\n") + "\n\n" + body
}
