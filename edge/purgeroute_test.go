package edge

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/internal/testenv"
)

// purgeRouteRoutes key what clients ask for elsewhere than the URL they used: each route
// through one rule of cache_key or rewrite.
const purgeRouteRoutes = `routes:
  - match: {path_prefix: /assets/}
    origin: o
    cache: true
    rewrite: {strip_prefix: /assets}
    cache_key: {ignore_params: ["utm_*", gclid]}
  - match: {path_prefix: /anyhost/}
    origin: o
    cache: true
    cache_key: {ignore_host: true}
  - match: {path_prefix: /sorted/}
    origin: o
    cache: true
    cache_key: {sort_params: true}
  - match: {path_prefix: /vary/}
    origin: o
    cache: true
    cache_key: {include_headers: [X-Device], include_cookies: [lang]}
  - match: {path_prefix: /}
    origin: o
    cache: true
`

// purgeRouteCluster is two nodes with a disk tier each in front of nginx, whose every answer
// is fresh for a minute and carries a new id: a body that changes is a refetch. The disk
// tier's fsync per ban once let a node ack the fan-out of a purge its gossip copy was still
// applying, and serve the purged object after the ack (about one loaded run in 36).
func purgeRouteCluster(t *testing.T) ([]*Node, *testenv.Nginx, string) {
	t.Helper()
	ngx := testenv.StartNginx(t, testenv.NginxOptions{Extra: `location / { expires 60s; return 200 "$request_id\n"; }`})
	dir := t.TempDir()
	token := "purge-token-0123456789abcdef"
	tokenFile := filepath.Join(dir, "purge.token")
	if err := os.WriteFile(tokenFile, []byte(token), 0o600); err != nil {
		t.Fatal(err)
	}
	secret := writeSecret(t)
	var nodes []*Node
	for i := range 2 {
		join := "[]"
		if i > 0 {
			join = "[" + nodes[0].Ring().GossipAddr() + "]"
		}
		nodes = append(nodes, startNode(t, fmt.Sprintf(`node: {name: node-%d, region: local}
listen: {http: "127.0.0.1:0", admin: "127.0.0.1:0", peer: "127.0.0.1:0"}
cache: {memory: 64MiB, max_object_size: 8MiB, fill_timeout: 5s, hot_local: true, hot_ttl: 30s, disk: {path: %q, size: 16MiB}}
cluster: {bind: "127.0.0.1:0", join: %s, secret_file: %s}
purge: {token_file: %s, allow: [127.0.0.0/8]}
origins: {o: {servers: [{url: %q}]}}
%s`, i+1, t.TempDir(), join, secret, tokenFile, ngx.URL, purgeRouteRoutes), Options{Logger: testLogger(t)}))
	}
	waitMembers(t, nodes, 2)
	return nodes, ngx, token
}

// cachedEverywhere fetches path (header: name, value pairs) through every node until each
// answers a hit, and returns the one body they all serve.
func cachedEverywhere(t *testing.T, nodes []*Node, path string, header ...string) string {
	t.Helper()
	var body string
	for round := range 3 {
		for _, n := range nodes {
			_, h, b := do(t, "GET", "http://"+n.HTTPAddr()+path, "", header...)
			if body == "" {
				body = b
			}
			if b != body {
				t.Fatalf("%s %s: %q, another node served %q", n.name, path, b, body)
			}
			if round == 2 && !strings.Contains(h.Get("Cache-Status"), "hit") {
				t.Fatalf("%s %s not cached: %q", n.name, path, h.Get("Cache-Status"))
			}
			n.settleFills()
		}
	}
	return body
}

