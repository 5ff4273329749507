package origin

import (
	"bufio"
	"io"
	"net"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/valyala/fasthttp"
)

// framedTwice finds both framing fields however the head arrives (a byte per read), reads
// no further than the head's end, and leaves every byte for the parser.
func TestFramedTwice(t *testing.T) {
	for _, tc := range []struct {
		name, head string
		want       bool
	}{
		{"both", "HTTP/1.1 200 OK\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n", true},
		{"both, lower case, bare LF", "HTTP/1.1 200 OK\ntransfer-encoding: chunked\ncontent-length: 4\n\n", true},
		{"length alone", "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n", false},
		{"chunked alone", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", false},
		{"a name that only starts alike", "HTTP/1.1 200 OK\r\nContent-Length-X: 4\r\nTransfer-Encoding: chunked\r\n\r\n", false},
		{"in the body, not the head", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1a\r\nContent-Length: 4\r\n\r\n\r\n", false},
	} {
		br := bufio.NewReaderSize(iotest.OneByteReader(strings.NewReader(tc.head)), 4096)
		br.Peek(1)
		if got := framedTwice(br); got != tc.want {
			t.Errorf("%s: framedTwice = %v, want %v", tc.name, got, tc.want)
		}
		if rest, _ := br.Peek(br.Buffered()); !strings.HasPrefix(tc.head, string(rest)) || len(rest) == 0 {
			t.Errorf("%s: the reader lost bytes: %q", tc.name, rest)
		}
	}
	// A head longer than the buffer: no answer, and no wait for bytes that cannot fit.
	long := "HTTP/1.1 200 OK\r\nX-Long: " + strings.Repeat("a", 8192) + "\r\nContent-Length: 4\r\n\r\n"
	br := bufio.NewReaderSize(strings.NewReader(long), 4096)
	br.Peek(1)
	if framedTwice(br) {
		t.Error("a head longer than the buffer was judged")
	}
}

// BenchmarkFramedTwice looks at a typical origin head (nginx's for a static file), as
// roundTrip does before parsing every response head.
// Run: go test -run '^$' -bench FramedTwice -benchmem ./origin/
func BenchmarkFramedTwice(b *testing.B) {
	head := "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Mon, 30 Nov 2026 19:00:00 GMT\r\n" +
		"Content-Type: application/octet-stream\r\nContent-Length: 1024\r\n" +
		"Last-Modified: Mon, 30 Nov 2026 18:00:00 GMT\r\nConnection: keep-alive\r\n" +
		"ETag: \"6571f2a0-400\"\r\nExpires: Mon, 30 Nov 2026 20:00:00 GMT\r\n" +
		"Cache-Control: max-age=3600\r\nAccept-Ranges: bytes\r\n\r\n"
	br := bufio.NewReaderSize(strings.NewReader(head), 4096)
	br.Peek(len(head))
	b.ReportAllocs()
	for b.Loop() {
		if framedTwice(br) {
			b.Fatal("framed twice")
		}
	}
}

// Send says an answer was framed twice (Result.FramedTwice), so that a cache may refuse to
// store it; the answer framed once says not, on the same pool.
func TestPool_sendSaysAnAnswerWasFramedTwice(t *testing.T) {
	ln := listenLocal(t)
	serveEach(ln, func(c net.Conn, br *bufio.Reader) {
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			if strings.HasPrefix(line, "GET /twice ") {
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
			} else if strings.HasPrefix(line, "GET ") {
				io.WriteString(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
			}
		}
	})
	p, _ := newTestPool(t, poolConf("roundrobin", "http://"+ln.Addr().String()), nil)
	for path, want := range map[string]bool{"/twice": true, "/once": false} {
		resp := fasthttp.AcquireResponse()
		res, done, err := p.Send(&Request{Head: &testHead{method: "GET", uri: path, host: "h"}}, resp, Target{Idempotent: true})
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		body, err := io.ReadAll(resp.BodyStream())
		done()
		fasthttp.ReleaseResponse(resp)
		if err != nil || string(body) != "hello" {
			t.Errorf("%s: body %q, %v", path, body, err)
		}
		if res.FramedTwice != want {
			t.Errorf("%s: FramedTwice %v, want %v", path, res.FramedTwice, want)
		}
	}
}
