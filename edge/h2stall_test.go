package edge

import (
	"testing"

	"golang.org/x/net/http2"
)

// TestH2Serve_shutWindowEndsAtTheWriteTimeout: a client that shuts its stream windows
// (SETTINGS_INITIAL_WINDOW_SIZE 0) and never opens them holds an answer that makes no
// progress, the HTTP/2 form of a reader that stops reading: limits.write_timeout bounds it,
// as it bounds an HTTP/1.1 write (nginx's send_timeout), with RST_STREAM CANCEL. Failed
// before: edge/h2's StallTimeout kept its own 30 s whatever write_timeout said (no reset
// within 5 s at write_timeout 1s; and a 60 s write_timeout cut a slow reader at 30 s).
func TestH2Serve_shutWindowEndsAtTheWriteTimeout(t *testing.T) {
	origin := startRawLogOrigin(t)
	listen := "listen: {http: \"127.0.0.1:0\", h2c: \"127.0.0.1:0\", admin: \"127.0.0.1:0\"}\nlimits: {write_timeout: 1s}\n"
	n := startNode(t, hostileConfig(origin.URL, listen), Options{})
	r := dialRawH2C(t, n.H2CAddr())
	r.fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 0})
	r.get(1, "/miss")
	if status, reset := r.outcome(1); reset != http2.ErrCodeCancel {
		t.Errorf("miss through a shut window: status %q, reset %v; want RST_STREAM CANCEL", status, reset)
	}
	r.get(3, "/miss") // a hit now
	if status, reset := r.outcome(3); reset != http2.ErrCodeCancel {
		t.Errorf("hit through a shut window: status %q, reset %v; want RST_STREAM CANCEL", status, reset)
	}
}
