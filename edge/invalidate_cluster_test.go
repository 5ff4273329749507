package edge

import (
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
)

// RFC 9111 section 4.4 in a cluster: a POST answered through a member that does not own the
// URL invalidates the owner's stored response and every member's hot copy, so the next GET,
// through any member, gets the changed resource.
func TestCluster_unsafeMethodInvalidatesEveryMember(t *testing.T) {
	var version atomic.Int64
	version.Store(1)
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			version.Add(1)
			w.Header().Set("Cache-Control", "no-store")
			fmt.Fprint(w, "updated")
			return
		}
		w.Header().Set("Cache-Control", "max-age=300")
		fmt.Fprintf(w, "v%d", version.Load())
	})
	nodes, _ := purgeCluster(t, 3, origin.URL)
	const key = "http://shop.example/cart.css"
	owner, _ := nodes[0].Ring().Owner(key)
	var others []*Node
	for _, n := range nodes {
		if n.name != owner.Name {
			others = append(others, n)
		}
	}
	// Fill on the owner, and a hot copy on others[1] (asked twice within hot_ttl).
	for range 3 {
		for _, n := range nodes {
			get(t, "http://"+n.HTTPAddr()+"/cart.css", "Host", "shop.example")
		}
	}
	for _, n := range nodes {
		n.settleFills()
	}
	req, _ := http.NewRequest("POST", "http://"+others[0].HTTPAddr()+"/cart.css", strings.NewReader("x=1"))
	req.Host = "shop.example"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST answered %d", resp.StatusCode)
	}
	for _, n := range nodes {
		_, h, body := get(t, "http://"+n.HTTPAddr()+"/cart.css", "Host", "shop.example")
		if body != "v2" {
			t.Errorf("GET through %s after the POST through %s: %q (Cache-Status %q), want v2", n.name, others[0].name, body, h.Get("Cache-Status"))
		}
	}
}
