package edge

import (
	"strings"
	"testing"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// send opens stream id with exactly the given fields, in order, and no content.
func (r *rawH2) send(id uint32, fields [][2]string) {
	r.buf.Reset()
	for _, f := range fields {
		r.enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
	}
	r.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: r.buf.Bytes(), EndStream: true, EndHeaders: true})
}

// answer reads stream id's final status and content, or the code of its RST_STREAM.
func (r *rawH2) answer(id uint32) (status, body string, reset http2.ErrCode, wasReset bool) {
	r.t.Helper()
	fields, content, wasReset := r.response(id)
	if wasReset {
		return "", string(content), r.resetCode, true
	}
	return strings.Join(fields[":status"], ","), string(content), 0, false
}

// TestH2Serve_refusalsSpeakHTTP2: an HTTP/2 request the node refuses is told about the
// message it sent, in RFC 9113's terms (:authority, :path), never about HTTP/1.1's Host
// field or request-target; and one RFC 9113 section 8.1.1 calls malformed (here a
// pseudo-field value with CR, LF or NUL or whitespace at an end, section 8.2.1) is a stream
// error, RST_STREAM PROTOCOL_ERROR, with the connection kept. Failed before: a request
// with neither :authority nor host was told "an HTTP/1.1 request needs a Host field", an
// invalid :authority "invalid Host field", a :path with a fragment or a space "...
// request-target" / "in the target", and an :authority or :path ending in LF (or holding
// NUL or CR) got 400 instead of a reset.
func TestH2Serve_refusalsSpeakHTTP2(t *testing.T) {
	origin := startOrigin(t, nil)
	n, _ := h2Node(t, oneRoute(true, origin.URL))
	r := dialRawH2(t, n.HTTPSAddr())
	req := func(pseudo ...string) [][2]string {
		var f [][2]string
		for i := 0; i+1 < len(pseudo); i += 2 {
			f = append(f, [2]string{pseudo[i], pseudo[i+1]})
		}
		return f
	}
	const malformed = "RST_STREAM PROTOCOL_ERROR"
	for i, tc := range []struct {
		name   string
		fields [][2]string
		want   string // a phrase of the 400's body, or malformed
	}{
		{"neither :authority nor host", req(":method", "GET", ":scheme", "https", ":path", "/"), "needs :authority or a host field"},
		{"empty :authority", req(":method", "GET", ":scheme", "https", ":authority", "", ":path", "/"), "needs :authority or a host field"},
		{"OPTIONS * without :authority", req(":method", "OPTIONS", ":scheme", "https", ":path", "*"), "needs :authority or a host field"},
		{"invalid :authority", req(":method", "GET", ":scheme", "https", ":authority", "a b", ":path", "/"), "invalid :authority"},
		{"port out of range", req(":method", "GET", ":scheme", "https", ":authority", "www.example.test:99999", ":path", "/"), "invalid :authority"},
		{"userinfo", req(":method", "GET", ":scheme", "https", ":authority", "u@www.example.test", ":path", "/"), "invalid :authority"},
		{"invalid host field, no :authority", req(":method", "GET", ":scheme", "https", ":path", "/", "host", "a b"), "invalid :authority"},
		{"fragment", req(":method", "GET", ":scheme", "https", ":authority", "www.example.test", ":path", "/a#b"), "a :path has no fragment"},
		{"space in :path", req(":method", "GET", ":scheme", "https", ":authority", "www.example.test", ":path", "/a b"), "in the :path"},
		{"bad percent-encoding", req(":method", "GET", ":scheme", "https", ":authority", "www.example.test", ":path", "/a%zz"), "in the :path"},
		{"* for GET", req(":method", "GET", ":scheme", "https", ":authority", "www.example.test", ":path", "*"), ":path must be origin-form, or * for OPTIONS"},
		{"LF ending :authority", req(":method", "GET", ":scheme", "https", ":authority", "www.example.test\n", ":path", "/"), malformed},
		{"CR in :authority", req(":method", "GET", ":scheme", "https", ":authority", "www.example.test\rx", ":path", "/"), malformed},
		{"NUL in :path", req(":method", "GET", ":scheme", "https", ":authority", "www.example.test", ":path", "/a\x00"), malformed},
		{"space ending :path", req(":method", "GET", ":scheme", "https", ":authority", "www.example.test", ":path", "/a "), malformed},
		{"LF in :method", req(":method", "GET\n", ":scheme", "https", ":authority", "www.example.test", ":path", "/"), malformed},
		{"empty :path", req(":method", "GET", ":scheme", "https", ":authority", "www.example.test", ":path", ""), malformed},
		{"no :scheme", req(":method", "GET", ":authority", "www.example.test", ":path", "/"), malformed},
		{"uppercase field name", req(":method", "GET", ":scheme", "https", ":authority", "www.example.test", ":path", "/", "X-Up", "1"), malformed},
		{"connection field", req(":method", "GET", ":scheme", "https", ":authority", "www.example.test", ":path", "/", "connection", "close"), malformed},
	} {
		id := uint32(2*i + 1)
		r.send(id, tc.fields)
		status, body, code, reset := r.answer(id)
		switch {
		case tc.want == malformed:
			if !reset || code != http2.ErrCodeProtocol {
				t.Errorf("%s: status %s, body %q, reset %v (%v), want %s", tc.name, status, body, reset, code, malformed)
			}
		case reset || status != "400" || !strings.Contains(body, tc.want):
			t.Errorf("%s: status %s, body %q, reset %v (%v), want 400 saying %q", tc.name, status, body, reset, code, tc.want)
		case strings.Contains(body, "HTTP/1") || strings.Contains(body, "Host field") || strings.Contains(body, "request-target"):
			t.Errorf("%s: body %q speaks HTTP/1.1", tc.name, body)
		}
	}
	if origin.requests.Load() != 0 {
		t.Errorf("the origin was asked %d times", origin.requests.Load())
	}
}
