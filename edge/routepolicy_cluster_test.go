package edge

import (
	"fmt"
	"strings"
	"testing"

	"github.com/shoal-cdn/shoal/internal/testenv"
)

// A route's policy holds in a cluster: a node that forwards a request to its owner sends the
// client's request (not the rewritten one), so the owner matches the same route, derives the
// same key and fills once; response fields are added once, by the node facing the client.
func TestCluster_routePolicyThroughForwarding(t *testing.T) {
	ngx := testenv.StartNginx(t, testenv.NginxOptions{Extra: `location / { expires 60s; return 200 "path=$uri args=[$args] cookie=[$http_cookie] edge=[$http_x_edge]\n"; }`})
	secret := writeSecret(t)
	var nodes []*Node
	for i := 0; i < 2; i++ {
		join := "[]"
		if i > 0 {
			join = "[" + nodes[0].Ring().GossipAddr() + "]"
		}
		nodes = append(nodes, startNode(t, fmt.Sprintf(`node: {name: node-%d, region: local}
listen: {http: "127.0.0.1:0", admin: "127.0.0.1:0", peer: "127.0.0.1:0"}
cache: {memory: 64MiB, max_object_size: 8MiB, fill_timeout: 5s}
cluster: {bind: "127.0.0.1:0", join: %s, secret_file: %s}
origins: {o: {servers: [{url: %q}]}}
routes:
  - match: {path_prefix: /assets/}
    origin: o
    cache: true
    rewrite: {strip_prefix: /assets}
    cache_key: {ignore_params: ["utm_*"]}
    cookies: {strip_request: true}
    headers:
      request: {set: {X-Edge: "${node}"}}
      response: {add: {X-Policy: "once"}}
`, i+1, join, secret, ngx.URL), Options{Logger: testLogger(t)}))
	}
	waitMembers(t, nodes, 2)
	forwarded := 0
	for i := 0; i < 8; i++ {
		path := fmt.Sprintf("/assets/f%d.css", i)
		var first string
		for j, n := range nodes {
			_, h, body := do(t, "GET", "http://"+n.HTTPAddr()+path+"?a=1&utm_source=x"+strings.Repeat("x", j), "", "Host", "www.example.com", "Cookie", "s=1")
			if !strings.HasPrefix(body, fmt.Sprintf("path=/f%d.css args=[a=1] cookie=[] edge=[node-", i)) {
				t.Errorf("%s via %s: origin saw %q", path, n.name, body)
			}
			if v := h.Values("X-Policy"); len(v) != 1 {
				t.Errorf("%s via %s: X-Policy %q, want one line", path, n.name, v)
			}
			for _, m := range nodes {
				m.settleFills()
			}
			if j == 0 {
				first = body
			} else if body != first {
				t.Errorf("%s: node-2 answered %q, node-1 %q: two objects for one key", path, body, first)
			}
			if cs := h.Get("Cache-Status"); strings.Contains(cs, ", ") {
				forwarded++ // two members: the owner's, then this node's
			}
		}
		if got := originCount(ngx, fmt.Sprintf("/f%d.css", i), 1); got != 1 {
			t.Errorf("%s: origin saw %d requests, want 1", path, got)
		}
	}
	if forwarded == 0 {
		t.Errorf("no request was forwarded: the test did not cross nodes")
	}
}
