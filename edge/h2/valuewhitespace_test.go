package h2

import (
	"testing"

	"golang.org/x/net/http2"
)

// TestServer_fieldValueWithEdgeWhitespaceIsMalformed: a field value must not start or end
// with SP or HTAB (RFC 9113 section 8.2.1), and a request with one is malformed: RST_STREAM
// PROTOCOL_ERROR, the connection serving its next stream. Whitespace inside a value and an
// empty value stay well formed. Failed before: " a", "a " and "\ta" were answered 200.
func TestServer_fieldValueWithEdgeWhitespaceIsMalformed(t *testing.T) {
	ts := startServer(t, Config{}, nil, false)
	base := []string{":method", "GET", ":scheme", "https", ":authority", "localhost", ":path", "/"}
	for _, tc := range []struct {
		value string
		ok    bool
	}{
		{" a", false},
		{"a ", false},
		{"\ta", false},
		{"a\t", false},
		{" ", false},
		{"a b", true},
		{"a\tb", true},
		{"", true},
	} {
		t.Run(tc.value, func(t *testing.T) {
			c := dialRaw(t, ts.Addr)
			c.writeBlock(1, encodeFields(c, append(append([]string(nil), base...), "x-a", tc.value)...), true)
			c.flush()
			r := c.readResponse(1, 0)
			if tc.ok && r.status != 200 {
				t.Fatalf("value %q: reset=%v %v status %d, want 200", tc.value, r.reset, r.rst, r.status)
			}
			if !tc.ok && (!r.reset || r.rst != http2.ErrCodeProtocol) {
				t.Fatalf("value %q: reset=%v %v status %d, want RST_STREAM PROTOCOL_ERROR", tc.value, r.reset, r.rst, r.status)
			}
			c.request(3, "/", true)
			c.flush()
			if r := c.readResponse(3, 0); r.status != 200 {
				t.Fatalf("next stream on the connection: %d", r.status)
			}
		})
	}
}
