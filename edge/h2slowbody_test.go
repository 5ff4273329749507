package edge

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

// TestH2Serve_uploadIsTimedBetweenReads: limits.read_timeout bounds each wait for an HTTP/2
// request's content, as it bounds each wait for an HTTP/1.1 body's (and nginx's
// client_body_timeout), not the whole upload: content trickled a byte every quarter of it
// reaches the origin whole, however long it takes, while a client that stops for longer has
// its stream reset and the origin never gets the request whole. Both the content the node
// reads before asking the origin and content it streams to the origin (past the 64 KiB
// prefetch). The trickle failed before: read_timeout counted from the HEADERS, so each
// upload was reset at 1 s of its 4 s.
func TestH2Serve_uploadIsTimedBetweenReads(t *testing.T) {
	origin := startRawLogOrigin(t)
	listen := "listen: {http: \"127.0.0.1:0\", h2c: \"127.0.0.1:0\", admin: \"127.0.0.1:0\"}\nlimits: {read_timeout: 1s, idle_timeout: 30s}\n"
	n := startNode(t, hostileConfig(origin.URL, listen), Options{})
	const trickle = 16 // bytes, one every 250 ms: 4 s in all
	for _, tc := range []struct {
		name  string
		first int  // sent at once before the trickle
		stall bool // the client stops for 2 s before the trickle's last byte
	}{
		{"read before the origin is asked", 0, false},
		{"streamed to the origin", 70 << 10, false},
		{"read before the origin is asked, stalled", 0, true},
		{"streamed to the origin, stalled", 70 << 10, true},
	} {
		path := "/dyn/trickle-" + strconv.Itoa(tc.first) + "-" + strconv.FormatBool(tc.stall)
		r := dialRawH2C(t, n.H2CAddr())
		r.open(1, false, [2]string{":method", "POST"}, [2]string{":scheme", "http"}, [2]string{":authority", "www.test"},
			[2]string{":path", path}, [2]string{"content-length", strconv.Itoa(tc.first + trickle)})
		start := time.Now()
		for sent := 0; sent < tc.first; sent += 16 << 10 {
			r.fr.WriteData(1, false, []byte(strings.Repeat("a", min(16<<10, tc.first-sent))))
		}
		ended, how := false, ""
		for i := 0; i < trickle && !ended; i++ {
			wait := 250 * time.Millisecond
			if tc.stall && i == trickle-2 {
				wait = 2 * time.Second
			}
			r.fr.WriteData(1, i == trickle-1, []byte("b"))
			ended, how = readUntil(r, 1, wait)
		}
		for deadline := time.Now().Add(5 * time.Second); !ended && time.Now().Before(deadline); {
			ended, how = readUntil(r, 1, 100*time.Millisecond)
		}
		took := time.Since(start).Round(time.Millisecond)
		got := origin.asked(path)
		switch {
		case !tc.stall && (how != "status 200" || len(got) != 1):
			t.Errorf("%s: stream ended by %q after %v, the origin got it %d times; want 200 from the origin, once", tc.name, how, took, len(got))
		case tc.stall && !strings.HasPrefix(how, "reset"):
			t.Errorf("%s: stream ended by %q after %v; want it reset in the 2 s stall (read_timeout 1 s)", tc.name, how, took)
		case tc.stall && len(got) != 0:
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
