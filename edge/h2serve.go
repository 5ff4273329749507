package edge

import (
	"errors"
	"io"
	"net"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/shoal-cdn/shoal/cachestore"
	"github.com/shoal-cdn/shoal/edge/h2"
	"github.com/valyala/fasthttp"
)

// h2exchange is one HTTP/2 request on its way through the pipeline: the fasthttp context the
// pipeline works on and the response fields handed to edge/h2. Pooled per node (Node.h2ctx):
// a RequestCtx with its buffers is large, and allocating one per request dominated the cost
// of the net/http adapter this replaces.
type h2exchange struct {
	ctx    fasthttp.RequestCtx
	conn   h2conn // the ctx's connection, kept here so handing it over allocates nothing
	fields []h2.Field
	strs   *fieldStrings
	// w is the stream being answered; interim, built once per exchange so no request
	// allocates a closure, sends 1xx on it (the pipeline's interimWriter).
	w       h2.ResponseWriter
	interim interimWriter
}

// h2handler is the node's edge/h2 Handler, for listen.https (ALPN h2) and listen.h2c.
type h2handler struct {
	n    *Node
	strs *fieldStrings
	// afterProbe, when set (tests only), runs between freshHit and the inline pipeline:
	// where a purge, an eviction or the clock can overtake the probe.
	afterProbe func(probed *cachestore.Object)
}

// ServeH2 runs one HTTP/2 request through the same pipeline as HTTP/1.1 (Node.handle).
//
// It is called on the connection's goroutine (see h2.Handler). A request that freshHit says
// is a fresh hit from memory is answered right there: no goroutine, no copy of the body.
// Everything else may block (a fill, a peer hop, a pass, reading the request body), so the
// stream is detached and the pipeline runs on a goroutine of its own. Either way the
// pipeline runs exactly once per request, so metrics, rate limits and the access log count
// it once.
func (h h2handler) ServeH2(w h2.ResponseWriter, r *h2.Request) {
	n := h.n
	if problem := authorityProblem(r); problem != "" {
		n.metrics.rejected.WithLabelValues("h2_malformed").Inc()
		w.Respond(fasthttp.StatusBadRequest, []h2.Field{
			{Name: "content-type", Value: "text/plain; charset=utf-8"},
			{Name: "cache-control", Value: "no-store"},
		}, []byte("malformed HTTP/2 request: "+problem+"\n"))
		return
	}
	x := n.h2ctx.Get().(*h2exchange)
	x.strs = h.strs
	n.h2Request(x, w, r)
	if r.ContentLength <= 0 && r.Body.Drained() {
		if obj := n.freshHit(&x.ctx); obj != nil {
			x.ctx.SetUserValue(probedFlag, obj) // served even if purged or evicted meanwhile
			if h.afterProbe != nil {
				h.afterProbe(obj)
			}
			n.handle(&x.ctx)
			n.h2Respond(x, w, r, true)
			return
		}
	}
	w.Detach()
	go func() {
		defer n.h2Recover(w, r.StreamID)
		if !n.h2ReadBody(x, w, r) {
			n.h2Release(x)
			return
		}
		n.handle(&x.ctx)
		n.h2Respond(x, w, r, false)
	}()
}

// h2Request fills x's fasthttp request from the HTTP/2 request: the same view the HTTP/1.1
// listener gives the pipeline (names as sent, here lowercase; Host from :authority).
func (n *Node) h2Request(x *h2exchange, w h2.ResponseWriter, r *h2.Request) {
	ctx := &x.ctx
	x.conn.remote = r.RemoteAddr
	ctx.Init2(&x.conn, fasthttpLogger{n.log}, false)
	req := &ctx.Request
	req.Header.DisableNormalizing()
	req.Header.SetMethod(r.Method)
	req.SetRequestURI(r.Path)
	req.Header.SetHost(r.Authority)
	for _, f := range r.Fields {
		if f.Name == "host" {
			continue // r.Authority holds it (authorityProblem checked that they agree)
		}
		req.Header.Add(f.Name, f.Value)
	}
	if r.TLS {
		ctx.SetUserValue(schemeFlag, true) // the scheme is the connection's, never :scheme's
	}
	x.w = w
	if x.interim == nil {
		x.interim = func(status int, links [][]byte) {
			fields := make([]h2.Field, len(links))
			for i, l := range links {
				fields[i] = h2.Field{Name: "link", Value: string(l)}
			}
			if err := x.w.WriteInterim(status, fields); err != nil {
				n.log.Debug("h2: interim response not sent", "err", err)
			}
		}
	}
	ctx.SetUserValue(interimFlag, x.interim)
	ctx.Response.Header.DisableNormalizing()
	ctx.Response.Header.SetNoDefaultContentType(true) // as the HTTP/1.1 listener: see originHead
}

