package edge

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// A node that rejoins while its runner-up is still fetching one of its keys from the origin
// (the runner-up owned it while the node was away) takes the object from that fetch: its
// adoption probe (only-if-cached, Shoal-Adopt) joins the fill in flight instead of getting
// 504 and fetching the object a second time. One origin fetch for the object, two clients
// served.
func TestCluster_adoptionJoinsTheRunnerUpsFillInFlight(t *testing.T) {
	release := make(chan struct{})
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		<-release
		w.Header().Set("Cache-Control", "max-age=600")
		fmt.Fprint(w, "body of "+r.URL.Path)
	})
	nodes := startCluster(t, 3, origin.URL)
	// A path node-3 owns with node-2 as its runner-up: node-2 fills it while node-3 is away.
	path := ""
	for i := range 1000 {
		p := fmt.Sprintf("/adopt-inflight-%d.css", i)
		if o := nodes[0].Ring().Owners(cacheKey("http", "site", p, ""), 2); o[0].Name == "node-3" && o[1].Name == "node-2" {
			path = p
			break
		}
	}
	if path == "" {
		t.Fatal("no path owned by node-3 with node-2 next")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	nodes[2].Shutdown(ctx)
	cancel()
	waitMembers(t, nodes[:2], 2)

	type answer struct {
		status int
		body   string
	}
	ask := func(n *Node) chan answer {
		c := make(chan answer, 1)
		go func() {
			status, _, body := get(t, "http://"+n.HTTPAddr()+path, "Host", "site")
			c <- answer{status, body}
		}()
		return c
	}
	key := cacheKey("http", "site", path, "")
	first := ask(nodes[1]) // node-2 owns it now: its fill waits for release
	for deadline := time.Now().Add(10 * time.Second); !nodes[1].fills.InFlight(key); {
		if time.Now().After(deadline) {
			t.Fatal("node-2 started no fill within 10 s")
		}
		time.Sleep(5 * time.Millisecond)
	}

	back := startNode(t, clusterConfig(t, "node-3", writeSecretSame(t, nodes[0]), nodes[0].Ring().GossipAddr(), origin.URL), Options{Logger: testLogger(t)})
	nodes[2] = back
	waitMembers(t, nodes, 3)
	second := ask(back)
	// Release the origin once node-3's adoption probe joined node-2's fill, or once the
	// origin was asked a second time (the fault: the probe got 504 and node-3 filled).
	joined := func() bool { return nodes[1].fills.Joined(key) >= 2 } // node-2's client and the probe
	for deadline := time.Now().Add(10 * time.Second); !joined() && origin.requests.Load() < 2; {
		if time.Now().After(deadline) {
			t.Fatal("neither an adoption joined node-2's fill nor node-3 asked the origin within 10 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(release)
	for _, c := range []chan answer{first, second} {
		if a := <-c; a.status != 200 || a.body != "body of "+path {
			t.Errorf("%d %q, want 200 %q", a.status, a.body, "body of "+path)
		}
	}
	if got := origin.requests.Load(); got != 1 {
		t.Errorf("the origin was asked %d times for %s, want 1", got, path)
	}
	_, _, metrics := get(t, "http://"+back.AdminAddr()+"/metrics")
	if !strings.Contains(metrics, "shoal_edge_adopted_objects_total 1") {
		t.Errorf("node-3 adopted no object from node-2's fill")
	}
}
