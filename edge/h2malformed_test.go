package edge

import (
	"bytes"
	"crypto/tls"
	"io"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// TestAttack_http2MalformedNeverReachesTheOrigin: RFC 9113 sections 8.1.1, 8.2 and 8.3. Each
// malformed HTTP/2 request, sent with its content in DATA frames on a node in front of an
// origin that records every byte it receives, is reset (PROTOCOL_ERROR) or answered 400, and
// the origin receives nothing of it: a content-length that the DATA frames do not match, a
// field name in capitals, connection-specific fields, TE other than trailers, an empty :path
// or one not in origin-form, CONNECT without :authority, a pseudo-field after a regular one
// and a repeated pseudo-field. A well-formed request with content reaches it.
func TestAttack_http2MalformedNeverReachesTheOrigin(t *testing.T) {
	origin := startRawLogOrigin(t)
	n, _, _ := tlsNode(t, origin.URL, "")
	req := h2Req
	cases := []struct {
		name   string
		fields [][2]string
		data   []string // DATA frames, the last with END_STREAM; none: END_STREAM on HEADERS
		ok     bool
	}{
		{"content-length above the DATA", req("POST", "/h2m/a", [2]string{"content-length", "10"}), []string{"hello"}, false},
		{"content-length below the DATA", req("POST", "/h2m/b", [2]string{"content-length", "2"}), []string{"hello"}, false},
		{"content-length 0, then DATA", req("POST", "/h2m/c", [2]string{"content-length", "0"}), []string{"hello"}, false},
		{"content-length met, more DATA", req("POST", "/h2m/d", [2]string{"content-length", "5"}), []string{"hello", "GET /dyn/SMUGGLED HTTP/1.1\r\n\r\n"}, false},
		{"name in capitals", req("GET", "/h2m/e", [2]string{"X-Upper", "1"}), nil, false},
		{"connection", req("GET", "/h2m/f", [2]string{"connection", "close"}), nil, false},
		{"transfer-encoding", req("POST", "/h2m/g", [2]string{"transfer-encoding", "chunked"}), []string{"5\r\nhello\r\n0\r\n\r\n"}, false},
		{"keep-alive", req("GET", "/h2m/h", [2]string{"keep-alive", "timeout=5"}), nil, false},
		{"upgrade", req("GET", "/h2m/i", [2]string{"upgrade", "websocket"}), nil, false},
		{"te: gzip", req("GET", "/h2m/j", [2]string{"te", "gzip"}), nil, false},
		{"empty :path", req("GET", ""), nil, false},
		{":path without a slash", req("GET", "h2m/k"), nil, false},
		{":path *", req("GET", "*"), nil, false},
		{"CONNECT without :authority", [][2]string{{":method", "CONNECT"}}, nil, false},
		{"pseudo after a regular field", [][2]string{{":method", "GET"}, {":scheme", "https"}, {"x-a", "1"}, {":path", "/h2m/l"}, {":authority", "www.test"}}, nil, false},
		{"two :path", req("GET", "/h2m/m", [2]string{":path", "/h2m/n"}), nil, false},
		{"two :method", append([][2]string{{":method", "DELETE"}}, req("GET", "/h2m/o")...), nil, false},
		{"CR LF in a value", req("GET", "/h2m/p", [2]string{"x-a", "a\r\nx-b: c"}), nil, false},
		{"well-formed, with content", req("POST", "/dyn/h2m-ok", [2]string{"content-length", "5"}), []string{"hel", "lo"}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := len(origin.requests())
			status := h2Send(t, n.HTTPSAddr(), tc.fields, tc.data)
			got := origin.requests()[before:]
			if tc.ok {
				if status != "200" || len(got) != 1 || got[0].body != "hello" {
					t.Fatalf("status %q, origin got %v: want 200 and the request with its content", status, got)
				}
				return
			}
			if status != "" && status != "400" {
				t.Errorf("status %q, want a reset or 400", status)
			}
			if len(got) > 0 {
				t.Errorf("the origin received %q %q", got[0].line, got[0].body)
			}
		})
	}
}

// h2Send opens one stream over TLS with fields and then the data frames (the last ends the
// stream; without data the HEADERS frame does) and returns the response's :status, or "" if
// the stream or connection was reset.
func h2Send(t *testing.T, addr string, fields [][2]string, data []string) string {
	t.Helper()
	c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"h2"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, http2.ClientPreface)
	fr := http2.NewFramer(c, c)
	fr.WriteSettings()
	var block bytes.Buffer
	enc := hpack.NewEncoder(&block)
	for _, f := range fields {
		enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
	}
	fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: block.Bytes(), EndStream: len(data) == 0, EndHeaders: true})
	for i, d := range data {
		fr.WriteData(1, i == len(data)-1, []byte(d))
	}
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	dec := hpack.NewDecoder(4096, nil)
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			return ""
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				fr.WriteSettingsAck()
			}
		case *http2.HeadersFrame:
			hf, _ := dec.DecodeFull(f.HeaderBlockFragment())
			for _, h := range hf {
				if h.Name == ":status" {
					return h.Value
				}
			}
		case *http2.RSTStreamFrame, *http2.GoAwayFrame:
			return ""
		}
	}
}
