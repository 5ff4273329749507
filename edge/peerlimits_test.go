package edge

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/conf"
)

// The peer port follows reloads of the limits it enforces and answers as the client port
// does: in a real 2-node cluster, a member's request whose body is over a max_body_bytes
// reloaded smaller gets 413 (before, the start-time limit still held, and a body over a limit
// got fasthttp's 400), a head over a max_header_bytes reloaded smaller gets 431, and
// requests forwarded between the nodes are still served across the reloads.
func TestCluster_peerPortFollowsReloadedLimits(t *testing.T) {
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		io.WriteString(w, r.URL.Path)
	})
	secret := writeSecret(t)
	start := func(name, join string) *Node {
		return startNode(t, clusterConfig(t, name, secret, join, origin.URL), Options{Logger: testLogger(t)})
	}
	a := start("node-1", "")
	b := start("node-2", a.Ring().GossipAddr())
	nodes := []*Node{a, b}
	waitMembers(t, nodes, 2)
	reload := func(limits string) {
		t.Helper()
		yaml := limits + clusterConfig(t, "node-1", secret, "", origin.URL)
		cfg, err := conf.Parse([]byte(yaml), "reload.yaml", t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Reload(cfg); err != nil {
			t.Fatal(err)
		}
	}
	// peerPost sends a member's POST with size bytes of content and a field of head bytes.
	peerPost := func(size, head int) int {
		t.Helper()
		req, _ := http.NewRequest("POST", "http://"+a.PeerAddr()+"/upload", strings.NewReader(strings.Repeat("x", size)))
		req.Host = "www.example.com"
		req.Header.Set(peerSecretHeader, "cluster-secret-for-tests-0123456789")
		if head > 0 {
			req.Header.Set("X-Big", strings.Repeat("h", head))
		}
		resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
		if err != nil {
			t.Fatalf("POST %d bytes to the peer port: %v", size, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	clientPost := func(size int) int {
		t.Helper()
		resp, err := http.Post("http://"+a.HTTPAddr()+"/upload", "text/plain", strings.NewReader(strings.Repeat("x", size)))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	forwarded := func(round int) {
		t.Helper()
		path := pathOwnedBy(t, nodes, a, fmt.Sprintf("/fwd-%d-", round))
		for _, n := range nodes {
			if status, _, body := get(t, "http://"+n.HTTPAddr()+path); status != 200 || body != path {
				t.Fatalf("round %d: %s through %s: %d %q", round, path, n.name, status, body)
			}
		}
	}
	forwarded(0)
	if got := peerPost(4096, 0); got != 200 {
		t.Fatalf("a member's 4 KiB POST under the start limits: %d, want 200", got)
	}
	reload("limits: {max_body_bytes: 1KiB, max_header_bytes: 4KiB}\n")
	forwarded(1)
	if got, want := peerPost(4096, 0), clientPost(4096); got != 413 || want != 413 {
		t.Errorf("4 KiB over a reloaded max_body_bytes of 1 KiB: peer port %d, client port %d; want 413 from both", got, want)
	}
	if got := peerPost(512, 0); got != 200 {
		t.Errorf("512 bytes under the reloaded limit: %d, want 200", got)
	}
	// The peer port's head limit is twice the client's plus 1 KiB (peerHeadBytes).
	if got := peerPost(0, 12<<10); got != 431 {
		t.Errorf("a 12 KiB head over a reloaded max_header_bytes of 4 KiB: peer port %d, want 431", got)
	}
	reload("")
	forwarded(2)
	if got := peerPost(4096, 12<<10); got != 200 {
		t.Errorf("4 KiB and a 12 KiB head once the limits are reloaded back: %d, want 200", got)
	}
}
