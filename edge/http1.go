package edge

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"

	"github.com/shoal-cdn/shoal/purge"
	"github.com/valyala/fasthttp"
)

// http1Exchange adapts one fasthttp request (listen.http, HTTP/1.1 over listen.https, the
// peer port) to the pipeline: the request view is a fieldList read from the raw head
// (readCheckedHTTP1Head), and the response writes into fasthttp's response, which fasthttp sends
// after the handler returns. Bodies are not copied: a body set as bytes is fasthttp's raw
// body, a stream its body stream. Pooled, so a hit allocates nothing for it.
type http1Exchange struct {
	x   exchange
	req fieldList
	w   http1Response
	// content is the request's content when fasthttp streams it, and buf what the handler
	// prefetched of it (http1content.go), kept for the exchange's next request.
	content http1Content
	buf     []byte
	// chunkBR reads chunked request content for the node's decoder (http1chunked.go).
	chunkBR *bufio.Reader
}

var http1Exchanges = sync.Pool{New: func() any { return new(http1Exchange) }}

// getHTTP1 fills a pooled exchange from ctx. The listener's checks of the head as it arrived
// (framing, version) are done here, where the wire is known, and left in x.problem for handle
// to answer, so that a refused request is recorded like every other.
func (n *Node) getHTTP1(ctx *fasthttp.RequestCtx) *http1Exchange {
	return n.getHTTP1Max(ctx, n.maxHdr())
}

// getHTTP1Max is getHTTP1 with a head of at most maxFields field lines (0: any number).
func (n *Node) getHTTP1Max(ctx *fasthttp.RequestCtx, maxFields int) *http1Exchange {
	e := http1Exchanges.Get().(*http1Exchange)
	e.w.ctx, e.w.n = ctx, n
	x := &e.x
	x.req, x.resp = &e.req, &e.w
	var problem string
	x.host, x.hosts, problem = readCheckedHTTP1Head(&e.req, &ctx.Request.Header, maxFields)
	if x.hosts == 0 && len(e.req.host) == 0 {
		x.host, x.hosts = localAuthority(&e.req, ctx)
	}
	x.remote = remoteAddr(ctx.RemoteAddr())
	x.tls = ctx.IsTLS()
	if x.tls {
		x.sni = serverName(ctx.Conn())
	}
	if !ctx.Request.IsBodyStream() {
		x.bodyBytes = ctx.Request.Body() // a server without StreamRequestBody: the peer port
	}
	x.bodyLen = int64(requestContentLength(&ctx.Request.Header))
	if problem != "" {
		x.problem = problem
	} else if !versionOne(ctx.Request.Header.Protocol()) {
		x.problem = problemVersion
	}
	dropTrailerFields(&ctx.Request.Header)
	return e
}

// maxHdr is limits.maxhdr as last loaded (0 before the first load, or for a Node a test
// built without its pipeline).
func (n *Node) maxHdr() int {
	if n.pipeline == nil {
		return 0
	}
	if rt := n.rt.Load(); rt != nil {
		return rt.cfg.Limits.MaxHdr
	}
	return 0
}

func putHTTP1(e *http1Exchange) {
	e.x.reset()
	e.content = http1Content{}
	if e.chunkBR != nil {
		e.chunkBR.Reset(nil) // holds no stream fasthttp reuses
	}
	e.w.ctx = nil
	http1Exchanges.Put(e)
}

