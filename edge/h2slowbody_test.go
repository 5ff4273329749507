package edge

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

// TestH2Serve_trickledContentEndsAtTheReadTimeout: limits.read_timeout bounds an HTTP/2
// request's content from its HEADERS, as it bounds an HTTP/1.1 head and body (408 there):
// content trickled a byte at a time, each DATA frame well within idle_timeout, has its stream
// reset once read_timeout has passed, and the origin never gets the request whole. Both the
// content the node reads before asking the origin and content it streams to the origin
// (past the 64 KiB prefetch). Failed before: each frame reset only idle_timeout's wait, so
// the uploads ran their whole 4 s (any length a client likes), holding a stream, its goroutine
// and, streamed, an origin connection, and reached the origin complete.
func TestH2Serve_trickledContentEndsAtTheReadTimeout(t *testing.T) {
	origin := startRawLogOrigin(t)
	listen := "listen: {http: \"127.0.0.1:0\", h2c: \"127.0.0.1:0\", admin: \"127.0.0.1:0\"}\nlimits: {read_timeout: 1s, idle_timeout: 30s}\n"
	n := startNode(t, hostileConfig(origin.URL, listen), Options{})
	const trickle = 16 // bytes, one every 250 ms: 4 s in all
	for _, tc := range []struct {
		name  string
		first int // sent at once before the trickle
	}{
		{"read before the origin is asked", 0},
		{"streamed to the origin", 70 << 10},
	} {
		path := "/dyn/trickle-" + strconv.Itoa(tc.first)
		r := dialRawH2C(t, n.H2CAddr())
		r.open(1, false, [2]string{":method", "POST"}, [2]string{":scheme", "http"}, [2]string{":authority", "www.test"},
			[2]string{":path", path}, [2]string{"content-length", strconv.Itoa(tc.first + trickle)})
		start := time.Now()
		for sent := 0; sent < tc.first; sent += 16 << 10 {
			r.fr.WriteData(1, false, []byte(strings.Repeat("a", min(16<<10, tc.first-sent))))
		}
		ended, how := false, ""
		for i := 0; i < trickle && !ended; i++ {
			r.fr.WriteData(1, i == trickle-1, []byte("b"))
			ended, how = readUntil(r, 1, 250*time.Millisecond)
		}
		for deadline := time.Now().Add(2 * time.Second); !ended && time.Now().Before(deadline); {
			ended, how = readUntil(r, 1, 100*time.Millisecond)
		}
		took := time.Since(start)
		if !strings.HasPrefix(how, "reset") || took > 3*time.Second {
			t.Errorf("%s: stream ended by %q after %v; want it reset about 1 s (read_timeout) after its HEADERS", tc.name, how, took.Round(time.Millisecond))
		}
		time.Sleep(200 * time.Millisecond)
		if got := origin.asked(path); len(got) != 0 {
			t.Errorf("%s: the origin received the whole request %d times", tc.name, len(got))
		}
	}
}

// readUntil reads r's frames for up to wait: ended once stream id got a response's end
// ("status N") or a reset ("reset CODE"). The frames come from r's frameFeed, never from a
// read with a deadline: a deadline that passes between a frame's header and its payload
// drops the header, and every frame after it is misread (under load the RST this test waits
// for was lost that way, and the test failed with the reset sent).
func readUntil(r *rawH2, id uint32, wait time.Duration) (ended bool, how string) {
	if r.feed == nil {
		r.feed = startFrameFeed(r)
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		var f http2.Frame
		select {
		case f = <-r.feed.frames:
		case <-timer.C:
			return false, ""
		}
		if f == nil {
			return true, "connection: " + r.feed.err.Error()
		}
		ended, how = readUntilFrame(r, id, f, how)
		r.feed.next <- struct{}{}
		if ended {
			return ended, how
		}
	}
}

// readUntilFrame is readUntil's step for one frame.
func readUntilFrame(r *rawH2, id uint32, f http2.Frame, how string) (bool, string) {
	switch f := f.(type) {
	case *http2.SettingsFrame:
		if !f.IsAck() {
			r.fr.WriteSettingsAck()
		}
	case *http2.HeadersFrame:
		hf, _ := r.dec.DecodeFull(f.HeaderBlockFragment())
		if f.StreamID == id && len(hf) > 0 {
			how = "status " + hf[0].Value
		}
		if f.StreamID == id && f.StreamEnded() {
			return true, how
		}
	case *http2.DataFrame:
		if f.StreamID == id && f.StreamEnded() {
			return true, how
		}
	case *http2.RSTStreamFrame:
		if f.StreamID == id {
			return true, "reset " + f.ErrCode.String()
		}
	case *http2.GoAwayFrame:
		return true, "goaway " + f.ErrCode.String()
	}
	return false, how
}

// frameFeed reads a connection's frames on its own goroutine with no read deadline and hands
// each over on frames; the next is read only once the reader sends on next (a Framer's frame
// is valid until its next ReadFrame). A nil frame means the read failed with err.
type frameFeed struct {
	frames chan http2.Frame
	next   chan struct{}
	err    error
}

func startFrameFeed(r *rawH2) *frameFeed {
	ff := &frameFeed{frames: make(chan http2.Frame), next: make(chan struct{})}
	done := make(chan struct{})
	r.t.Cleanup(func() { close(done); r.c.Close() })
	r.c.SetReadDeadline(time.Time{})
	go func() {
		for {
			f, err := r.fr.ReadFrame()
			if err != nil {
				ff.err = err
				select {
				case ff.frames <- nil:
				case <-done:
				}
				return
			}
			select {
			case ff.frames <- f:
			case <-done:
				return
			}
			select {
			case <-ff.next:
			case <-done:
				return
			}
		}
	}()
	return ff
}
