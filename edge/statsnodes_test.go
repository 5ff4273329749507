package edge

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestCluster_statsShowsTheNodes: /stats and /stats.json showed the node's cache, pools and
// routes but no cluster member at all (DESIGN.md promises "nodes"), so during churn an
// operator could not see from a node which peers it counts, their state or their addresses.
// Both now list every member the node's ring sees, itself marked, and drop one that leaves.
func TestCluster_statsShowsTheNodes(t *testing.T) {
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {})
	nodes := startCluster(t, 3, origin.URL)
	read := func() map[string]map[string]any {
		_, _, body := get(t, "http://"+nodes[0].AdminAddr()+"/stats.json")
		var s struct {
			Nodes []map[string]any `json:"nodes"`
		}
		if err := json.Unmarshal([]byte(body), &s); err != nil {
			t.Fatalf("stats.json: %v", err)
		}
		byName := map[string]map[string]any{}
		for _, m := range s.Nodes {
			name, _ := m["name"].(string)
			byName[name] = m
		}
		return byName
	}
	got := read()
	for _, n := range nodes {
		m, ok := got[n.name]
		if !ok {
			t.Fatalf("stats.json nodes %v lack %s", got, n.name)
		}
		if m["state"] != "alive" || m["peer_addr"] != n.PeerAddr() || (m["self"] == true) != (n == nodes[0]) {
			t.Errorf("stats.json says of %s %v; want alive at %s, self %v", n.name, m, n.PeerAddr(), n == nodes[0])
		}
	}
	_, _, page := get(t, "http://"+nodes[0].AdminAddr()+"/stats")
	for _, n := range nodes {
		if !strings.Contains(page, `data-node="`+n.name+`"`) {
			t.Errorf("/stats lists no row for %s", n.name)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	nodes[2].Shutdown(ctx)
	pollUntil(t, 10*time.Second, "stats.json to drop the node that left", func() bool {
		_, there := read()[nodes[2].name]
		return !there
	})
}