// h2ReadBody reads the request content on the detached goroutine, bounded by
// limits.max_body_bytes (edge/h2 enforces the same bound as it arrives). The pipeline takes
// a request body whole, as the HTTP/1.1 listener's. false means the stream was answered.
func (n *Node) h2ReadBody(x *h2exchange, w h2.ResponseWriter, r *h2.Request) bool {
	if r.ContentLength == 0 || (r.ContentLength < 0 && r.Body.Drained()) {
		// No content (a content-length of 0 with DATA is edge/h2's to refuse). Not Ended:
		// content that came with its END_STREAM is buffered, still to be read.
		return true
	}
	limit := int64(n.rt.Load().cfg.Limits.MaxBodyBytes)
	var body []byte
	if r.ContentLength > 0 {
		body = make([]byte, 0, min(r.ContentLength, limit)+1)
	}
	body, err := readAllInto(body, io.LimitReader(r.Body, limit+1))
	switch {
	case errors.Is(err, h2.ErrBodyTooLarge) || int64(len(body)) > limit:
		n.metrics.rejected.WithLabelValues("body_too_large").Inc()
		w.Respond(fasthttp.StatusRequestEntityTooLarge, nil, []byte("request body too large\n"))
		return false
	case err != nil:
		// Reset by the client, stalled, or the connection went away: nobody to answer.
		w.Abort()
		return false
	}
	x.ctx.Request.SetBodyRaw(body)
	x.ctx.Request.Header.SetContentLength(len(body))
	return true
}

// readAllInto is io.ReadAll into buf, which may come sized from Content-Length.
func readAllInto(buf []byte, r io.Reader) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		k, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+k]
		if errors.Is(err, io.EOF) {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// h2Respond writes the pipeline's response. A body in memory (a hit: the stored object's
// bytes) goes out with Respond, retained by edge/h2 until the windows take it, never copied.
// A streamed body (a miss, a pass, a peer's answer, a disk file) is written as it is read;
// one that ends early resets the stream (RST_STREAM INTERNAL_ERROR), so the client never
// takes the part for the whole (RFC 9113 section 8.1). inline says the call runs on the
// connection's goroutine, which must not block: a streamed body then detaches first.
func (n *Node) h2Respond(x *h2exchange, w h2.ResponseWriter, r *h2.Request, inline bool) {
	resp := &x.ctx.Response
	status := resp.StatusCode()
	noBody := resp.SkipBody || r.Method == "HEAD" || status == fasthttp.StatusNoContent ||
		status == fasthttp.StatusNotModified
	if noBody {
		// Closed unread (resp.Body would drain a stream); HEAD keeps its Content-Length.
		resp.CloseBodyStream()
		w.Respond(status, n.h2Fields(x, resp, 0, true), nil)
		n.h2Release(x)
		return
	}
	if !resp.IsBodyStream() {
		body := resp.Body()
		// The body may live in the pooled context's own buffer (an error page); releasing
		// the buffer (ReleaseBody drops it instead of pooling it) makes it the stream's, so
		// Respond may keep it while the context is reused. A stored object's body is raw
		// and untouched by this.
		resp.ReleaseBody(-1)
		w.Respond(status, n.h2Fields(x, resp, int64(len(body)), false), body)
		n.h2Release(x)
		return
	}
	length := int64(resp.Header.ContentLength())
	if err := w.WriteHeader(status, n.h2Fields(x, resp, length, false)); err != nil {
		resp.CloseBodyStream()
		w.Abort()
		n.h2Release(x)
		return
	}
	if inline {
		w.Detach()
		go func() {
			defer n.h2Recover(w, r.StreamID)
			n.h2Stream(x, w)
		}()
		return
	}
	n.h2Stream(x, w)
}

// h2Stream copies a streamed body to the stream (on a detached goroutine) and ends it:
// END_STREAM when the body arrived whole, RST_STREAM when it was cut or fell short of its
// Content-Length.
func (n *Node) h2Stream(x *h2exchange, w h2.ResponseWriter) {
	resp := &x.ctx.Response
	length := int64(resp.Header.ContentLength())
	cw := countingWriter{w: w}
	err := resp.BodyWriteTo(&cw) // closes the stream, which records the request (outcomeBody)
	if err != nil || (length >= 0 && cw.n != length) {
		w.Abort()
	} else {
		w.Close(nil)
	}
	n.h2Release(x)
}

// h2Recover, deferred on a detached goroutine, does what edge/h2 does for a handler on the
// connection's goroutine (and net/http did per request): a panic resets its stream and is
// logged; it does not end the process. The exchange is then not reused.
func (n *Node) h2Recover(w h2.ResponseWriter, stream uint32) {
	if v := recover(); v != nil {
		n.log.Error("h2: request panicked", "stream", stream, "panic", v, "stack", string(debug.Stack()))
		w.Abort()
	}
}

// countingWriter counts what reached the stream.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	k, err := c.w.Write(p)
	c.n += int64(k)
	return k, err
}

