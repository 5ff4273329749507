package origin

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/conf"
	"github.com/valyala/fasthttp"
)

// Target.HeadDeadline ends a head that trickles in a line at a time, each line within
// first_byte_timeout (which bounds each read), as a timeout; a head that came in time
// leaves its body's reads to the inactivity bound alone, however long after the deadline.
func TestReview4_headDeadlineEndsATrickledHeadNotTheBody(t *testing.T) {
	ln := listenLocal(t)
	headDone := make(chan struct{})
	serveEach(ln, func(c net.Conn, br *bufio.Reader) {
		line, _ := br.ReadString('\n')
		for {
			l, err := br.ReadString('\n')
			if err != nil || l == "\r\n" {
				break
			}
		}
		if line == "GET /trickle HTTP/1.1\r\n" {
			io.WriteString(c, "HTTP/1.1 200 OK\r\n")
			for i := 0; i < 20; i++ {
				time.Sleep(100 * time.Millisecond)
				if _, err := fmt.Fprintf(c, "X-Slow-%d: a\r\n", i); err != nil {
					return
				}
			}
			close(headDone)
			io.WriteString(c, "Content-Length: 2\r\n\r\nok")
			return
		}
		// A prompt head, then a body that outlives the head deadline.
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nab")
		time.Sleep(600 * time.Millisecond)
		io.WriteString(c, "cd")
	})
	cfg := poolConf("roundrobin", "http://"+ln.Addr().String())
	cfg.FirstByteTimeout = conf.Duration(time.Second)
	p, err := NewPool(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	do := func(path string) (string, error) {
		req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		defer fasthttp.ReleaseRequest(req)
		defer fasthttp.ReleaseResponse(resp)
		req.SetRequestURI("http://www.example.com" + path)
		_, done, err := p.Do(req, resp, Target{Idempotent: true, HeadDeadline: time.Now().Add(300 * time.Millisecond)})
		if err != nil {
			return "", err
		}
		defer done()
		b, err := io.ReadAll(resp.BodyStream())
		return string(b), err
	}
	_, err = do("/trickle")
	select {
	case <-headDone:
		t.Fatalf("Do returned (%v) only once the 2 s head was complete; want a timeout at its 300 ms head deadline", err)
	default:
	}
	if !IsTimeout(err) {
		t.Errorf("trickled head: %v, want a timeout", err)
	}
	if body, err := do("/slow-body"); err != nil || body != "abcd" {
		t.Errorf("a body read past the head deadline: %q, %v; want \"abcd\"", body, err)
	}
}
