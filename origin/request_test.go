package origin

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// testHead is a RequestHead of fixed fields, as the edge's list renders one.
type testHead struct {
	method, uri, host string
	fields            [][2]string
}

func (h *testHead) Method() []byte { return []byte(h.method) }

func (h *testHead) AppendHead(dst []byte, host string) []byte {
	dst = append(dst, h.method+" "+h.uri+" HTTP/1.1\r\n"...)
	if host == "" {
		host = h.host
	}
	dst = AppendField(dst, []byte("Host"), []byte(host))
	for _, f := range h.fields {
		dst = AppendField(dst, []byte(f[0]), []byte(f[1]))
	}
	return dst
}

// rawOrigin answers every request with a 200 and sends the bytes of each request it read
// (head and content as framed) to got.
func rawOrigin(t *testing.T) (url string, got <-chan string) {
	t.Helper()
	ln := listenLocal(t)
	ch := make(chan string, 16)
	serveEach(ln, func(c net.Conn, br *bufio.Reader) {
		for {
			var req fasthttp.Request
			req.Header.DisableNormalizing()
			var raw bytes.Buffer
			if err := req.Header.Read(bufio.NewReader(io.TeeReader(br, &raw))); err != nil {
				return
			}
			// The tee read ahead: take what it buffered beyond the head as content.
			head := raw.String()
			end := strings.Index(head, "\r\n\r\n") + 4
			rest := head[end:]
			head = head[:end]
			body := rest
			switch cl := req.Header.ContentLength(); {
			case cl > 0:
				for len(body) < cl {
					b := make([]byte, cl-len(body))
					n, err := br.Read(b)
					body += string(b[:n])
					if err != nil {
						return
					}
				}
			case cl == -1:
				for !strings.HasSuffix(body, "0\r\n\r\n") {
					b := make([]byte, 4096)
					n, err := br.Read(b)
					body += string(b[:n])
					if err != nil {
						return
					}
				}
			}
			ch <- head + body
			c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
		}
	})
	return "http://" + ln.Addr().String(), ch
}

// Send writes the head once as it renders itself, then the framing from the content, as
// fasthttp's Request.Write did for the edge's heads: Content-Length for known content and
// for any method but GET and HEAD (an empty POST says 0), chunked for a stream of unknown
// length (RFC 9112 sections 6 and 7.1). The pool's host rewrite replaces Host, in its place.
func TestPool_SendWritesTheHeadOnceWithFraming(t *testing.T) {
	url, got := rawOrigin(t)
	fields := [][2]string{{"x-Lower", "a"}, {"Cookie", `consent={"a":1}; b=\x`}}
	tests := []struct {
		name    string
		method  string
		host    string // host rewrite
		body    io.Reader
		bodyLen int64
		bytes   string
		want    string
	}{
		{name: "GET", method: "GET",
			want: "GET /p?q=1 HTTP/1.1\r\nHost: www.test\r\nx-Lower: a\r\nCookie: consent={\"a\":1}; b=\\x\r\n\r\n"},
		{name: "empty POST", method: "POST",
			want: "POST /p?q=1 HTTP/1.1\r\nHost: www.test\r\nx-Lower: a\r\nCookie: consent={\"a\":1}; b=\\x\r\nContent-Length: 0\r\n\r\n"},
		{name: "bytes", method: "PUT", bytes: "hello",
			want: "PUT /p?q=1 HTTP/1.1\r\nHost: www.test\r\nx-Lower: a\r\nCookie: consent={\"a\":1}; b=\\x\r\nContent-Length: 5\r\n\r\nhello"},
		{name: "stream of known length", method: "POST", body: strings.NewReader("hello"), bodyLen: 5,
			want: "POST /p?q=1 HTTP/1.1\r\nHost: www.test\r\nx-Lower: a\r\nCookie: consent={\"a\":1}; b=\\x\r\nContent-Length: 5\r\n\r\nhello"},
		{name: "stream of unknown length", method: "POST", body: strings.NewReader("hello"), bodyLen: -1,
			want: "POST /p?q=1 HTTP/1.1\r\nHost: www.test\r\nx-Lower: a\r\nCookie: consent={\"a\":1}; b=\\x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"},
		{name: "host rewrite", method: "GET", host: "internal.example",
			want: "GET /p?q=1 HTTP/1.1\r\nHost: internal.example\r\nx-Lower: a\r\nCookie: consent={\"a\":1}; b=\\x\r\n\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := poolConf("roundrobin", url)
			cfg.HostRewrite = tt.host
			p, _ := newTestPool(t, cfg, nil)
			head := &testHead{method: tt.method, uri: "/p?q=1", host: "www.test", fields: fields}
			resp := fasthttp.AcquireResponse()
			defer fasthttp.ReleaseResponse(resp)
			req := &Request{Head: head, Body: tt.body, BodyLen: tt.bodyLen, BodyBytes: []byte(tt.bytes)}
			_, done, err := p.Send(req, resp, Target{Idempotent: true})
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.BodyStream())
			done()
			if resp.StatusCode() != 200 || string(b) != "ok" {
				t.Fatalf("answer %d %q", resp.StatusCode(), b)
			}
			select {
			case g := <-got:
				if g != tt.want {
					t.Errorf("origin read\n%q\nwant\n%q", g, tt.want)
				}
			case <-time.After(2 * time.Second):
				t.Fatal("origin read nothing")
			}
		})
	}
}

// A stream shorter than its announced length fails the request instead of leaving the
// origin waiting for the rest (and the connection is not reused).
func TestPool_SendShortStreamFails(t *testing.T) {
	url, _ := rawOrigin(t)
	p, _ := newTestPool(t, poolConf("roundrobin", url), nil)
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseResponse(resp)
	req := &Request{Head: &testHead{method: "POST", uri: "/", host: "h"}, Body: strings.NewReader("abc"), BodyLen: 10}
	if _, done, err := p.Send(req, resp, Target{}); err == nil {
		done()
		t.Fatal("a 3-byte stream announced as 10 was sent without error")
	}
}

// RFC 9112 section 5: a field line ends at CR LF, so a CR or LF inside a name or value (from
// configuration or another hop) would end it early and start a field of its own; each becomes
// a space, as fasthttp does when a field is set.
func TestAppendField_neutralisesLineEnds(t *testing.T) {
	tests := []struct{ name, value, want string }{
		{"X-A", "plain", "X-A: plain\r\n"},
		{"X-A", "a\r\nX-Evil: 1", "X-A: a  X-Evil: 1\r\n"},
		{"X-A", "a\nb\rc", "X-A: a b c\r\n"},
		{"X-\r\nB", "v", "X-  B: v\r\n"},
		{"X-A", "", "X-A: \r\n"},
	}
	for _, tt := range tests {
		if got := string(AppendField([]byte("pre"), []byte(tt.name), []byte(tt.value))); got != "pre"+tt.want {
			t.Errorf("AppendField(%q, %q) = %q, want %q", tt.name, tt.value, got, "pre"+tt.want)
		}
	}
}