// refetchedEverywhere waits until every node serves path with a body other than old (a soft
// purge may serve the old one while it revalidates, on the owner and relayed by the others,
// which keep no hot copy of a stale answer: hotpurge_test.go).
func refetchedEverywhere(t *testing.T, nodes []*Node, old, path string, header ...string) {
	t.Helper()
	for _, n := range nodes {
		deadline := time.Now().Add(3 * time.Second)
		var first string
		for {
			_, h, b := do(t, "GET", "http://"+n.HTTPAddr()+path, "", header...)
			if b != old {
				break
			}
			if first == "" {
				first = h.Get("Cache-Status")
			}
			if time.Now().After(deadline) {
				t.Errorf("%s still serves the purged %s (%q, %q; first answer after the purge %q)", n.name, path, b, h.Get("Cache-Status"), first)
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// An operator purges the URL a client used; every node must drop every object that URL is
// served from, whatever key its route made of it. Before purges were resolved through the
// route, each case below kept serving the old body.
func TestPurge_urlFindsWhatTheRouteKeyed(t *testing.T) {
	nodes, _, token := purgeRouteCluster(t)
	host := []string{"Host", "www.example.com"}
	purgeAPI := func(body string) {
		t.Helper()
		if status, res := postPurge(t, nodes[0].AdminAddr(), token, body); status != 200 || len(res["acked"].([]any)) != 2 {
			t.Fatalf("purge %s: %d %v", body, status, res)
		}
	}
	purgeMethod := func(n *Node, path string, header ...string) {
		t.Helper()
		if status, _, body := do(t, "PURGE", "http://"+n.HTTPAddr()+path, "", header...); status != 200 || !strings.Contains(body, `"acked":["node-`) {
			t.Fatalf("PURGE %s: %d %s", path, status, body)
		}
	}

	t.Run("rewrite and ignored parameters, API", func(t *testing.T) {
		old := cachedEverywhere(t, nodes, "/assets/a.css?v=1&utm_source=x", host...)
		purgeAPI(`{"url": "http://www.example.com/assets/a.css?utm_medium=mail&v=1&gclid=7"}`)
		refetchedEverywhere(t, nodes, old, "/assets/a.css?v=1", host...)
	})
	t.Run("rewrite, PURGE with Purge-Mode soft", func(t *testing.T) {
		old := cachedEverywhere(t, nodes, "/assets/soft.css", host...)
		purgeMethod(nodes[1], "/assets/soft.css?utm_source=x", "Host", "www.example.com", "Purge-Mode", "soft")
		refetchedEverywhere(t, nodes, old, "/assets/soft.css", host...)
	})
	t.Run("ignore_host, PURGE through another host name", func(t *testing.T) {
		old := cachedEverywhere(t, nodes, "/anyhost/b.css", host...)
		purgeMethod(nodes[1], "/anyhost/b.css", "Host", "static.example.net")
		refetchedEverywhere(t, nodes, old, "/anyhost/b.css", host...)
	})
	t.Run("sort_params, the URL as the client ordered it", func(t *testing.T) {
		old := cachedEverywhere(t, nodes, "/sorted/c.css?b=2&a=1", host...)
		purgeAPI(`{"url": "http://www.example.com/sorted/c.css?b=2&a=1"}`)
		refetchedEverywhere(t, nodes, old, "/sorted/c.css?a=1&b=2", host...)
	})
	t.Run("include_headers and include_cookies, every variant, soft", func(t *testing.T) {
		mobile := append([]string{"X-Device", "mobile", "Cookie", "lang=en"}, host...)
		desktop := append([]string{"X-Device", "desktop"}, host...)
		oldMobile := cachedEverywhere(t, nodes, "/vary/d.css", mobile...)
		oldDesktop := cachedEverywhere(t, nodes, "/vary/d.css", desktop...)
		purgeAPI(`{"url": "http://www.example.com/vary/d.css", "soft": true}`)
		refetchedEverywhere(t, nodes, oldMobile, "/vary/d.css", mobile...)
		refetchedEverywhere(t, nodes, oldDesktop, "/vary/d.css", desktop...)
	})
	t.Run("a URL whose route has no rules keeps its meaning", func(t *testing.T) {
		old := cachedEverywhere(t, nodes, "/plain/e.css?x=1", host...)
		keep := cachedEverywhere(t, nodes, "/plain/e.css?x=2", host...)
		purgeAPI(`{"url": "http://www.example.com/plain/e.css?x=1"}`)
		refetchedEverywhere(t, nodes, old, "/plain/e.css?x=1", host...)
		if _, _, b := do(t, "GET", "http://"+nodes[1].HTTPAddr()+"/plain/e.css?x=2", "", host...); b != keep {
			t.Errorf("another URL was purged: %q, was %q", b, keep)
		}
	})
}

// RFC 9111 section 4.4 through a route: a POST to the URL a client uses invalidates the
// object its route keyed (the rewritten path, without tracking parameters), on every node.
func TestPurge_unsafeMethodInvalidatesTheRoutesKey(t *testing.T) {
	nodes, _, _ := purgeRouteCluster(t)
	host := []string{"Host", "www.example.com"}
	old := cachedEverywhere(t, nodes, "/assets/form.css", host...)
	if status, _, _ := do(t, "POST", "http://"+nodes[1].HTTPAddr()+"/assets/form.css?utm_source=x", "a=1", append([]string{"Content-Type", "application/x-www-form-urlencoded"}, host...)...); status != http.StatusOK {
		t.Fatalf("POST: %d", status)
	}
	refetchedEverywhere(t, nodes, old, "/assets/form.css", host...)

	old = cachedEverywhere(t, nodes, "/anyhost/form.css", host...)
	do(t, "DELETE", "http://"+nodes[0].HTTPAddr()+"/anyhost/form.css", "", "Host", "other.example")
	refetchedEverywhere(t, nodes, old, "/anyhost/form.css", host...)

	// A PUT without the key's field invalidates every variant the field made.
	mobile := append([]string{"X-Device", "mobile"}, host...)
	old = cachedEverywhere(t, nodes, "/vary/form.css", mobile...)
	do(t, "PUT", "http://"+nodes[1].HTTPAddr()+"/vary/form.css", "x", host...)
	refetchedEverywhere(t, nodes, old, "/vary/form.css", mobile...)
}
