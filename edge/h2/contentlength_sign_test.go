package h2

import (
	"testing"

	"golang.org/x/net/http2"
)

// TestServer_contentLengthIsDigitsOnly: content-length is 1*DIGIT (RFC 9110 section 8.6), so
// a signed value is malformed (RFC 9113 section 8.1.1) and the stream is reset with
// PROTOCOL_ERROR, as the HTTP/1.1 listener answers it 400; leading zeros are digits and
// stay well formed. Failed before: strconv.ParseInt took "+0", "+4" and "-0", and "+4" on a
// POST reached the node's handler (and its origin) as a content-length of 4.
func TestServer_contentLengthIsDigitsOnly(t *testing.T) {
	ts := startServer(t, Config{}, nil, false)
	base := []string{":method", "POST", ":scheme", "https", ":authority", "localhost", ":path", "/"}
	for _, tc := range []struct {
		value string
		data  string
		ok    bool
	}{
		{"+0", "", false},
		{"-0", "", false},
		{"+4", "abcd", false},
		{"0", "", true},
		{"004", "abcd", true},
	} {
		t.Run(tc.value, func(t *testing.T) {
			c := dialRaw(t, ts.Addr)
			c.writeBlock(1, encodeFields(c, append(append([]string(nil), base...), "content-length", tc.value)...), tc.data == "")
			if tc.data != "" {
				c.fr.WriteData(1, true, []byte(tc.data))
			}
			c.flush()
			r := c.readResponse(1, 0)
			if tc.ok && r.status != 200 {
				t.Fatalf("content-length %q: reset=%v %v status %d, want 200", tc.value, r.reset, r.rst, r.status)
			}
			if !tc.ok && (!r.reset || r.rst != http2.ErrCodeProtocol) {
				t.Fatalf("content-length %q: reset=%v %v status %d, want RST_STREAM PROTOCOL_ERROR", tc.value, r.reset, r.rst, r.status)
			}
		})
	}
}
