package edge

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/shoal-cdn/shoal/cachestore"
	"github.com/shoal-cdn/shoal/edge/h2"
)

// h2exchange is one HTTP/2 request on its way through the pipeline: the exchange, its
// request head built from the stream's fields, and the response the pipeline writes, sent
// on the stream once handle returns. Pooled per node (Node.h2ctx), so a hit allocates
// nothing for it.
type h2exchange struct {
	x      exchange
	req    fieldList
	resp   h2Response
	fields []h2.Field
	strs   *fieldStrings
	// probe is the fresh-hit probe's walk, handed to the pipeline (exchange.probe).
	probe probeResult
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
// The pipeline then takes the probe's walk (target, route, key, lookup, verdict) instead of
// walking again (probeResult). Everything else may block (a fill, a peer hop, a pass,
// reading the request body), so the stream is detached and the pipeline runs on a goroutine
// of its own. Either way the pipeline runs exactly once per request, so metrics, rate
// limits and the access log count it once.
func (h h2handler) ServeH2(w h2.ResponseWriter, r *h2.Request) {
	n := h.n
	if problem := authorityProblem(r); problem != "" {
		n.metrics.rejected.WithLabelValues("h2_malformed").Inc()
		body := []byte("malformed HTTP/2 request: " + problem + "\n")
		w.Respond(http.StatusBadRequest, []h2.Field{
			{Name: "content-type", Value: "text/plain; charset=utf-8"},
			{Name: "cache-control", Value: "no-store"},
		}, body)
		h.logRejected(h2.RejectedRequest{RemoteAddr: r.RemoteAddr, Method: r.Method, Authority: r.Authority, Path: r.Path,
			UserAgent: fieldValue(r.Fields, "user-agent"), Referer: fieldValue(r.Fields, "referer")}, http.StatusBadRequest, len(body))
		return
	}
	e := n.h2ctx.Get().(*h2exchange)
	e.strs = h.strs
	n.h2Request(e, w, r)
	if r.ContentLength <= 0 && r.Body.Drained() {
		if obj := n.freshHit(&e.x, &e.probe); obj != nil {
			e.x.probe = &e.probe // its object served even if purged or evicted meanwhile
			if h.afterProbe != nil {
				h.afterProbe(obj)
			}
			n.handle(&e.x)
			n.h2Respond(e, w, r, true)
			return
		}
	}
	w.Detach()
	go func() {
		defer n.h2Recover(w, r.StreamID)
		if !n.h2Body(e, w, r) {
			return // answered or aborted, and e released
		}
		n.handle(&e.x)
		if e.x.bodyTooLarge {
			// The content outgrew limits.max_body_bytes while the origin read it.
			n.h2TooLarge(e)
		}
		n.h2Respond(e, w, r, false)
	}()
}

// fieldValue is the value of the first field named name (lowercase, as HTTP/2 sends names).
func fieldValue(fields []h2.Field, name string) string {
	for _, f := range fields {
		if f.Name == name {
			return f.Value
		}
	}
	return ""
}

// h2Request fills e from the HTTP/2 request: the same view the HTTP/1.1 listener gives the
// pipeline (names as sent, here lowercase; Host from :authority).
func (n *Node) h2Request(e *h2exchange, w h2.ResponseWriter, r *h2.Request) {
	q := &e.req
	q.Reset()
	q.setMethod(r.Method)
	q.SetRequestURI(r.Path)
	q.SetHost(r.Authority)
	q.setProtocol("HTTP/2.0")
	for _, f := range r.Fields {
		if f.Name == "host" {
			continue // r.Authority holds it (authorityProblem checked that they agree)
		}
		q.Add(f.Name, f.Value)
	}
	switch {
	case r.ContentLength >= 0:
		q.contentLength = int(r.ContentLength)
	case !r.Body.Drained():
		q.contentLength = -1
	default:
		q.contentLength = -2
	}
	e.resp.reset(n, w)
	x := &e.x
	x.req, x.resp = q, &e.resp
	x.remote = remoteAddr(r.RemoteAddr)
	x.tls = r.TLS // the scheme is the connection's, never :scheme's
	x.sni = r.ServerName
	x.host, x.hosts = q.host, 0
	if len(q.host) > 0 {
		x.host, x.hosts = q.host, 1
	}
}

// h2Prefetch is how much request content h2Body reads before the pipeline runs: content
// that ends within it (forms, API calls) has a known length, checked against
// limits.max_body_bytes before any origin is asked, and an origin that takes no streamed
// upload gets it with its Content-Length. Larger content streams past it.
const h2Prefetch = 64 << 10

// h2Body hands the pipeline the request content, on the detached goroutine: whole when it
// ends within h2Prefetch, else as a stream read as it arrives (what was read first, then the
// rest), bounded by limits.max_body_bytes, which edge/h2 enforces on DATA too. Content over
// the bound that is known before the origin is asked (a content-length, or all of it within
// the prefetch) is answered 413 here. false means the stream was answered (h2Respond) or
// aborted, and e released either way: e must then not be touched, as another stream may
// already hold it. (Released twice, e sat in the pool twice, and two streams of a
// connection shared one exchange: one client's request and answer in another's.)
func (n *Node) h2Body(e *h2exchange, w h2.ResponseWriter, r *h2.Request) bool {
	if e.req.contentLength == -2 || e.req.contentLength == 0 && r.Body.Drained() || h2RefusedWhateverItsContent(r.Method) {
		return true // no content, or none that matters (h2refusedmethod.go)
	}
	limit := int64(n.rt.Load().cfg.Limits.MaxBodyBytes)
	if r.ContentLength > limit {
		n.h2TooLarge(e)
		n.h2Respond(e, w, r, false)
		return false
	}
	if !n.h2ExpectContinue(e, w, r) {
		return false // answered from the head (expect.go), and e released
	}
	size := min(h2Prefetch, limit+1)
	if r.ContentLength >= 0 {
		// One byte past the declared length: the read ends only at the client's END_STREAM
		// (or at the reset edge/h2 sends for DATA past the content-length), so a request
		// whose content-length is met before its content ends (content-length: 0 and then
		// DATA) is refused before any origin sees it: RFC 9113 section 8.1.1, an
		// intermediary must not forward a malformed request.
		size = min(size, r.ContentLength+1)
	}
	first := make([]byte, size)
	k, err := io.ReadFull(r.Body, first)
	first = first[:k]
	switch {
	case errors.Is(err, h2.ErrBodyTooLarge) || int64(k) > limit:
		n.h2TooLarge(e)
		n.h2Respond(e, w, r, false)
		return false
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || err == nil && r.Body.Drained():
		e.x.bodyBytes, e.x.bodyLen = first, int64(k)
		e.req.contentLength = k
		return true
	case err != nil:
		// Reset by the client, stalled, or the connection went away: nobody to answer.
		w.Abort()
		n.h2Release(e)
		return false
	}
	e.x.body, e.x.bodyLen = io.MultiReader(bytes.NewReader(first), h2Content{r.Body}), r.ContentLength
	e.x.limitBody(limit)
	return true
}

// h2Content is a stream's content as the pipeline reads it: edge/h2's bound on DATA is the
// pipeline's errBodyTooLarge.
type h2Content struct{ b *h2.Body }

func (c h2Content) Read(p []byte) (int, error) {
	k, err := c.b.Read(p)
	if errors.Is(err, h2.ErrBodyTooLarge) {
		err = errBodyTooLarge
	}
	return k, err
}

// h2TooLarge answers 413 in place of whatever the pipeline answered.
func (n *Node) h2TooLarge(e *h2exchange) {
	n.metrics.rejected.WithLabelValues("body_too_large").Inc()
	e.x.resp.CloseBodyStream()
	plainError(&e.x, http.StatusRequestEntityTooLarge, "request body too large")
	n.ownAnswerPolicy(&e.x, true)
}

// h2Respond writes the pipeline's response. A body in memory (a hit: the stored object's
// bytes) goes out with Respond, retained by edge/h2 until the windows take it, never copied.
// A streamed body (a miss, a pass, a peer's answer, a disk file) is written as it is read;
// one that ends early resets the stream (RST_STREAM INTERNAL_ERROR), so the client never
// takes the part for the whole (RFC 9113 section 8.1). inline says the call runs on the
// connection's goroutine, which must not block: a streamed body then detaches first.
func (n *Node) h2Respond(e *h2exchange, w h2.ResponseWriter, r *h2.Request, inline bool) {
	resp := &e.resp
	status := resp.head.status
	noBody := resp.skip || r.Method == "HEAD" || status == http.StatusNoContent ||
		status == http.StatusNotModified
	if noBody {
		// Closed unread; HEAD keeps its Content-Length.
		streamed := resp.stream != nil
		resp.CloseBodyStream()
		if r.Method == "HEAD" && !resp.skip && !streamed && resp.head.contentLength < 0 {
			// A body the pipeline made for the GET (its own answers: a 403, a redirect, an
			// error page): HEAD announces its length, as the HTTP/1.1 head does (fasthttp's
			// Content-Length of the body it skips; RFC 9110 section 9.3.2).
			resp.head.contentLength = len(resp.body)
		}
		w.Respond(status, n.h2Fields(e, 0, true), nil)
		n.h2Release(e)
		return
	}
	if resp.stream == nil {
		// The body is a stored object's (immutable) or one the pipeline made for this
		// response: Respond may keep it while the exchange is reused.
		body := resp.body
		w.Respond(status, n.h2Fields(e, int64(len(body)), false), body)
		n.h2Release(e)
		return
	}
	length := int64(resp.streamLen)
	if err := w.WriteHeader(status, n.h2Fields(e, length, false)); err != nil {
		resp.CloseBodyStream()
		w.Abort()
		n.h2Release(e)
		return
	}
	if inline {
		w.Detach()
		go func() {
			defer n.h2Recover(w, r.StreamID)
			n.h2Stream(e, w)
		}()
		return
	}
	n.h2Stream(e, w)
}

// h2Stream copies a streamed body to the stream (on a detached goroutine) and ends it:
// END_STREAM when the body arrived whole, RST_STREAM when it was cut or fell short of its
// Content-Length.
func (n *Node) h2Stream(e *h2exchange, w h2.ResponseWriter) {
	resp := &e.resp
	length := int64(resp.streamLen)
	cw := countingWriter{w: w}
	bp := copyBuffers.Get().(*[]byte)
	_, err := io.CopyBuffer(&cw, onlyReader{resp.stream}, *bp)
	copyBuffers.Put(bp)
	closeBody(resp.stream, err) // records the request (outcomeBody)
	resp.stream = nil
	if err != nil || (length >= 0 && cw.n != length) {
		w.Abort()
	} else {
		w.Close(nil)
	}
	n.h2Release(e)
}

// onlyReader hides a body's WriteTo, so that the copy reads into the buffer it is given.
type onlyReader struct{ io.Reader }

// closeBody closes a response body after it was written, err saying why the write stopped
// early (nil when it did not): fasthttp's convention (ReadCloserWithError), which
// outcomeBody and the fill's readers follow.
func closeBody(r io.Reader, err error) {
	switch c := r.(type) {
	case interface{ CloseWithError(error) error }:
		_ = c.CloseWithError(err)
	case io.Closer:
		_ = c.Close()
	}
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

// h2Fields converts the response head to HTTP/2 fields: end-to-end fields only (edge/h2
// drops connection-specific ones too, RFC 9113 section 8.2.2), and Content-Length computed
// for this response, never relayed: length is the body's, or the representation's for HEAD.
// 204 and 304 carry none (RFC 9110 section 8.6). The slice is e's, reused.
func (n *Node) h2Fields(e *h2exchange, length int64, noBody bool) []h2.Field {
	head := &e.resp.head
	fields := e.fields[:0]
	for k, v := range head.All() {
		if isHopByHop(k) {
			continue
		}
		fields = append(fields, h2.Field{Name: e.strs.name(k), Value: e.strs.value(v)})
	}
	status := head.status
	// The length through e.strs, as the other values: the same string on every hit of an
	// object, which edge/h2's HPACK memo recognises by its address (a new string per
	// response cost a table search and an allocation each).
	var num [20]byte
	switch {
	case status == http.StatusNoContent || status == http.StatusNotModified:
	case noBody && head.contentLength >= 0:
		fields = append(fields, h2.Field{Name: "content-length", Value: e.strs.value(strconv.AppendInt(num[:0], int64(head.contentLength), 10))})
	case !noBody && length >= 0:
		fields = append(fields, h2.Field{Name: "content-length", Value: e.strs.value(strconv.AppendInt(num[:0], length, 10))})
	}
	e.fields = fields
	return fields
}

// h2Release returns e to the pool once nothing refers to it any more.
func (n *Node) h2Release(e *h2exchange) {
	clear(e.fields)
	e.fields = e.fields[:0]
	e.x.reset()
	e.probe = probeResult{}
	e.resp.reset(nil, nil)
	n.h2ctx.Put(e)
}

// authorityProblem finds an HTTP/2 request whose host does not come from :authority alone
// (RFC 9113 section 8.3.1): a :path that is not origin-form or "*" (an absolute-form :path
// would name another host, which parseTarget lets win), more than one host field, or a host
// field that differs from :authority. The HTTP/1.1 listener refuses the same shapes (two
// Host fields) with 400. edge/h2 has already refused connection-specific fields (section
// 8.2.2) with RST_STREAM PROTOCOL_ERROR, and taken the host field for :authority when the
// request had none.
func authorityProblem(r *h2.Request) string {
	if !strings.EqualFold(r.Scheme, "http") && !strings.EqualFold(r.Scheme, "https") && r.Method != "CONNECT" {
		// RFC 9113 section 8.3.1 lets :scheme name any scheme, for a proxy that turns such
		// requests into others; this node serves http and https resources only, and the
		// HTTP/1.1 listener refuses an ftp:// target with 400 too. Served, "ftp" was
		// routed, keyed and sent on as a request for the http(s) resource of the same path.
		return ":scheme is neither http nor https"
	}
	if p := r.Path; p != "*" && !strings.HasPrefix(p, "/") && !(r.Method == "CONNECT" && p == "") {
		// A CONNECT has no :path (RFC 9113 section 8.5): handle refuses it with 405, as it
		// refuses HTTP/1.1's.
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
