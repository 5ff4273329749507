package edge

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"
)

// liveCount is how many connections the feed still holds as handed out.
func liveCount(f *connFeed) (n int) {
	f.live.Range(func(_, _ any) bool { n++; return true })
	return n
}

// A connection that limits.max_conns_per_ip refuses never reaches fasthttp (the feed's gate
// refuses it; fasthttp closed it before any ConnState hook ran): it must leave the feed's live set, or every refusal
// leaks an entry (and its socket) for the node's life, and the sweeper, which runs until the
// live set is empty, never stops after Shutdown. Its neighbours: a refusal by max_conns
// (fasthttp reports that one closed), and both limits over TLS, whose connections come from
// their own feed.
func TestConnFeed_refusedConnectionsLeaveTheLiveSet(t *testing.T) {
	o := startOrigin(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	certFile, keyFile, pool := writeCert(t, t.TempDir(), "site", "www.example.test", "www.test") // rawGET asks for www.test (misdirected.go)
	for _, c := range []struct {
		key    string
		tls    bool
		status int
	}{
		{"max_conns_per_ip", false, http.StatusTooManyRequests},
		{"max_conns", false, http.StatusServiceUnavailable},
		{"max_conns_per_ip", true, http.StatusTooManyRequests},
		{"max_conns", true, http.StatusServiceUnavailable},
	} {
		t.Run(fmt.Sprintf("%s tls=%v", c.key, c.tls), func(t *testing.T) {
			cfg := oneRoute(false, o.URL) + fmt.Sprintf("limits: {%s: 1, read_timeout: 1s}\n", c.key)
			var n *Node
			var dial func() (net.Conn, error)
			if c.tls {
				cfg = fmt.Sprintf("listen: {https: \"127.0.0.1:0\", admin: \"127.0.0.1:0\"}\ntls: {certificates: [{cert: %s, key: %s}]}\n",
					certFile, keyFile) + cfg
				n = startNode(t, cfg, Options{})
				dial = func() (net.Conn, error) {
					return tls.Dial("tcp", n.HTTPSAddr(), &tls.Config{RootCAs: pool, ServerName: "www.example.test", NextProtos: []string{"http/1.1"}})
				}
			} else {
				n = startNode(t, cfg, Options{})
				dial = func() (net.Conn, error) { return net.Dial("tcp", n.HTTPAddr()) }
			}
			feed := n.feed
			if c.tls {
				feed = n.tlsFeed
			}
			held, err := dial()
			if err != nil {
				t.Fatal(err)
			}
			defer held.Close()
			if st, err := rawGET(t, held, bufio.NewReader(held), "/a"); err != nil || st != 200 {
				t.Fatalf("the connection within the limit: status %d, %v", st, err)
			}
			const refused = 20
			for i := range refused {
				conn, err := dial()
				if err != nil {
					t.Fatal(err)
				}
				st, _ := rawGET(t, conn, bufio.NewReader(conn), "/a")
				conn.Close()
				if st != c.status { // over TLS too (fasthttp closed those without an answer)
					t.Fatalf("connection %d over the limit: status %d, want %d", i+1, st, c.status)
				}
			}
			// The sweeper runs every 100 ms with this read_timeout; give it a few seconds.
			deadline := time.Now().Add(5 * time.Second)
			for liveCount(feed) > 1 && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
			if got := liveCount(feed); got != 1 {
				t.Errorf("after %d refused connections, the live set holds %d; want the one open connection", refused, got)
			}
			held.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			n.Shutdown(ctx)
			select {
			case <-feed.swept:
			case <-time.After(5 * time.Second):
				t.Errorf("the sweeper still runs 5 s after Shutdown, with %d connections in the live set", liveCount(feed))
			}
		})
	}
}
