package edge

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// hotPair splits a two-node cluster into the owner of path (Host www.example.com) and the
// other node, which forwards it and keeps hot copies of it.
func hotPair(t *testing.T, nodes []*Node, path string) (key string, owner, other *Node) {
	t.Helper()
	key = cacheKey("http", "www.example.com", path, "")
	m, _ := nodes[0].Ring().Owner(key)
	for _, n := range nodes {
		if n.name == m.Name {
			owner = n
		} else {
			other = n
		}
	}
	if owner == nil || other == nil {
		t.Fatalf("no owner and other node for %s", key)
	}
	return key, owner, other
}

// ownerRefreshed waits until owner serves path with a body other than old.
func ownerRefreshed(t *testing.T, owner *Node, old, path string, header ...string) {
	t.Helper()
	for deadline := time.Now().Add(3 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, _, b := do(t, "GET", "http://"+owner.HTTPAddr()+path, "", header...); b != old {
			owner.settleFills()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the owner %s still serves the purged %s", owner.name, path)
		}
	}
}

// A purge reaches the nodes one by one. A node that applied it and forwards to an owner that
// has not yet gets the object the purge removed: relaying it is the owner's answer, keeping
// it as a hot copy is not, or the node serves it for cache.hot_ttl after the owner purged it
// too. Every kind of purge, hard or soft. Before keepCopy judged the copy against the purges
// applied since the owner's fill, each case served the old body at the end.
func TestHotCopy_notKeptFromAnOwnerThatHasNotPurgedYet(t *testing.T) {
	nodes, _, _ := purgeRouteCluster(t)
	host := []string{"Host", "www.example.com"}
	tests := []struct {
		name  string
		path  string
		purge func(n *Node, key string)
	}{
		{"url", "/plain/late-url.css", func(n *Node, key string) { purgeTarget{n.pipeline}.PurgeURL(key, false) }},
		{"url, soft", "/plain/late-soft.css", func(n *Node, key string) { purgeTarget{n.pipeline}.PurgeURL(key, true) }},
		{"prefix", "/plain/late-prefix.css", func(n *Node, key string) { purgeTarget{n.pipeline}.PurgePrefix(key[:len(key)-4], false) }},
		{"all, soft", "/plain/late-all.css", func(n *Node, _ string) { purgeTarget{n.pipeline}.PurgeAll(true) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, owner, other := hotPair(t, nodes, tt.path)
			old := cachedEverywhere(t, nodes, tt.path, host...)
			tt.purge(other, key) // the owner's delivery of the purge is late
			if _, h, b := do(t, "GET", "http://"+other.HTTPAddr()+tt.path, "", host...); b != old {
				t.Fatalf("the owner, not purged yet, did not answer the old body: %q (%s)", b, h.Get("Cache-Status"))
			}
			other.settleFills()
			tt.purge(owner, key)
			ownerRefreshed(t, owner, old, tt.path, host...)
			if _, h, b := do(t, "GET", "http://"+other.HTTPAddr()+tt.path, "", host...); b == old {
				t.Errorf("%s serves the purged body from a hot copy after both nodes purged it (%s)", other.name, h.Get("Cache-Status"))
			}
		})
	}
}

