package h2

import (
	"strings"
	"testing"

	"golang.org/x/net/http2"
)

// TestServer_malformedRequests: each row is one request header block; malformed ones
// (RFC 9113 §8.1.1, §8.2, §8.3.1) get RST_STREAM PROTOCOL_ERROR and the connection lives
// on, well-formed neighbours are answered.
func TestServer_malformedRequests(t *testing.T) {
	ts := startServer(t, Config{}, nil, false)
	base := []string{":method", "GET", ":scheme", "https", ":authority", "localhost", ":path", "/"}
	with := func(kv ...string) []string { return append(append([]string(nil), base...), kv...) }
	for _, tc := range []struct {
		name   string
		fields []string
		ok     bool
	}{
		{"plain GET", base, true},
		{"uppercase name", with("Accept", "*/*"), false},
		{"space in name", with("x a", "1"), false},
		{"colon inside name", with("x:a", "1"), false},
		{"empty name", with("", "1"), false},
		{"NUL in value", with("x-a", "a\x00b"), false},
		{"LF in value", with("x-a", "a\nb"), false},
		{"CR in value", with("x-a", "a\rb"), false},
		{"tab in value", with("x-a", "a\tb"), true},
		{"connection", with("connection", "keep-alive"), false},
		{"keep-alive", with("keep-alive", "timeout=5"), false},
		{"proxy-connection", with("proxy-connection", "close"), false},
		{"transfer-encoding", with("transfer-encoding", "chunked"), false},
		{"upgrade", with("upgrade", "h2c"), false},
		{"te: trailers", with("te", "trailers"), true},
		{"te: gzip", with("te", "gzip"), false},
		{"content-length 0", with("content-length", "0"), true},
		{"content-length with END_STREAM", with("content-length", "5"), false},
		{"content-length negative", with("content-length", "-1"), false},
		{"content-length not a number", with("content-length", "5x"), false},
		{"content-length twice, differing", with("content-length", "0", "content-length", "1"), false},
		{"content-length twice, equal", with("content-length", "0", "content-length", "0"), false},
		{"pseudo after regular", append([]string{":method", "GET", ":scheme", "https", "x-a", "1"}, ":path", "/"), false},
		{"unknown pseudo", with(":foo", "bar"), false},
		{":status in a request", append([]string{":status", "200"}, base...), false},
		{":protocol not enabled", append([]string{":protocol", "websocket"}, base...), false},
		{"duplicate :path", append([]string{":path", "/a"}, base...), false},
		{"duplicate :method", append([]string{":method", "GET"}, base...), false},
		{"missing :method", base[2:], false},
		{"missing :scheme", []string{":method", "GET", ":path", "/"}, false},
		{"missing :path", []string{":method", "GET", ":scheme", "https"}, false},
		{"empty :path", []string{":method", "GET", ":scheme", "https", ":path", ""}, false},
		{"no :authority (host instead)", []string{":method", "GET", ":scheme", "https", ":path", "/", "host", "x"}, true},
		{"CONNECT with :authority only", []string{":method", "CONNECT", ":authority", "example.com:443"}, true},
		{"CONNECT with :path", []string{":method", "CONNECT", ":authority", "example.com:443", ":path", "/"}, false},
		{"CONNECT without :authority", []string{":method", "CONNECT"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dialRaw(t, ts.Addr)
			c.writeBlock(1, encodeFields(c, tc.fields...), true)
			c.flush()
			r := c.readResponse(1, 0)
			if tc.ok && r.status != 200 {
				t.Fatalf("got reset=%v %v status %d, want 200", r.reset, r.rst, r.status)
			}
			if !tc.ok && (!r.reset || r.rst != http2.ErrCodeProtocol) {
				t.Fatalf("got reset=%v %v status %d, want RST_STREAM PROTOCOL_ERROR", r.reset, r.rst, r.status)
			}
			c.request(3, "/", true)
			c.flush()
			if r := c.readResponse(3, 0); r.status != 200 {
				t.Fatalf("next stream on the connection: %d", r.status)
			}
		})
	}
}

// TestServer_responseFields: response field names are sent lowercase, connection-specific
// fields (RFC 9113 §8.2.2), pseudo-fields and nameless ones a handler passes are dropped so
// strict clients accept the response, and a header block larger than a frame goes out in
// CONTINUATION frames.
func TestServer_responseFields(t *testing.T) {
	big := strings.Repeat("v", 40000)
	h := HandlerFunc(func(w ResponseWriter, r *Request) {
		w.Respond(200, []Field{
			{Name: "Content-Type", Value: "text/plain"},
			{Name: "Connection", Value: "close"},
			{Name: "Transfer-Encoding", Value: "chunked"},
			{Name: "keep-alive", Value: "timeout=5"},
			{Name: ":status", Value: "404"},
			{Name: ":path", Value: "/"},
			{Name: "", Value: "nameless"},
			{Name: "x-big", Value: big},
		}, []byte("ok"))
	})
	ts := startServer(t, Config{}, h, false)
	client, base := goClient(ts)
	resp, err := client.Get(base + "/")
	if err != nil {
		t.Fatalf("Go's client refused the response: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/plain" || resp.Header.Get("X-Big") != big ||
		resp.Header.Get("Connection") != "" || resp.Header.Get("Keep-Alive") != "" || len(resp.TransferEncoding) != 0 {
		t.Fatalf("response header %v", resp.Header)
	}
}
