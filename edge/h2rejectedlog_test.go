package edge

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/net/http2"
)

// TestH2Serve_malformedRequestsAreLogged: a request stream edge/h2 resets as malformed (RFC
// 9113 section 8.1.1: RST_STREAM PROTOCOL_ERROR, no handler) or refuses from its head (413,
// 431) gets an access record, result "rejected", as the HTTP/1.1 listener's 400s, 413s and
// 431s do and as nginx logs them: an operator reads attacks from these. A malformed one is
// logged 400, what nginx answers and logs for it (the node sends the reset, no bytes).
// Failed before: no record for any of them. The record names the client's User-Agent, as
// nginx's does (failed before: empty), and the node's own 400s from the head (a :scheme
// other than http and https, a host field unlike :authority) are recorded too (failed
// before: no record; and :scheme ftp was served, 200 from the origin).
func TestH2Serve_malformedRequestsAreLogged(t *testing.T) {
	origin := startRawLogOrigin(t)
	var buf syncBuffer
	n := startNode(t, `listen: {http: "127.0.0.1:0", h2c: "127.0.0.1:0", admin: "127.0.0.1:0"}
log: {access: json}
limits: {max_header_bytes: 4KiB, max_body_bytes: 1KiB}
`+hostileConfig(origin.URL, ""), Options{AccessLog: &buf})
	c := dialRawH2C(t, n.H2CAddr())
	pseudo := func(path string) [][2]string {
		return [][2]string{{":method", "GET"}, {":scheme", "http"}, {":authority", "www.test"}, {":path", path}}
	}
	cases := []struct {
		name   string
		fields [][2]string
		reset  http2.ErrCode
		status int
		path   string
	}{
		{"connection-specific field", append(pseudo("/dyn/te"), [2]string{"transfer-encoding", "chunked"}), http2.ErrCodeProtocol, 400, "/dyn/te"},
		{"upper-case name", append(pseudo("/dyn/upper"), [2]string{"X-Upper", "1"}), http2.ErrCodeProtocol, 400, "/dyn/upper"},
		{"two differing content-lengths", append(pseudo("/dyn/cl"), [2]string{"content-length", "1"}, [2]string{"content-length", "2"}), http2.ErrCodeProtocol, 400, "/dyn/cl"},
		// Refused as the HTTP/1.1 listener refuses two Content-Length lines, and nginx either.
		{"two equal content-lengths", append(pseudo("/dyn/cl2"), [2]string{"content-length", "0"}, [2]string{"content-length", "0"}), http2.ErrCodeProtocol, 400, "/dyn/cl2"},
		{"no :path", pseudo("")[:3], http2.ErrCodeProtocol, 400, ""},
		{"content-length over the limit", append(pseudo("/dyn/big"), [2]string{"content-length", "4096"}), 0, 413, "/dyn/big"},
		{"head over the limit", append(pseudo("/dyn/431"), [2]string{"x-big", strings.Repeat("b", 5000)}), 0, 431, "/dyn/431"},
		{":scheme ftp", [][2]string{{":method", "GET"}, {":scheme", "ftp"}, {":authority", "www.test"}, {":path", "/dyn/ftp"}}, 0, 400, "/dyn/ftp"},
		{"host unlike :authority", append(pseudo("/dyn/host"), [2]string{"host", "other.test"}), 0, 400, "/dyn/host"},
	}
	id := uint32(1)
	for _, tc := range cases {
		before := len(buf.String())
		c.open(id, tc.status != 413, withUserAgent(tc.fields, "probe/1")...)
		status, reset := c.outcome(id)
		id += 2
		if reset != tc.reset || (tc.reset == 0 && status != fmt.Sprint(tc.status)) {
			t.Errorf("%s: status %q reset %v, want %d / %v", tc.name, status, reset, tc.status, tc.reset)
		}
		line := waitLogLine(&buf, before)
		var e struct {
			Status                                int
			Method, URI, Protocol, Result, Client string
			UserAgent                             string `json:"user_agent"`
		}
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Errorf("%s: no access record (%q)", tc.name, line)
			continue
		}
		if e.Status != tc.status || e.Result != "rejected" || e.Protocol != "HTTP/2.0" || e.URI != tc.path || e.Client != "127.0.0.1" || e.UserAgent != "probe/1" {
			t.Errorf("%s: record %+v, want status %d, uri %q, rejected, HTTP/2.0, user agent probe/1", tc.name, e, tc.status, tc.path)
		}
	}
	if got := origin.requests(); len(got) > 0 {
		t.Errorf("the origin got %d requests", len(got))
	}
}

// withUserAgent is fields with a user-agent field after the pseudo-fields: before any field
// that pushes the block past the limit, whose decoding then stops.
func withUserAgent(fields [][2]string, ua string) [][2]string {
	i := 0
	for i < len(fields) && strings.HasPrefix(fields[i][0], ":") {
		i++
	}
	out := append(append([][2]string{}, fields[:i]...), [2]string{"user-agent", ua})
	return append(out, fields[i:]...)
}