// handleHTTP1 is the fasthttp server generations' handler (listen.http, listen.https).
//
// After handle, a disk hit's body (a *diskFile stream) learns the bare socket of its
// connection, so that fasthttp's fixed-size body writer, which calls diskFile.WriteTo, sends
// it with sendfile(2) at an explicit offset (the segment's descriptor is shared: see
// diskFile). The head is flushed before the body (ImmediateHeaderFlush), as the body no
// longer passes through the connection's write buffer; a body of corkMinBody or more is
// sent corked, so the head leaves in the body's first segment (cork.go). Over TLS, or with
// no socket found, the body is copied.
//
// The connection's phase (conntimer.go) is the handler's from here, or from the end of the
// request's content when it streams (http1content.go), until it returns, when the write of
// the response begins: read_timeout does not bound a miss waiting on its origin,
// write_timeout bounds what fasthttp writes after.
func (n *Node) handleHTTP1(ctx *fasthttp.RequestCtx) {
	c := ctx.Conn()
	lc := n.liveOf(c)
	s := ctx.Request.BodyStream()
	if s != nil && marked(&ctx.Request.Header, declaredMarker) {
		n.protocolError(ctx, fasthttp.ErrBodyTooLarge)
		n.lingerAfter(ctx) // its content is still coming (linger.go)
		return
	}
	e := n.getHTTP1(ctx)
	e.x.expect = expectStageOf(ctx)
	chunked := chunkedHere(&ctx.Request.Header)
	if chunked && s != nil {
		s = e.chunkedContent(s)
	}
	if s == nil || e.x.problem != "" {
		lc.enter(phaseHandler) // a refused head's content is never read: the connection closes
	} else if !n.readHTTP1Content(e, s, lc) {
		return
	}
	n.handle(&e.x)
	if chunked {
		// The node decoded the content, and fasthttp cannot tell where it ended: the
		// connection closes after the answer (http1chunked.go), which says so.
		ctx.SetConnectionClose()
	}
	flushUnlessStored(ctx, lc, &e.x)
	n.finishHTTP1Content(e)
	// An error answer held in memory (the node's own refusals, a stored 4xx) that closes
	// the connection, with content or pipelined requests possibly still coming, lingers
	// (linger.go): not a streamed answer, nor one to a client that failed to send its
	// content (a timeout, a close). A client that asked for the close closes at once.
	// An origin's own early refusal of an upload (a 413 sent once it read the head) is a
	// streamed answer with the client's content still coming: it lingers too, or the
	// close's reset loses it (earlyanswer_test.go).
	unread := e.x.body != nil && !e.content.ended
	linger := e.content.err == nil && ctx.Response.StatusCode() >= 400 && ctx.Response.ConnectionClose() &&
		(!ctx.Response.IsBodyStream() || unread)
	n.releaseHTTP1(e)
	lc.enter(phaseWrite)
	if linger {
		n.lingerAfter(ctx)
		return
	}
	b, ok := ctx.Response.BodyStream().(*diskFile)
	if !ok {
		return
	}
	sock, ok := c.(*net.TCPConn)
	if !ok && n.feed != nil {
		sock = n.feed.socketOf(c)
	}
	if sock != nil {
		b.sock = sock
		ctx.Response.ImmediateHeaderFlush = true
		if b.n >= corkMinBody {
			b.cork(lc.rawConn(sock))
		}
	}
}

// localAuthority gives an HTTP/1.0 request in origin form without Host (HTTP/1.0 has no
// Host requirement) the authority RFC 9112 section 3.3 reconstructs its target URI with: the
// local IP address and port the connection reached. So it is routed, keyed and sent on as a
// request for that address, as nginx serves it from its default server, instead of a 400
// that tools speaking plain HTTP/1.0 (health checkers, embedded clients) never expect. Any
// other request is left without one (hosts 0), for parseTarget to refuse.
func localAuthority(l *fieldList, ctx *fasthttp.RequestCtx) (host []byte, hosts int) {
	if !bytes.Equal(l.proto, []byte("HTTP/1.0")) || len(l.uri) == 0 || l.uri[0] != '/' {
		return nil, 0
	}
	a, ok := ctx.LocalAddr().(*net.TCPAddr)
	if !ok {
		return nil, 0
	}
	ip, _ := netip.AddrFromSlice(a.IP)
	l.host = l.putString(netip.AddrPortFrom(ip.Unmap(), uint16(a.Port)).String()).bytes(l)
	return l.host, 1
}

