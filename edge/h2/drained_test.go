package h2

import (
	"bytes"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

// TestBody_drained: content that arrived whole, END_STREAM included, is Ended but still to be
// read: Drained is false until it has been. (The node's listener took Ended for "no
// content" and sent origins empty bodies: edge's TestH2Serve_contentThatArrivedWithItsHeaders.)
func TestBody_drained(t *testing.T) {
	type seen struct{ ended, drained, drainedAfter bool }
	got := make(chan seen, 1)
	h := HandlerFunc(func(w ResponseWriter, r *Request) {
		w.Detach()
		go func() {
			for deadline := time.Now().Add(2 * time.Second); !r.Body.Ended() && time.Now().Before(deadline); {
				time.Sleep(time.Millisecond)
			}
			s := seen{ended: r.Body.Ended(), drained: r.Body.Drained()}
			var buf bytes.Buffer
			buf.ReadFrom(r.Body)
			s.drainedAfter = r.Body.Drained()
			got <- s
			w.Respond(200, nil, buf.Bytes())
		}()
	})
	ts := startServer(t, Config{}, h, false)
	c := dialRaw(t, ts.Addr)
	content := pattern(3000)
	c.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, EndHeaders: true,
		BlockFragment: c.headerBlock("POST", "/size/10")})
	c.fr.WriteData(1, true, content)
	c.flush()
	if r := c.readResponse(1, 0); r.status != 200 || !bytes.Equal(r.body, content) {
		t.Fatalf("status %d with %d bytes, want the %d sent echoed", r.status, len(r.body), len(content))
	}
	if s := <-got; !s.ended || s.drained || !s.drainedAfter {
		t.Errorf("Ended %v, Drained before reading %v and after %v; want true, false, true", s.ended, s.drained, s.drainedAfter)
	}
}
