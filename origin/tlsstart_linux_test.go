package origin

import (
	"bufio"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/valyala/fasthttp"
)

// TestPool_bodyStartOverTLSIsCheckedOnWhatArrived: over TLS as over plain TCP, a body the
// server's close cut before the head was handed on fails Do, charged to the server (the
// edge answers 502, or serves stale), whether the close came with a close_notify or as a
// bare FIN, for a Content-Length body with no byte or a few and a chunked one with none. A
// body record that came only in part is not waited for: Do returns with BodyPending and the
// body is read whole afterwards. Failed before: over TLS only the bytes TLS had already read
// counted, so every cut answer passed Do (a cut where a 502 was due).
func TestPool_bodyStartOverTLSIsCheckedOnWhatArrived(t *testing.T) {
	const head = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"
	const chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	srv := httptest.NewUnstartedServer(nil)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	tlsConf := srv.TLS.Clone()
	release := make(chan struct{})
	ln := listenLocal(t)
	go func() {
		for {
			raw, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer raw.Close()
				split := &splitWriter{TCPConn: raw.(*net.TCPConn)}
				c := tls.Server(split, tlsConf)
				req, err := http.ReadRequest(bufio.NewReader(c))
				if err != nil {
					return
				}
				// The answer and the close go out in one segment: the pool finds them
				// together however late it reads.
				closeWith := func(b string, notify bool) {
					cork(split.TCPConn)
					c.Write([]byte(b))
					if notify {
						c.CloseWrite()
					}
					split.TCPConn.CloseWrite()
				}
				switch req.URL.Path {
				case "/closed":
					closeWith(head, true)
				case "/closed-without-notify":
					closeWith(head, false)
				case "/short":
					closeWith(head+"abc", true)
				case "/chunked-closed":
					closeWith(chunked, true)
				case "/whole":
					c.Write([]byte(head + "0123456789"))
				case "/partial-record":
					c.Write([]byte(head))
					split.hold = release // the body's record: its first bytes, then the rest
					c.Write([]byte("0123456789"))
				}
			}()
		}
	}()
	p, _ := newTestPool(t, poolConf("roundrobin", "https://"+ln.Addr().String()), nil)
	p.servers[0].client.TLSConfig = &tls.Config{InsecureSkipVerify: true}
	do := func(path string) doResult { return doURL(p, "https://www.example.com"+path) }
	for _, path := range []string{"/closed", "/closed-without-notify", "/short", "/chunked-closed"} {
		before := p.Snapshot().Servers[0].Errors
		r := do(path)
		var oe *Error
		if r.err == nil || !errors.As(r.err, &oe) || !ResponseStarted(r.err) {
			t.Errorf("%s: Do = %v; want an origin *Error after the response started", path, r.err)
			if r.err == nil {
				r.done()
			}
		}
		if got := p.Snapshot().Servers[0].Errors - before; got != 1 {
			t.Errorf("%s: the server was charged %d errors, want 1", path, got)
		}
		fasthttp.ReleaseResponse(r.resp)
	}

	r := do("/whole")
	if r.err != nil || r.res.BodyPending {
		t.Errorf("/whole: Do = %v, BodyPending %v; want no error, false", r.err, r.res.BodyPending)
	} else {
		io.ReadAll(r.resp.BodyStream())
		r.done()
	}
	fasthttp.ReleaseResponse(r.resp)

	r, early := beforeRelease(release, func() doResult { return do("/partial-record") })
	if !early {
		t.Errorf("/partial-record: Do returned only after the rest of the body's record came")
	}
	if r.err != nil {
		t.Fatalf("/partial-record: Do: %v", r.err)
	}
	if !r.res.BodyPending {
		t.Errorf("/partial-record: BodyPending false; want true")
	}
	b, err := io.ReadAll(r.resp.BodyStream())
	if string(b) != "0123456789" || err != nil {
		t.Errorf("/partial-record: body %q, %v", b, err)
	}
	r.done()
	fasthttp.ReleaseResponse(r.resp)
}

// splitWriter sends a write in two parts once hold is set: its first 8 bytes, then, once hold
// is closed, the rest. A TLS record written through it reaches the peer in part first.
type splitWriter struct {
	*net.TCPConn
	hold chan struct{}
}

func (w *splitWriter) Write(b []byte) (int, error) {
	if w.hold == nil || len(b) <= 8 {
		return w.TCPConn.Write(b)
	}
	n, err := w.TCPConn.Write(b[:8])
	if err != nil {
		return n, err
	}
	<-w.hold
	m, err := w.TCPConn.Write(b[8:])
	return n + m, err
}
