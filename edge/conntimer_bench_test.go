package edge

import (
	"net"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// BenchmarkConnFeed_phases is what the sweeper costs a request on its connection's
// goroutine: the three phase records (first byte, handler, response written), each a look-up
// of the connection's entry and one atomic store.
func BenchmarkConnFeed_phases(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	f := startFeed(ln)
	defer f.close()
	n := &Node{feed: f}
	hl := &handoffListener{feed: f, addr: ln.Addr(), closed: make(chan struct{})}
	conns := acceptedConns(b, ln.Addr(), hl.Accept)
	b.ResetTimer()
	for i := range b.N {
		c := conns[i&63]
		n.connState(c, fasthttp.StateActive)
		lc := n.liveOf(c)
		lc.enter(phaseHandler)
		lc.enter(phaseWrite)
		n.connState(c, fasthttp.StateIdle)
	}
}

// BenchmarkConnFeed_socketDeadlines is what fasthttp's own timeouts cost a keep-alive
// request: the idle, read and write deadlines it moves (a clock read and a timer change each).
func BenchmarkConnFeed_socketDeadlines(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	conns := acceptedConns(b, ln.Addr(), ln.Accept)
	b.ResetTimer()
	for i := range b.N {
		c := conns[i&63]
		c.SetReadDeadline(time.Now().Add(60 * time.Second))
		c.SetReadDeadline(time.Now().Add(30 * time.Second))
		c.SetWriteDeadline(time.Now().Add(60 * time.Second))
	}
}

// acceptedConns dials addr 64 times and returns the server sides accept hands out; every
// connection is closed when the benchmark ends.
func acceptedConns(b *testing.B, addr net.Addr, accept func() (net.Conn, error)) []net.Conn {
	b.Helper()
	var conns []net.Conn
	for range 64 {
		client, err := net.Dial("tcp", addr.String())
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { client.Close() })
		c, err := accept()
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { c.Close() })
		conns = append(conns, c)
	}
	return conns
}