// remoteAddr is a connection's peer address, or the zero Addr.
func remoteAddr(a net.Addr) netip.Addr {
	if ta, ok := a.(*net.TCPAddr); ok {
		if ip, ok := netip.AddrFromSlice(ta.IP); ok {
			return ip.Unmap()
		}
	}
	return netip.Addr{}
}

// readCheckedHTTP1Head fills l from fasthttp's parsed head: the request line, Host, and the
// fields in the order and spelling the client sent them (from the raw head; a head built in
// a test has none, and its parsed fields are taken). The framing fields stay out: fasthttp
// consumed them, and the content reaches the pipeline decoded. The framing guard's checks
// are made in the same walk of the raw head: problem is the first line's problem, or the
// guard's at the end. Once a line has a problem, the lines from it on are read as they were
// before the guard (the request is refused, and its view is only logged). A head of more than
// maxFields field lines (when above 0) has problemTooManyFields.
func readCheckedHTTP1Head(l *fieldList, h *fasthttp.RequestHeader, maxFields int) (host []byte, hosts int, problem string) {
	l.Reset()
	l.method = l.put(h.Method()).bytes(l)
	l.uri = l.put(h.RequestURI()).bytes(l)
	l.proto = l.put(h.Protocol()).bytes(l)
	l.contentLength = requestContentLength(h)
	raw := h.RawHeaders()
	if len(raw) == 0 {
		l.host = l.put(h.Host()).bytes(l)
		for k, v := range h.All() {
			if !framingField(k) && !bytes.EqualFold(k, []byte("Host")) {
				l.AddBytesKV(k, v)
			}
		}
		if len(l.host) == 0 {
			return nil, 0, ""
		}
		return l.host, 1, ""
	}
	var guard framingGuard
	lines := 0
	for len(raw) > 0 {
		line, bareLF := nextLineEnd(&raw)
		var name, value []byte
		var ok bool
		if problem == "" && bareLF {
			problem = problemBareLF
		}
		if len(line) > 0 {
			lines++
			if problem == "" && lines > maxFields && maxFields > 0 {
				problem = problemTooManyFields
			}
		}
		if problem == "" {
			name, value, ok, problem = guard.line(line)
		}
		if problem != "" {
			name, value, ok = bytes.Cut(line, []byte(":"))
			value = trimOWS(value)
		}
		if !ok || len(name) == 0 || framingField(name) {
			continue // the guard refuses a malformed line; the framing is fasthttp's
		}
		if len(name) == len("Host") && bytes.EqualFold(name, []byte("Host")) {
			if hosts == 0 {
				l.host = l.put(value).bytes(l)
				host = l.host
			}
			hosts++
			continue
		}
		l.AddBytesKV(name, value)
	}
	if problem == "" {
		problem = guard.end()
	}
	if hosts == 0 {
		l.host = l.put(h.Host()).bytes(l) // an absolute-form target's authority
	}
	return host, hosts, problem
}

// framingField names the fields that frame an HTTP/1.1 message (RFC 9112 section 6).
func framingField(name []byte) bool {
	switch len(name) {
	case len("Content-Length"):
		return bytes.EqualFold(name, []byte("Content-Length"))
	case len("Transfer-Encoding"):
		return bytes.EqualFold(name, []byte("Transfer-Encoding"))
	}
	return false
}

// http1Response is the response interface over fasthttp's response.
type http1Response struct {
	ctx *fasthttp.RequestCtx
	// n sends interim responses' failures to the node's log.
	n *Node
}

func (r *http1Response) Head() responseHead { return http1Head{&r.ctx.Response.Header} }
func (r *http1Response) SetBody(b []byte)   { r.ctx.Response.SetBodyRaw(b) }

func (r *http1Response) Body() []byte {
	if r.ctx.Response.IsBodyStream() {
		return nil // Body would read the stream whole
	}
	return r.ctx.Response.Body()
}