// h2Fields converts the response header to HTTP/2 fields: end-to-end fields only (edge/h2
// drops connection-specific ones too, RFC 9113 section 8.2.2), and Content-Length computed
// for this response, never relayed: length is the body's, or the representation's for HEAD.
// 204 and 304 carry none (RFC 9110 section 8.6). The slice is x's, reused.
func (n *Node) h2Fields(x *h2exchange, resp *fasthttp.Response, length int64, noBody bool) []h2.Field {
	fields := x.fields[:0]
	for k, v := range resp.Header.All() {
		if isHopByHop(k) || strings.EqualFold(string(k), "Content-Length") {
			continue
		}
		fields = append(fields, h2.Field{Name: x.strs.name(k), Value: x.strs.value(v)})
	}
	status := resp.StatusCode()
	switch {
	case status == fasthttp.StatusNoContent || status == fasthttp.StatusNotModified:
	case noBody && resp.Header.ContentLength() >= 0:
		fields = append(fields, h2.Field{Name: "content-length", Value: strconv.Itoa(resp.Header.ContentLength())})
	case !noBody && length >= 0:
		fields = append(fields, h2.Field{Name: "content-length", Value: strconv.FormatInt(length, 10)})
	}
	x.fields = fields
	return fields
}

// h2Release returns x to the pool once nothing refers to its context any more.
func (n *Node) h2Release(x *h2exchange) {
	clear(x.fields)
	x.fields, x.w = x.fields[:0], nil
	x.ctx.Request.Reset()
	x.ctx.Response.Reset()
	x.ctx.ResetUserValues()
	n.h2ctx.Put(x)
}

// authorityProblem finds an HTTP/2 request whose host does not come from :authority alone
// (RFC 9113 section 8.3.1): a :path that is not origin-form or "*" (an absolute-form :path
// would name another host, which parseTarget lets win), more than one host field, or a host
// field that differs from :authority. The HTTP/1.1 listener refuses the same shapes (two
// Host fields) with 400. edge/h2 has already refused connection-specific fields (section
// 8.2.2) with RST_STREAM PROTOCOL_ERROR, and taken the host field for :authority when the
// request had none.
func authorityProblem(r *h2.Request) string {
	if p := r.Path; p != "*" && !strings.HasPrefix(p, "/") {
		return ":path is not origin-form"
	}
	hosts := 0
	for _, f := range r.Fields {
		if f.Name != "host" {
			continue
		}
		hosts++
		if hosts > 1 {
			return "more than one host field"
		}
		if !strings.EqualFold(f.Value, r.Authority) {
			return "host field differs from :authority"
		}
	}
	return ""
}

// h2conn stands in for the connection fasthttp would have: only the addresses are used.
type h2conn struct {
	net.Conn
	remote net.Addr
}

func (c *h2conn) RemoteAddr() net.Addr { return c.remote }
func (c *h2conn) LocalAddr() net.Addr  { return c.remote }