// After a soft purge the owner serves the old object while it revalidates; a node that
// forwards in that moment relays it, and must not keep it as a fresh hot copy. Through the
// purge API (both nodes apply it) and with the other node not reached yet (its hot copy had
// simply expired). Before: the old body for cache.hot_ttl in both.
func TestHotCopy_notRefilledFromAStaleAnswer(t *testing.T) {
	nodes, _, token := purgeRouteCluster(t)
	host := []string{"Host", "www.example.com"}
	tests := []struct {
		name  string
		path  string
		purge func(t *testing.T, owner, other *Node, key string)
	}{
		{"purge API, soft", "/plain/stale-api.css", func(t *testing.T, _, _ *Node, key string) {
			if status, res := postPurge(t, nodes[0].AdminAddr(), token, `{"url": "`+key+`", "soft": true}`); status != 200 || len(res["acked"].([]any)) != 2 {
				t.Fatalf("purge: %d %v", status, res)
			}
		}},
		{"owner only, soft", "/plain/stale-owner.css", func(t *testing.T, owner, other *Node, key string) {
			other.Store().Del(key)
			other.settleFills()
			purgeTarget{owner.pipeline}.PurgeURL(key, true)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, owner, other := hotPair(t, nodes, tt.path)
			old := cachedEverywhere(t, nodes, tt.path, host...)
			tt.purge(t, owner, other, key)
			_, h, b := do(t, "GET", "http://"+other.HTTPAddr()+tt.path, "", host...)
			if b != old || !strings.Contains(h.Get("Cache-Status"), "ttl=-") {
				t.Fatalf("the owner did not answer stale while it revalidates: %q (%s)", b, h.Get("Cache-Status"))
			}
			other.settleFills()
			ownerRefreshed(t, owner, old, tt.path, host...)
			if _, h, b := do(t, "GET", "http://"+other.HTTPAddr()+tt.path, "", host...); b == old {
				t.Errorf("%s serves the soft-purged body from a hot copy after the owner refreshed (%s)", other.name, h.Get("Cache-Status"))
			}
		})
	}
}

// An owner in its adoption window asks the runner-up only-if-cached and keeps the answer for
// its whole freshness: a hot copy, which the runner-up may keep for cache.hot_ttl only, must
// not be that answer. The request is the one forwardWith sends when it adopts; the owner
// itself, asked the same, answers from its own object. Before: 200 from the hot copy.
func TestHotCopy_neverAnswersAnAdoption(t *testing.T) {
	nodes, _, _ := purgeRouteCluster(t)
	path := "/plain/adopt.css"
	key, owner, other := hotPair(t, nodes, path)
	cachedEverywhere(t, nodes, path, "Host", "www.example.com")
	if obj, ok := other.Store().Get(key); !ok || !obj.Meta.Hot {
		t.Fatalf("%s holds no hot copy of %s", other.name, key)
	}
	adopt := func(n *Node) int {
		req := fasthttp.AcquireRequest()
		defer fasthttp.ReleaseRequest(req)
		resp := fasthttp.AcquireResponse()
		defer fasthttp.ReleaseResponse(resp)
		req.SetRequestURI("http://" + n.PeerAddr() + path)
		req.UseHostHeader = true
		req.Header.SetHost("www.example.com")
		req.Header.Set(forwardedHeader, "node-x")
		req.Header.Set(peerSecretHeader, n.peerSecret)
		req.Header.Set("Cache-Control", "only-if-cached")
		if err := fasthttp.DoTimeout(req, resp, 5*time.Second); err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode()
	}
	if got := adopt(other); got != http.StatusGatewayTimeout {
		t.Errorf("%s answered an adoption from its hot copy: %d, want 504", other.name, got)
	}
	if got := adopt(owner); got != http.StatusOK {
		t.Errorf("the owner %s did not answer from its own object: %d", owner.name, got)
	}
}

// The same through the adoption itself: an owner that lost an object (restarted empty, here
// purged on the owner alone) in its adoption window fills it from the origin, not from the
// other node's hot copy. Before: the hot copy's body, adopted for its whole freshness.
func TestHotCopy_notAdoptedByTheOwner(t *testing.T) {
	nodes, _, _ := purgeRouteCluster(t)
	path := "/plain/adopted.css"
	host := []string{"Host", "www.example.com"}
	key, owner, other := hotPair(t, nodes, path)
	old := cachedEverywhere(t, nodes, path, host...)
	purgeTarget{owner.pipeline}.PurgeURL(key, false)
	if !owner.adopting(time.Now()) {
		t.Fatal("the owner is past its adoption window")
	}
	if _, h, b := do(t, "GET", "http://"+owner.HTTPAddr()+path, "", host...); b == old {
		t.Errorf("the owner %s adopted %s's hot copy (%s)", owner.name, other.name, h.Get("Cache-Status"))
	}
}
