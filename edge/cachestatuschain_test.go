package edge

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

var ttlParam = regexp.MustCompile(`ttl=-?[0-9]+; `)

// TestNode_cacheStatusKeepsTheUpstreamMembers is RFC 9211 section 2: "When adding a value
// to the Cache-Status header field, caches SHOULD preserve the existing field value, to
// allow debugging of the entire chain of caches handling the request." An origin behind
// another cache (a Varnish or a CDN shield) answers with that cache's member; the node's
// goes after it. Failed before: every answer carried the node's member alone (a miss, a
// hit from the field-by-field head and from the hit template, HEAD, a Range, a pass, an
// unsafe method's fwd=method), found by the cache-tests sweep's probes (edge/README.md).
// The origin's two lines are one list (RFC 9110 section 5.3): both members stay, in order.
func TestNode_cacheStatusKeepsTheUpstreamMembers(t *testing.T) {
	clock := newTestClock()
	origin := startRFCOrigin(t, clock, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Cache-Status", "upstream; hit")
		w.Header().Add("Cache-Status", `mid; fwd=miss; detail="a, b"`)
		w.Header().Set("Cache-Control", "max-age=60")
		fmt.Fprint(w, "0123456789")
	})
	cfg := strings.Replace(oneRoute(true, origin.URL), "routes:\n", "routes:\n  - {match: {path_prefix: /pass}, origin: o, cache: false}\n", 1)
	n := startNode(t, cfg, Options{Now: clock.Now})
	const upstream = `upstream; hit, mid; fwd=miss; detail="a, b", `
	cases := []struct {
		name, method, path string
		header             []string
		want               string
	}{
		{"a miss", "GET", "/s", nil, upstream + "shoal; fwd=uri-miss; fwd-status=200; ttl=60; stored; detail=test-edge"},
		// Hits past the second ask for the object's head template (hithead.go), and the
		// hits after those take its patched copy: each path keeps the upstream members.
		{"hit 1", "GET", "/s", nil, upstream + "shoal; hit; ttl=60; detail=test-edge"},
		{"hit 2", "GET", "/s", nil, upstream + "shoal; hit; ttl=60; detail=test-edge"},
		{"hit 3", "GET", "/s", nil, upstream + "shoal; hit; ttl=60; detail=test-edge"},
		{"hit 4", "GET", "/s", nil, upstream + "shoal; hit; ttl=60; detail=test-edge"},
		{"a HEAD hit", "HEAD", "/s", nil, upstream + "shoal; hit; ttl=60; detail=test-edge"},
		{"a Range hit", "GET", "/s", []string{"Range", "bytes=0-1"}, upstream + "shoal; hit; ttl=60; detail=test-edge"},
		{"a pass route", "GET", "/pass/x", nil, upstream + "shoal; fwd=bypass; fwd-status=200; detail=test-edge"},
		{"an unsafe method on a cache route", "POST", "/p", nil, upstream + "shoal; fwd=method; fwd-status=200; detail=test-edge"},
		{"an unsafe method on a pass route", "POST", "/pass/p", nil, upstream + "shoal; fwd=bypass; fwd-status=200; detail=test-edge"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := send(t, n, c.method, c.path, c.header...)
			n.bg.Wait()
			if got := strings.Join(r.header.Values("Cache-Status"), ", "); got != c.want {
				t.Errorf("Cache-Status %q, want %q", got, c.want)
			}
		})
	}
}

// TestCluster_cacheStatusKeepsTheUpstreamMembersOverThePeerHop: a non-owner relays the
// owner's list and adds its member; its hot copy keeps the upstream members but not the
// owner's, which described the owner's answer, not the copy's hits. Failed before: the
// forward carried the owner's member before the origin's second line, and the hot copy's
// hits carried the node's member alone.
func TestCluster_cacheStatusKeepsTheUpstreamMembersOverThePeerHop(t *testing.T) {
	// The shield served stale: its ttl=-3 is not the owner's, whose answer is fresh and is
	// kept as a hot copy (staleAnswer reads the owner's member only).
	owner, other := upstreamChainCluster(t, "http://hot.example/chain.css", "Cache-Status", "shoal; hit; ttl=-3; detail=shield-1", "mid; fwd=miss")
	const upstream = "shoal; hit; ttl=-3; detail=shield-1, mid; fwd=miss, "
	url := "http://" + other.HTTPAddr() + "/chain.css"
	_, h, _ := get(t, url, "Host", "hot.example") // forwarded: owner fills
	// The cluster runs on the real clock: the owner's ttl is not compared.
	want := upstream + "shoal; fwd=uri-miss; fwd-status=200; ttl=60; stored; detail=" + owner + ", shoal; fwd=miss; fwd-status=200; detail=" + other.name
	if got := strings.Join(h.Values("Cache-Status"), ", "); ttlParam.ReplaceAllString(got, "") != ttlParam.ReplaceAllString(want, "") {
		t.Errorf("forwarded miss: Cache-Status %q, want %q", got, want)
	}
	get(t, url, "Host", "hot.example") // forwarded again: popular now, copy kept
	other.settleFills()
	_, h, _ = get(t, url, "Host", "hot.example")
	got := strings.Join(h.Values("Cache-Status"), ", ")
	if !strings.HasPrefix(got, upstream+"shoal; hit;") || !strings.HasSuffix(got, "detail="+other.name) || strings.Count(got, "shoal;") != 2 {
		t.Errorf("hot copy hit: Cache-Status %q, want %q then the non-owner's hit", got, upstream)
	}
}

// upstreamChainCluster starts two nodes in front of an origin that answers with two lines
// of field (an upstream proxy's and cache's members) and a minute of freshness, and returns
// the name of the owner of url and the other node, which forwards it.
func upstreamChainCluster(t *testing.T, url, field, first, second string) (owner string, other *Node) {
	t.Helper()
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add(field, first)
		w.Header().Add(field, second)
		w.Header().Set("Cache-Control", "max-age=60")
		fmt.Fprint(w, "chain")
	})
	nodes := startCluster(t, 2, origin.URL)
	m, _ := nodes[0].Ring().Owner(url)
	if m.Name == nodes[0].name {
		return m.Name, nodes[1]
	}
	return m.Name, nodes[0]
}
