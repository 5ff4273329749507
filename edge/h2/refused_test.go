package h2

import (
	"testing"

	"golang.org/x/net/http2"
)

// TestServer_refusedAnswer: a request refused from its head (here a content-length over
// MaxBodyBytes: 413) gets the head and content Config.Refused makes, as its handler's
// answer would be sent; a HEAD gets the head alone (RFC 9110 section 9.3.2); content the
// client's stream window cannot take at once is left out with its content-length, never
// sent past the window (RFC 9113 section 6.9) nor announced and missing.
func TestServer_refusedAnswer(t *testing.T) {
	page := []byte("too large\n")
	cfg := Config{MaxBodyBytes: 100, Refused: func(status int) ([]Field, []byte) {
		return []Field{{Name: "content-type", Value: "text/plain"}, {Name: "content-length", Value: "10"}}, page
	}}
	ts := startServer(t, cfg, nil, false)
	for _, tc := range []struct {
		name, method string
		window       uint32
		wantBody     string
		wantLength   string
	}{
		{"GET", "POST", 65535, "too large\n", "10"},
		{"HEAD", "HEAD", 65535, "", "10"},
		{"window too small for the content", "POST", 4, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dialRaw(t, ts.Addr, http2.Setting{ID: http2.SettingInitialWindowSize, Val: tc.window})
			c.streamWindow[1] = c.initWindow
			c.writeBlock(1, c.headerBlock(tc.method, "/", "content-length", "1000"), false)
			c.flush()
			r := c.readResponse(1, 0)
			if r.status != 413 || !r.ended {
				t.Fatalf("status %d (ended %v, reset %v), want 413 ended", r.status, r.ended, r.reset)
			}
			var length, ctype string
			for _, f := range r.fields {
				switch f.Name {
				case "content-length":
					length = f.Value
				case "content-type":
					ctype = f.Value
				}
			}
			if string(r.body) != tc.wantBody || length != tc.wantLength || ctype != "text/plain" {
				t.Errorf("content %q, content-length %q, content-type %q; want %q, %q, text/plain", r.body, length, ctype, tc.wantBody, tc.wantLength)
			}
		})
	}
}
