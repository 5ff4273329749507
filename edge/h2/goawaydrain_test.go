package h2

import (
	"errors"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

// TestConn_lateResponseAfterGoAwayKeepsTheDrain: a detached handler that answers after the
// connection ended with GOAWAY (here a client's PROTOCOL_ERROR) is told the stream is closed,
// and writes nothing. Before, its frames went to a socket whose write side was shut: the
// write failed (broken pipe), and flush closed the socket at once with the client's bytes
// unread, which sends a reset that discards what was not yet sent, the GOAWAY among them,
// and ends the drain (edge's TestH2Serve_abuseAbandonedStreams saw "GOAWAY <nil>" so, under
// load, once in 72 runs; its misses answer from goroutines).
func TestConn_lateResponseAfterGoAwayKeepsTheDrain(t *testing.T) {
	ready, answer, responded := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	h := HandlerFunc(func(w ResponseWriter, r *Request) {
		w.Detach()
		go func() {
			close(ready)
			<-answer
			responded <- w.Respond(200, nil, []byte("late"))
		}()
	})
	ts := startServer(t, Config{}, h, false)
	c := dialRaw(t, ts.Addr)
	c.request(1, "/late", true)
	c.flush()
	<-ready
	// A client may not push (RFC 9113 §8.4): a connection error.
	c.fr.WritePushPromise(http2.PushPromiseParam{StreamID: 1, PromiseID: 2, BlockFragment: c.headerBlock("GET", "/pushed"), EndHeaders: true})
	c.flush()
	if g := c.readGoAway(5 * time.Second); g.ErrCode != http2.ErrCodeProtocol {
		t.Fatalf("GOAWAY %v, want PROTOCOL_ERROR", g.ErrCode)
	}
	close(answer)
	if err := <-responded; !errors.Is(err, ErrStreamClosed) {
		t.Errorf("Respond after GOAWAY: %v, want ErrStreamClosed", err)
	}
	// The drain goes on: the client's bytes are still read, and the server's side ends with
	// its FIN, not a reset.
	c.fr.WritePing(false, [8]byte{})
	c.flush()
	if !c.closedWithin(5 * time.Second) {
		t.Error("the connection did not end")
	}
}