func (r *http1Response) SetBodyStream(s io.Reader, size int) { r.ctx.SetBodyStream(s, size) }
func (r *http1Response) BodyStream() io.Reader               { return r.ctx.Response.BodyStream() }
func (r *http1Response) CloseBodyStream()                    { _ = r.ctx.Response.CloseBodyStream() }
func (r *http1Response) SkipBody()                           { r.ctx.Response.SkipBody = true }
func (r *http1Response) BodySkipped() bool                   { return r.ctx.Response.SkipBody }
func (r *http1Response) SetConnectionClose()                 { r.ctx.SetConnectionClose() }
func (r *http1Response) ConnectionClose() bool               { return r.ctx.Response.ConnectionClose() }
func (r *http1Response) FlushHead()                          { r.ctx.Response.ImmediateHeaderFlush = true }
func (r *http1Response) Reset()                              { r.ctx.Response.Reset() }

// Interim writes a 103 on the connection now. fasthttp writes the Link fields the response
// holds at the time of the call: set them for it, then take them out of the final
// response, which carries its own.
func (r *http1Response) Interim(status int, links [][]byte) {
	if status != fasthttp.StatusEarlyHints {
		return // the only 1xx relayed (see hintsOf)
	}
	var lc *liveConn
	if r.n != nil {
		lc = r.n.liveOf(r.ctx.Conn())
	}
	if !hintsInOrder(r.ctx, lc) {
		r.n.metrics.hintsDropped.Inc()
		return
	}
	h := &r.ctx.Response.Header
	for _, l := range links {
		h.AddBytesV("Link", l)
	}
	// The 103 is written from the handler: write_timeout bounds it (conntimer.go).
	lc.enter(phaseWrite)
	if err := r.ctx.EarlyHints(); err != nil && r.n != nil {
		r.n.log.Debug("early hints not sent", "err", err)
	}
	lc.enter(phaseHandler)
	h.Del("Link")
}

// Seal gives an HTTP/1.0 client a response it can delimit (frameForHTTP10).
func (r *http1Response) Seal(p *pipeline, x *exchange) { p.frameForHTTP10(r.ctx, x) }

// protocolError is the fasthttp servers' ErrorHandler, for requests fasthttp could not
// parse: too-large heads get 431, slow clients 408, a body over limits.max_body_bytes 413,
// anything else 400. The connection is closed.
func (n *Node) protocolError(ctx *fasthttp.RequestCtx, err error) {
	// fasthttp writes the answer after this returns, within write_timeout (conntimer.go).
	defer n.liveOf(ctx.Conn()).enter(phaseWrite)
	e := n.getHTTP1(ctx)
	defer putHTTP1(e)
	x := &e.x
	headRead := false
	defer n.recordRejected(x, &headRead) // once answered, before putHTTP1
	x.resp.SetConnectionClose()
	var small *fasthttp.ErrSmallBuffer
	var ne net.Error
	switch {
	case errors.As(err, &small):
		n.metrics.rejected.WithLabelValues("header_too_large").Inc()
		plainError(x, http.StatusRequestHeaderFieldsTooLarge, "request header fields too large")
	case errors.As(err, &ne) && ne.Timeout():
		n.metrics.rejected.WithLabelValues("timeout").Inc()
		plainError(x, http.StatusRequestTimeout, "request timeout")
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		n.metrics.rejected.WithLabelValues("body_too_large").Inc()
		headRead = true
		plainError(x, http.StatusRequestEntityTooLarge, "request body too large")
		// The head was read whole: the answer is the route's, as a route's own
		// max_body_bytes answer is (error page and response fields).
		n.ownAnswerPolicy(x, true)
		return
	default:
		n.metrics.rejected.WithLabelValues("malformed").Inc()
		plainError(x, http.StatusBadRequest, "malformed request")
	}
	n.ownAnswerPolicy(x, false)
}

