package origin

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// TestPool_lengthBodyStartIsCheckedOnWhatArrived: a Content-Length body is checked on what
// came with its head and never waited for (startBody). An answer whose connection closed
// right after the head, with no body byte or a few (Content-Length 10), fails Do after the
// response started, charged to the server: the edge answers 502 where its client has nothing
// yet. An answer whose body trickles has its head handed on at once, while the server still
// holds the rest, and Result.BodyPending says so; a whole one does not. Failed before: the
// close with no body byte passed Do (the check ran only when body bytes came with the head),
// and the slow body's head waited for its 16 KiB first buffer (here the whole body).
func TestPool_lengthBodyStartIsCheckedOnWhatArrived(t *testing.T) {
	const head = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"
	release := make(chan struct{})
	ln := listenLocal(t)
	serveEach(ln, func(c net.Conn, br *bufio.Reader) {
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		switch req.URL.Path {
		case "/closed":
			corkClose(c, []byte(head))
		case "/short":
			corkClose(c, []byte(head+"abc"))
		case "/whole":
			c.Write([]byte(head + "0123456789"))
		case "/slow":
			c.Write([]byte(head + "abc"))
			select {
			case <-release:
			case <-time.After(5 * time.Second):
			}
			c.Write([]byte("defghij"))
		}
	})
	p, err := NewPool(poolConf("roundrobin", "http://"+ln.Addr().String()), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	do := func(path string) (Result, *fasthttp.Response, func(), error) {
		req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		defer fasthttp.ReleaseRequest(req)
		req.SetRequestURI("http://www.example.com" + path)
		res, done, err := p.Do(req, resp, Target{Idempotent: true})
		return res, resp, done, err
	}
	if canCorkClose {
		for _, path := range []string{"/closed", "/short"} {
			before := p.Snapshot().Servers[0].Errors
			_, resp, _, err := do(path)
			var oe *Error
			if err == nil || !errors.As(err, &oe) || !ResponseStarted(err) {
				t.Errorf("%s: Do = %v; want an origin *Error after the response started", path, err)
			}
			if got := p.Snapshot().Servers[0].Errors - before; got != 1 {
				t.Errorf("%s: the server was charged %d errors, want 1", path, got)
			}
			fasthttp.ReleaseResponse(resp)
		}
	}
	res, resp, done, err := do("/whole")
	if err != nil || res.BodyPending {
		t.Errorf("/whole: Do = %v, BodyPending %v; want no error, false", err, res.BodyPending)
	} else {
		io.ReadAll(resp.BodyStream())
		done()
	}
	fasthttp.ReleaseResponse(resp)

	type result struct {
		res  Result
		resp *fasthttp.Response
		done func()
		err  error
	}
	r, early := beforeRelease(release, func() result {
		res, resp, done, err := do("/slow")
		return result{res, resp, done, err}
	})
	if !early {
		t.Errorf("Do returned only after the origin sent the rest of its body: the head was held for it")
	}
	if r.err != nil {
		t.Fatalf("/slow: Do: %v", r.err)
	}
	if !r.res.BodyPending {
		t.Errorf("/slow: BodyPending false; want true")
	}
	b, err := io.ReadAll(r.resp.BodyStream())
	if string(b) != "abcdefghij" || err != nil {
		t.Errorf("/slow: body %q, %v", b, err)
	}
	r.done()
	fasthttp.ReleaseResponse(r.resp)
}
