package edge

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/netip"
	"unsafe"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/shoal-cdn/shoal/httpcache"
	"github.com/shoal-cdn/shoal/origin"
)

// servePass sends the request to the route's pool and streams the answer back untouched but
// for hop-by-hop fields: dynamic pages, POST, anything a cache must not keep.
func (p *pipeline) servePass(x *exchange, rt *settings, r *route) string {
	out := x.outgoing()
	p.originRequestPolicy(x, rt.rulesFor(r), out)
	var ipBuf [len("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff%") + 16]byte
	setForwardingFields(out, clientIPIn(ipBuf[:0], x.clientAddr()), x.scheme(), p.requestVia(x))
	sent := p.now()
	target := p.borrowedTarget(x, r) // it lives only as long as Do
	// Do calls it on this goroutine, before the final head: relay as it comes.
	target.OnInterim = p.interimTo(x)
	res, a, done, err := askPool(r.pool, out, x.body, x.bodyLen, x.bodyBytes, target, x.resp.Head())
	putOutgoing(out)
	now := p.now()
	if err != nil {
		x.askedUpstream(r.pool.Name(), originAddr(err), 0, now.Sub(sent))
		p.originError(x, r.pool, err)
		return "error"
	}
	x.askedUpstream(r.pool.Name(), res.Addr, a.status, now.Sub(sent))
	p.metrics.originTimeBy.get1(r.pool.Name()).Observe(now.Sub(sent).Seconds())

	headLength := a.relayTo(x.resp.Head(), now) // the head as parsed (or parsed there): a.head stays empty
	x.resp.Head().Add("Via", p.via())
	if res.SetCookie != "" {
		x.resp.Head().Add("Set-Cookie", res.SetCookie)
	}
	setCacheStatus(x.resp.Head(), relayedList(x.resp.Head(), "Cache-Status"), httpcache.CacheStatus{Cache: cacheName, Fwd: "bypass", FwdStatus: a.status, Detail: p.name})
	body := &x.passed // the exchange outlives the body: see exchange.passed
	*body = originBody{a: a, done: done, count: p.metrics.bytesIn, want: int64(max(a.length, -1))}
	if bodyless(x.req.Method(), a.status) {
		if bytes.Equal(x.req.Method(), []byte("HEAD")) {
			// Read before Close, which gives the answer back.
			x.resp.SkipBody()
			setHeadLength(x.resp.Head(), headLength)
			p.codeHeadAnswer(x, rt, x.resp.Head(), a.status, headLength)
		}
		body.Close()
		return "pass"
	}
	length := max(a.length, -1)
	stream, length := p.compressStream(x, rt, x.resp.Head(), a.status, body, length)
	streamBody(x, stream, length)
	if a.pending {
		x.resp.FlushHead()
	}
	return "pass"
}

// clientIPIn appends the client's address to buf and returns it as a string borrowed from
// buf (the caller's stack array: setForwardingFields copies what it keeps), so a pass does
// not allocate the address's text. An invalid address reads as netip's "invalid IP".
func clientIPIn(buf []byte, a netip.Addr) string {
	if !a.IsValid() {
		return a.String()
	}
	buf = a.AppendTo(buf)
	return unsafe.String(unsafe.SliceData(buf), len(buf))
}

// borrowedTarget is what the pool's balancer and stickiness may look at, its hash key
// borrowed from the request's bytes: valid until the handler returns, for a pass's Do (the
// key is only hashed while picking a server). A fill that outlives the handler clones the
// key (startFill).
func (p *pipeline) borrowedTarget(x *exchange, r *route) origin.Target {
	t := origin.Target{ClientIP: x.clientAddr(), Idempotent: idempotent(x.req.Method())}
	if uri := x.req.RequestURI(); len(uri) > 0 {
		t.HashKey = unsafe.String(unsafe.SliceData(uri), len(uri))
	}
	if r.stickyCookie != "" {
		t.StickyID = string(x.req.Cookie(r.stickyCookie))
	}
	return t
}

// copyEndToEnd copies a response head, names as sent, without hop-by-hop fields: those of
// RFC 9110 section 7.6.1, the framing fields (the writer computes its own) and every name
// any Connection line lists, whatever the case of either.
func copyEndToEnd(dst responseHead, src *fieldList) {
	drop := connectionNamed(src)
	for k, v := range src.All() {
		if isHopByHop(k) || bytes.EqualFold(k, []byte("Content-Length")) || containsFold(drop, k) {
			continue
		}
		dst.AddBytesKV(k, v)
	}
}

// bodyless reports responses that carry no body (RFC 9110 section 6.4.1).
func bodyless(method []byte, status int) bool {
	return bytes.Equal(method, []byte("HEAD")) || status == 204 || status == 304 || status < 200
}

// originBody streams an origin response to the client and gives the connection back when
// fasthttp closes it after the last byte (or after the client went away).
//
// It never ends a short body with io.EOF: a body that stops before its Content-Length, or
// whose chunked framing or connection broke, reads as an error, so every writer (HTTP/1.1,
// the HTTP/2 adapter, the peer port) aborts the client's response instead of completing it
// (RFC 9112 section 6.3).
type originBody struct {
	a      *answer
	done   func()
	count  prometheus.Counter // body bytes received (a counter, not its Add method value, which allocates)
	want   int64              // Content-Length, -1 when unknown
	got    int64
	closed bool
}

func (b *originBody) Read(p []byte) (int, error) {
	s := b.a.body()
	if s == nil {
		return 0, io.EOF
	}
	n, err := s.Read(p)
	if n > 0 {
		b.got += int64(n)
		b.count.Add(float64(n))
	}
	if errors.Is(err, io.EOF) && b.want >= 0 && b.got != b.want {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

func (b *originBody) Close() error {
	if b.closed {
		return nil
	}
	b.closed = true
	err := b.a.closeBody()
	if b.done != nil {
		b.done()
	}
	b.a.free()
	return err
}

// originError maps a pool failure to the status a client should see.
func (p *pipeline) originError(x *exchange, pool *origin.Pool, err error) {
	p.log.Warn("origin request failed", "pool", pool.Name(), "err", err)
	switch {
	case errors.Is(err, origin.ErrNoServer):
		plainError(x, http.StatusServiceUnavailable, "service unavailable: no healthy server in origin pool "+pool.Name())
	case errors.Is(err, origin.ErrQueueTimeout):
		plainError(x, http.StatusServiceUnavailable, "service unavailable: origin pool "+pool.Name()+" is saturated")
	case origin.IsTimeout(err) || errors.Is(err, errFillTimeout):
		plainError(x, http.StatusGatewayTimeout, "gateway timeout: origin pool "+pool.Name()+" did not answer in time")
	default:
		plainError(x, http.StatusBadGateway, "bad gateway: origin pool "+pool.Name()+" failed")
	}
}

var errFillTimeout = errors.New("edge: origin fill timed out")

var _ io.ReadCloser = (*originBody)(nil)
