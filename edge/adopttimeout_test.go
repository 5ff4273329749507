package edge

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/internal/testenv"
)

// TestCluster_stalledRunnerUpCostsAnAdoptionOnlyItsBound: an owner in its adoption window
// asks the key's runner-up for the object (only-if-cached). A runner-up that accepts the
// probe and answers nothing, or says 102 Processing and then stalls, is skipped after
// cluster.adopt_timeout (1s by default) and the owner fetches the object itself: 200, one
// origin fetch, the client's wait well below the 3 s it allows here. Failed before: a
// silent runner-up held the probe for forward_timeout (5s), and one that said 102 for
// cache.fill_timeout (5s, the peer connection's inactivity limit): the 102 lifted the
// forward bound, and the client gave up first.
func TestCluster_stalledRunnerUpCostsAnAdoptionOnlyItsBound(t *testing.T) {
	o := testenv.StartBadOrigin(t)
	nodes := startClusterWith(t, 3, o.URL, "")
	stalls := map[string]func(net.Conn){
		"silent": func(net.Conn) {}, // reads nothing, answers nothing
		"processing-then-stall": func(c net.Conn) {
			r := bufio.NewReader(c)
			for line, err := r.ReadString('\n'); err == nil && line != "\r\n"; line, err = r.ReadString('\n') {
			}
			c.Write([]byte("HTTP/1.1 102 Processing\r\n\r\n"))
		},
	}
	for name, stall := range stalls {
		t.Run(name, func(t *testing.T) {
			path := "/adopt-stalled-" + name + ".css"
			o.Script(path, whole)
			owners := nodes[0].Ring().Owners(cacheKey("http", "www.example.com", path, ""), 2)
			var owner, runnerUp *Node
			for _, n := range nodes {
				switch n.name {
				case owners[0].Name:
					owner = n
				case owners[1].Name:
					runnerUp = n
				}
			}
			if s := owner.started.Load(); s == nil || time.Since(*s) >= adoptWindow {
				t.Fatalf("%s is past its adoption window", owner.name)
			}
			replacePeerPort(t, runnerUp, stall)
			c := http.Client{Timeout: 3 * time.Second}
			req, _ := http.NewRequest("GET", "http://"+owner.HTTPAddr()+path, nil)
			req.Host = "www.example.com"
			resp, err := c.Do(req)
			if err != nil {
				t.Fatalf("%s (runner-up %s stalled): %v", owner.name, runnerUp.name, err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || err != nil || string(body) != string(whole.Body) {
				t.Errorf("%d %d bytes, %v; want 200 with the body", resp.StatusCode, len(body), err)
			}
			if n := o.Count(path); n != 1 {
				t.Errorf("origin asked %d times, want 1", n)
			}
		})
	}
}
