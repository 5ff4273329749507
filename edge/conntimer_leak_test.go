package edge

import (
	"bufio"
	"context"
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

// A connection that limits.max_conns_per_ip refuses is closed by fasthttp before any
// ConnState hook runs for it: it must still leave the feed's live set, or every refusal
// leaks an entry (and its socket) for the node's life, and the sweeper, which runs until the
// live set is empty, never stops after Shutdown.
func TestConnFeed_refusedConnectionsLeaveTheLiveSet(t *testing.T) {
	o := startOrigin(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	n := startNode(t, oneRoute(false, o.URL)+"limits: {max_conns_per_ip: 1, read_timeout: 1s}\n", Options{})
	held, err := net.Dial("tcp", n.HTTPAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	if st, err := rawGET(t, held, bufio.NewReader(held), "/a"); err != nil || st != 200 {
		t.Fatalf("the connection within the limit: status %d, %v", st, err)
	}
	const refused = 50
	for i := range refused {
		c, err := net.Dial("tcp", n.HTTPAddr())
		if err != nil {
			t.Fatal(err)
		}
		st, _ := rawGET(t, c, bufio.NewReader(c), "/a")
		c.Close()
		if st != http.StatusTooManyRequests {
			t.Fatalf("connection %d over the limit: status %d, want 429", i+1, st)
		}
	}
	// The sweeper runs every 100 ms with this read_timeout; give it a few seconds.
	deadline := time.Now().Add(5 * time.Second)
	for liveCount(n.feed) > 1 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if got := liveCount(n.feed); got != 1 {
		t.Errorf("after %d refused connections, the live set holds %d; want the one open connection", refused, got)
	}
	held.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	n.Shutdown(ctx)
	select {
	case <-n.feed.swept:
	case <-time.After(5 * time.Second):
		t.Errorf("the sweeper still runs 5 s after Shutdown, with %d connections in the live set", liveCount(n.feed))
	}
}
