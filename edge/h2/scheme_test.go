package h2

import (
	"testing"

	"golang.org/x/net/http2"
)

// TestServer_schemeMustBeAScheme: a request's :scheme must hold a valid value (RFC 9113
// §8.3.1), which is an RFC 3986 §3.1 scheme: a letter, then letters, digits, "+", "-", ".".
// An empty one, or one with spaces, CR LF or other characters, is malformed: RST_STREAM
// PROTOCOL_ERROR, and the connection answers its next stream. Failed before: every :scheme
// value was accepted, an empty one too.
func TestServer_schemeMustBeAScheme(t *testing.T) {
	ts := startServer(t, Config{}, nil, false)
	for _, tc := range []struct {
		scheme string
		ok     bool
	}{
		{"https", true},
		{"http", true},
		{"coap+tcp", true}, // not http(s), but a scheme: RFC 9113 §8.3.1 allows it
		{"", false},
		{"1http", false},
		{"ht tp", false},
		{"http\r\nx-a: 1", false},
		{"http:", false},
		{"h\x00", false},
	} {
		c := dialRaw(t, ts.Addr)
		c.writeBlock(1, encodeFields(c, ":method", "GET", ":scheme", tc.scheme, ":authority", "localhost", ":path", "/"), true)
		c.flush()
		r := c.readResponse(1, 0)
		if tc.ok && r.status != 200 {
			t.Errorf(":scheme %q: reset=%v %v status %d, want 200", tc.scheme, r.reset, r.rst, r.status)
		}
		if !tc.ok && (!r.reset || r.rst != http2.ErrCodeProtocol) {
			t.Errorf(":scheme %q: reset=%v %v status %d, want RST_STREAM PROTOCOL_ERROR", tc.scheme, r.reset, r.rst, r.status)
		}
		c.request(3, "/", true)
		c.flush()
		if r := c.readResponse(3, 0); r.status != 200 {
			t.Errorf(":scheme %q: next stream on the connection: %d", tc.scheme, r.status)
		}
	}
}
