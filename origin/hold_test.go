package origin

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"

	"github.com/valyala/fasthttp"
)

// One Hold carries request after request, as the edge's pooled answers do: each answer is its
// own (the stream is not the last request's), a body read whole gives its connection back
// for the next (one connection for all), done stays idempotent however the response is
// released after it, and a body abandoned before its end closes its connection, not the
// next request's.
func TestPool_sendReusesOneHold(t *testing.T) {
	cs := newCountingServer(t, func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "answer to %s", r.URL.Path)
	})
	p, _ := newTestPool(t, poolConf("roundrobin", cs.URL), nil)
	var hold Hold
	send := func(path string) (*fasthttp.Response, func()) {
		t.Helper()
		req := &Request{Head: &testHead{method: "GET", uri: path, host: "h"}, Hold: &hold}
		resp := fasthttp.AcquireResponse()
		_, done, err := p.Send(req, resp, Target{Idempotent: true})
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		return resp, done
	}
	for i := range 5 {
		path := fmt.Sprintf("/%d", i)
		resp, done := send(path)
		body, err := io.ReadAll(resp.BodyStream())
		if err != nil || string(body) != "answer to "+path {
			t.Fatalf("%s: body %q, %v", path, body, err)
		}
		done()
		done()
		fasthttp.ReleaseResponse(resp) // closes the stream: done once more
	}
	if n := cs.connections(); n != 1 {
		t.Errorf("%d connections for 5 requests read whole, want 1", n)
	}

	resp, done := send("/abandoned")
	done() // nothing read: the connection cannot carry another request
	fasthttp.ReleaseResponse(resp)
	resp, done = send("/after")
	body, err := io.ReadAll(resp.BodyStream())
	done()
	fasthttp.ReleaseResponse(resp)
	if err != nil || string(body) != "answer to /after" {
		t.Fatalf("after an abandoned body: %q, %v", body, err)
	}
	if n := cs.connections(); n != 2 {
		t.Errorf("%d connections, want 2: the abandoned body's closed, a new one for the next", n)
	}
}

// With a Hold, Send allocates nothing for the body stream, its done or its connection's
// hand-back (issue 15: three allocations per request before).
func TestPool_sendWithAHoldAllocatesNothing(t *testing.T) {
	// An origin that allocates nothing per request either: AllocsPerRun counts the process.
	ln := listenLocal(t)
	serveEach(ln, func(c net.Conn, br *bufio.Reader) {
		answer := []byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		for {
			line, err := br.ReadSlice('\n')
			if err != nil {
				return
			}
			if len(line) <= 2 { // the empty line ending a head
				if _, err := c.Write(answer); err != nil {
					return
				}
			}
		}
	})
	p, _ := newTestPool(t, poolConf("roundrobin", "http://"+ln.Addr().String()), nil)
	var hold Hold
	req := &Request{Head: &fixedHead{head: []byte("GET / HTTP/1.1\r\nHost: h\r\n")}, Hold: &hold}
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseResponse(resp)
	buf := make([]byte, 64)
	exchange := func() {
		_, done, err := p.Send(req, resp, Target{Idempotent: true})
		if err != nil {
			t.Fatal(err)
		}
		for {
			if _, err := resp.BodyStream().Read(buf); err != nil {
				break
			}
		}
		done()
	}
	exchange() // the connection and its buffers
	allocs := testing.AllocsPerRun(200, exchange)
	if raceEnabled {
		t.Logf("%.0f allocations per Send under -race (not checked)", allocs)
		return
	}
	if allocs > 0 {
		t.Errorf("%.2f allocations per Send with a Hold, want 0", allocs)
	}
}

// fixedHead is a GET head rendered in advance, which renders without allocating (testHead
// converts its strings on every call).
type fixedHead struct{ head []byte }

func (h *fixedHead) Method() []byte                         { return h.head[:3] }
func (h *fixedHead) AppendHead(dst []byte, _ string) []byte { return append(dst, h.head...) }
