package edge

import (
	"errors"
	"net"
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
// ("status N") or a reset ("reset CODE").
func readUntil(r *rawH2, id uint32, wait time.Duration) (ended bool, how string) {
	r.c.SetReadDeadline(time.Now().Add(wait))
	for {
		f, err := r.fr.ReadFrame()
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return false, ""
		}
		if err != nil {
			return true, "connection: " + err.Error()
		}
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
	}
}
