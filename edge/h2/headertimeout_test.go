package h2

import (
	"testing"
	"time"

	"golang.org/x/net/http2"
)

// TestServer_headerBlockTrickled: a client that opens a header block and trickles its
// CONTINUATION frames, each well within IdleTimeout and far below the flood bounds, loses
// its connection (GOAWAY ENHANCE_YOUR_CALM) once HeaderTimeout has passed since the HEADERS
// frame, whether it keeps trickling or goes quiet; other connections are served. Failed
// before: the block could stay open for 32 continuations times IdleTimeout (an HTTP/2
// slowloris; limits.read_timeout bounded only HTTP/1.1 heads).
func TestServer_headerBlockTrickled(t *testing.T) {
	ts := startServer(t, Config{HeaderTimeout: 300 * time.Millisecond, IdleTimeout: time.Minute}, nil, false)
	for _, tc := range []struct {
		name    string
		trickle bool
	}{{"trickling", true}, {"quiet", false}} {
		t.Run(tc.name, func(t *testing.T) {
			c := dialRaw(t, ts.Addr)
			c.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: c.headerBlock("GET", "/"), EndStream: true})
			c.flush()
			stop := make(chan struct{})
			done := make(chan struct{})
			go func() {
				defer close(done)
				for i := 0; i < 20 && tc.trickle; i++ { // 20 frames, 100 ms apart: under maxContinuations
					select {
					case <-stop:
						return
					case <-time.After(100 * time.Millisecond):
					}
					c.fr.WriteContinuation(1, false, nil)
					c.flush()
				}
			}()
			start := time.Now()
			g := c.readGoAway(10 * time.Second)
			close(stop)
			<-done
			if g.ErrCode != http2.ErrCodeEnhanceYourCalm {
				t.Fatalf("GOAWAY %v after %v, want ENHANCE_YOUR_CALM", g.ErrCode, time.Since(start))
			}
			if !c.closedWithin(5 * time.Second) {
				t.Fatal("connection still open after GOAWAY")
			}
			stillServes(t, ts.Addr)
		})
	}
}
