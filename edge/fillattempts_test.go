package edge

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/httpcache"
)

// TestFill_attemptsAreBounded: a follower sent on by the fill it joined (another variant)
// joins the variant's fill, and when that one sends it on again (the origin changed its Vary
// between responses), its last attempt fetches alone instead of joining a third fill.
//
// The steps are ordered by the test: each fill's origin request is held until released, and
// the store's Vary names are set by hand where a lookup must know them before a fill ends.
func TestFill_attemptsAreBounded(t *testing.T) {
	held := map[string]chan struct{}{"a": make(chan struct{}), "b": make(chan struct{}), "d": make(chan struct{})}
	arrived := make(chan string, 8)
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		name, vary := "r", "X-Region"
		switch {
		case r.Header.Get("X-Lang") == "en":
			name, vary = "a", "X-Lang"
		case r.Header.Get("X-Region") == "south":
			name = "b"
		case r.Header.Get("X-Lang") == "de":
			name = "d"
		}
		arrived <- name
		if c := held[name]; c != nil {
			<-c
		}
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("Vary", vary)
		fmt.Fprint(w, name)
	})
	n := startNode(t, oneRoute(true, origin.URL), Options{})
	released := map[string]bool{}
	release := func(name string) {
		if !released[name] {
			released[name] = true
			close(held[name])
		}
	}
	// Registered after startNode's: runs first, so that no origin request holds the
	// node's shutdown when the test fails early.
	t.Cleanup(func() { release("a"); release("b"); release("d") })
	url := cacheKey("http", n.HTTPAddr(), "/v", "")
	wait := func(what string, done func() bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); !done(); runtimeYield() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}
	arrive := func(want string) {
		t.Helper()
		select {
		case got := <-arrived:
			if got != want {
				t.Fatalf("origin request %q, want %q", got, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("origin request %q never came", want)
		}
	}
	replies := map[string]chan reply{}
	ask := func(name string, header ...string) {
		c := make(chan reply, 1)
		replies[name] = c
		go func() { c <- send(t, n, "GET", "/v", header...) }()
	}

	// Fill a, of the URL (no Vary known yet), and r following it.
	ask("a", "X-Lang", "en")
	arrive("a")
	ask("r", "X-Lang", "fr", "X-Region", "north")
	// Joins are watched on the coalescer: the followers' metric counts answered requests.
	wait("r to join a", func() bool { return n.fills.Joined(url) == 2 })
	// Fill b, of the variant X-Lang: fr (its lookup knows the Vary a will answer with).
	n.store.SetVary(url, []string{"X-Lang"})
	ask("b", "X-Lang", "fr", "X-Region", "south")
	arrive("b")
	// a answers for X-Lang: en: r, not that variant, joins b.
	release("a")
	fr, _ := httpcache.SecondaryKey([]string{"x-lang"}, httpcache.Header{{Name: "X-Lang", Value: "fr"}})
	wait("r to join b", func() bool { return n.fills.Joined(url+"\x00"+fr) == 2 })
	wait("a to be stored", func() bool { return counterValue(n.metrics.stored) == 1 })
	// Fill d, of the variant X-Region: north, which r's request selects under b's answer.
	n.store.SetVary(url, []string{"X-Region"})
	ask("d", "X-Lang", "de", "X-Region", "north")
	arrive("d")
	// b answers varying on X-Region, for south: r is sent on a second time and, on its
	// last attempt, fetches alone rather than wait for d.
	release("b")
	arrive("r")
	var r reply
	select {
	case r = <-replies["r"]:
	case <-time.After(10 * time.Second):
		t.Fatalf("r waited for d: it joined a third fill")
	}
	release("d")
	if r.body != "r" || strings.Contains(r.cacheStatus(), "collapsed") {
		t.Errorf("r got %q with Cache-Status %q, want its own fetch, not collapsed", r.body, r.cacheStatus())
	}
	if cs := r.cacheStatus(); !strings.HasPrefix(cs, "shoal; fwd=uri-miss; fwd-status=200; ttl=") || !strings.HasSuffix(cs, "; stored; detail=test-edge") {
		t.Errorf("Cache-Status %q, want a stored uri-miss", cs)
	}
	for _, name := range []string{"a", "b", "d"} {
		if got := <-replies[name]; got.body != name {
			t.Errorf("%s got %q", name, got.body)
		}
	}
	// Four requests missed: r's three attempts are one request (TestNode_aMissIsCountedOncePerRequest).
	if got := counterValue(n.metrics.misses); got != 4 {
		t.Errorf("%d misses counted, want 4 (a, b, d and r, whose three attempts are one request)", got)
	}
}
