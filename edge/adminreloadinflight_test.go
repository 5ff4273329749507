package edge

import (
	"bufio"
	"net"
	"net/http"
	"testing"
	"time"
)

// A reload that changes the admin limits retires the admin server generation. It used
// http.Server.Shutdown, and net/http closes unanswered a connection whose request it reads
// after shutdown began: a connection the old generation had accepted whose request came
// after the reload (a Prometheus scrape, a purge meeting a SIGHUP) got EOF. The test
// connects, lets the old generation take the connection, reloads, then asks: it must be
// answered.
func TestNode_adminConnectionAcceptedBeforeAReloadIsAnswered(t *testing.T) {
	const long, short = "limits: {read_timeout: 20s, idle_timeout: 20s}\n", "limits: {read_timeout: 15s, idle_timeout: 15s}\n"
	n := startNode(t, long+oneRoute(true, "http://127.0.0.1:1"), Options{})
	for i, limits := range []string{short, long, short} {
		c, err := net.Dial("tcp", n.AdminAddr())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		// The feed tracks a connection as it hands it over; the generation waiting in Accept
		// takes it at once.
		waitFor(t, func() bool { return feedTracks(n.adminFeed, c.LocalAddr()) })
		time.Sleep(50 * time.Millisecond)
		if err := reloadConfig(t, n, limits+oneRoute(true, "http://127.0.0.1:1")); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Write([]byte("GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n")); err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		res, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("reload %d: a connection accepted before it: %v", i+1, err)
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Errorf("reload %d: /healthz %d", i+1, res.StatusCode)
		}
	}
}

// feedTracks reports whether f has handed out the connection whose client end is at addr.
func feedTracks(f *connFeed, addr net.Addr) bool {
	found := false
	f.live.Range(func(k, _ any) bool {
		if k.(net.Addr).String() == addr.String() {
			found = true
			return false
		}
		return true
	})
	return found
}
