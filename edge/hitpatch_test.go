package edge

import (
	"strings"
	"testing"
	"time"
)

// TestHitHead_patchedCopyIsThisSecondsOnly: the hits after the first in a second copy the
// template with that hit's Age and Cache-Status already in it (hitHead.patched); every hit,
// within a second, across a second's boundary and across several, still sends the bytes the
// field-by-field head sends at that moment, and a HEAD, a Range and a GET of the same object
// in one second each get their own Age and Cache-Status.
func TestHitHead_patchedCopyIsThisSecondsOnly(t *testing.T) {
	clock := newTestClock()
	o := hitHeadOrigin(t, clock, strings.Repeat("x", 100))
	cfg := "node: {name: test-edge}\ncache: {memory: 64MiB}\norigins:\n  o: {servers: [{url: " + o.URL + "}]}\n" +
		"routes:\n  - {match: {path_prefix: /}, origin: o, cache: true}\n"
	withTemplates, fieldByField := templatePair(t, cfg, clock)
	for _, p := range []string{"/plain", "/age"} {
		for _, n := range []*Node{withTemplates, fieldByField} {
			rawResponse(t, n.HTTPAddr(), "GET "+p+" HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
			n.bg.Wait()
		}
	}
	requests := []string{
		"GET %s HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
		"HEAD %s HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
		"GET %s HTTP/1.1\r\nHost: h\r\nRange: bytes=0-9\r\nConnection: close\r\n\r\n",
	}
	ages := map[string]bool{}
	for _, step := range []time.Duration{time.Second, 0, 400 * time.Millisecond, 700 * time.Millisecond, 0, 3 * time.Second, 599 * time.Millisecond} {
		clock.Add(step)
		for _, p := range []string{"/plain", "/age"} {
			for _, r := range requests {
				raw := strings.Replace(r, "%s", p, 1)
				for i := 0; i < 3; i++ { // the first hit of a second patches, the others copy
					got := rawResponse(t, withTemplates.HTTPAddr(), raw)
					want := rawResponse(t, fieldByField.HTTPAddr(), raw)
					if sameMessage(got) != sameMessage(want) {
						t.Fatalf("after %v, %s %q hit %d:\ntemplate:\n%s\nfield by field:\n%s", step, p, r[:4], i, got, want)
					}
					if !strings.Contains(got, "; hit; ttl=") {
						t.Fatalf("not a hit:\n%s", got)
					}
					_, age, _ := strings.Cut(got, "\r\nAge: ")
					age, _, _ = strings.Cut(age, "\r\n")
					ages[p+" "+age] = true
				}
			}
		}
	}
	if len(ages) != 6 {
		t.Errorf("the hits saw %d distinct Ages over 5.7 s on two objects, want 6 (1, 2 and 5 s, the second object 5 s older): %v", len(ages), ages)
	}
}