// handlePeer serves the peer port: node-to-node traffic only. Anything without the cluster
// secret is refused and counted. A forwarded request carries what its first node saw (the
// client's address and scheme) in fields only a peer may send, taken out here.
func (n *Node) handlePeer(ctx *fasthttp.RequestCtx) {
	if !n.peerAuthorized(peekFold(&ctx.Request.Header, peerSecretHeader)) {
		n.refuseStranger(ctx)
		return
	}
	if marked(&ctx.Request.Header, peerChunkedMarker) {
		n.metrics.rejected.WithLabelValues("malformed").Inc()
		e := n.getHTTP1(ctx)
		e.x.resp.SetConnectionClose()
		plainError(&e.x, http.StatusBadRequest, "malformed request: the peer port reads no chunked content")
		putHTTP1(e)
		return
	}
	if bytes.HasPrefix(ctx.Path(), []byte(purge.PeerPath)) {
		n.purgePeer(ctx)
		return
	}
	// A forwarded head is the client's with the forwarding and peer fields added, as its
	// size limit on this port is twice the client port's (peerlisten.go).
	maxFields := n.maxHdr()
	if maxFields > 0 {
		maxFields = 2*maxFields + 32
	}
	e := n.getHTTP1Max(ctx, maxFields)
	x := &e.x
	x.forwarded = true
	if ip, err := netip.ParseAddr(string(x.req.Peek(clientIPHeader))); err == nil {
		x.client = ip
	}
	x.tls = string(x.req.Peek(schemeHeader)) == "https"
	x.adoption = len(x.req.Peek(adoptHeader)) > 0
	x.req.Del(adoptHeader)
	x.req.Del(peerSecretHeader)
	x.req.Del(clientIPHeader)
	x.req.Del(schemeHeader)
	n.handle(x)
	n.releaseHTTP1(e)
	// A streamed body goes out after its head has left: fasthttp would otherwise hold a small
	// head in its buffer until the body is written, and a body the origin cuts would close
	// the connection with nothing sent, which the forwarding peer could not tell from a
	// connection closed while idle (see forwardWith).
	ctx.Response.ImmediateHeaderFlush = ctx.Response.IsBodyStream()
}

// releaseHTTP1 returns e to its pool now, or, when its response streams a body streamBody
// set, once fasthttp closed that body: the body's record waits for its end, and the body
// (exchange.outcome) and a pass's origin body (exchange.passed) live in e. fasthttp closes
// the body once, since outcomeBody has CloseWithError and no Close (see there).
func (n *Node) releaseHTTP1(e *http1Exchange) {
	if b := e.x.streamed; b != nil && e.x.resp.BodyStream() == io.Reader(b) {
		b.release = e
		return
	}
	putHTTP1(e)
}

// release is putHTTP1, for outcomeBody.
func (e *http1Exchange) release() { putHTTP1(e) }

// dropTrailerFields discards the trailer section of a chunked request body, which RFC 9112
// section 7.1.2 lets a recipient do. fasthttp merges it into the header section, which RFC
// 9110 section 6.5.1 forbids: fields the framing guard never saw reached the origin as header
// fields.
func dropTrailerFields(h *fasthttp.RequestHeader) {
	var keys []string
	for k := range h.Trailers() {
		keys = append(keys, string(k))
	}
	if len(keys) == 0 {
		return
	}
	for _, k := range keys {
		h.Del(k)
	}
	_ = h.SetTrailer("") // and the Trailer field that announced them
}

// peekFold returns the first line of a request field whatever the case of its name: with
// header name normalising off, fasthttp's Peek matches names exactly, so a client's
// "cache-control" would be missed (RFC 9110 section 5.1: names are case-insensitive).
func peekFold(h *fasthttp.RequestHeader, name string) []byte {
	for k, v := range h.All() {
		if len(k) == len(name) && strings.EqualFold(name, string(k)) {
			return v
		}
	}
	return nil
}
