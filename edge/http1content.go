package edge

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"

	"github.com/valyala/fasthttp"
)

// Request content on the HTTP/1.1 listeners. fasthttp runs with StreamRequestBody: without
// it, fasthttp allocated a request's whole Content-Length (up to limits.max_body_bytes)
// before any byte of it arrived, so connections declaring 16 MB and sending one byte each
// held 16 MB each (40 of them took a node from 20 MB to 678 MB). With it, fasthttp reads at
// most 8 KiB of content into a pooled buffer before the handler runs, and the handler reads
// the rest: up to http1Prefetch bytes into the exchange's own buffer, then, for larger
// content, as a stream the origin request reads as it goes (as HTTP/2 content is read,
// h2serve.go). So a connection holds at most those two buffers whatever it declares, as
// nginx holds client_body_buffer_size and HAProxy its buffers.
//
// Content that ends within http1Prefetch stays bytes: an idempotent request with a small
// body keeps its retry on a stale pooled origin connection (a stream cannot be sent twice),
// and routes and origins see its length. Larger content streams, bounded by
// limits.max_body_bytes and the route's max_body_bytes (limitBody): content that outgrows a
// bound ends the upload and is answered 413 with the connection closed.
//
// limits.read_timeout bounds a head from the request's first byte, and then each wait for its
// content (phaseBody, conntimer.go), as nginx's client_header_timeout and client_body_timeout
// do: an upload that keeps arriving is never cut however long it takes (before, read_timeout
// bounded head and content together, so a 16 MiB upload needed 0.5 MB/s), while a client that
// stops mid-body gets 408 and the connection closes. A response
// the pipeline made before reading the content to its end closes the connection, so the
// unread rest is never parsed as the next request.

// http1Prefetch is how much request content the handler reads before the pipeline runs, as
// nginx's client_body_buffer_size on 64-bit platforms.
const http1Prefetch = 16 << 10

// declaredMarker is a field the HeaderReceived hook adds to a head whose Content-Length is over
// limits.max_body_bytes, after setting its Content-Length to 0 so that fasthttp reads none
// of the content. It is added to fasthttp's parsed fields only, never to the raw head the
// request view is read from (readCheckedHTTP1Head), so no origin sees it; a client that
// sends it only has its own request refused.
const declaredMarker = "Shoal-Declared-Too-Large"

// headerReceived is the HTTP/1.1 servers' HeaderReceived hook. A Content-Length over limit
// is answered 413 by the handler at once, from the head alone, as it was before streaming
// and as nginx does: fasthttp would otherwise wait for the first min(limit, 8 KiB) bytes of
// content before calling any handler, and a client that waits for the answer before it
// sends would get 408 after read_timeout. A request that expects 100-continue is left to
// the ExpectHandler (expect.go), which answers it 413 before any 100.
func headerReceived(limit int) func(*fasthttp.RequestHeader) fasthttp.RequestConfig {
	return func(h *fasthttp.RequestHeader) fasthttp.RequestConfig {
		servedAsHTTP11(h)
		cl := h.ContentLength()
		if cl > 0 || cl == -1 {
			canonicalExpect(h)
		}
		if cl > limit && !expects100(h) {
			h.SetContentLength(0)
			h.Set(declaredMarker, "1")
		}
		if maxBody, ok := decodeChunkedHere(h); ok {
			return fasthttp.RequestConfig{MaxRequestBodySize: maxBody}
		}
		return fasthttp.RequestConfig{}
	}
}

// servedAsHTTP11 makes a request line of HTTP/1.2 to HTTP/1.9 an HTTP/1.1 request (RFC 9110
// section 2.5: a recipient treats a higher minor version as the highest one it supports, and
// a server answers in that version). fasthttp takes every version but "HTTP/1.1" for 1.0, so
// such a client got Connection: close after every answer and no 100 (Continue), as nginx and
// HAProxy never do. Host is required of it as of any version above 1.0 (handler.go).
func servedAsHTTP11(h *fasthttp.RequestHeader) {
	p := h.Protocol()
	if len(p) != len("HTTP/1.1") || p[7] <= '1' || p[7] > '9' || !bytes.HasPrefix(p, []byte("HTTP/1.")) {
		return
	}
	h.Set(versionMarker, string(p)) // for the access log, which names the version sent
	h.SetProtocol("HTTP/1.1")
	// fasthttp closed the connection after the answer, as for HTTP/1.0 without keep-alive;
	// only the client's own "close" does now. The raw head is read: fasthttp's All lists a
	// "Connection: close" of its own making.
	for raw := h.RawHeaders(); len(raw) > 0; {
		k, v, _ := bytes.Cut(nextLine(&raw), []byte(":"))
		if !bytes.EqualFold(k, []byte("Connection")) {
			continue
		}
		for _, t := range connectionTokens(v) {
			if bytes.EqualFold(t, []byte("close")) {
				return
			}
		}
	}
	h.ResetConnectionClose()
}

// versionMarker is a field servedAsHTTP11 adds to fasthttp's parsed fields (never to the raw
// head the request view is read from, so no origin sees it) holding the version the request
// line named, for the access log (sentVersion), as nginx logs $server_protocol as sent.
const versionMarker = "Shoal-Sent-Version"

// sentVersion is the HTTP/1.2 to 1.9 a request line named, which servedAsHTTP11 served as
// 1.1, or "". A client that sends the marker field itself is not believed: its line is in
// the raw head, where servedAsHTTP11's is not. Only the access log asks, once per record.
func sentVersion(h *fasthttp.RequestHeader) string {
	v := h.Peek(versionMarker)
	if len(v) != len("HTTP/1.2") || !bytes.HasPrefix(v, []byte("HTTP/1.")) || v[7] < '2' || v[7] > '9' {
		return ""
	}
	for raw := h.RawHeaders(); len(raw) > 0; {
		if k, _, _ := bytes.Cut(nextLine(&raw), []byte(":")); bytes.EqualFold(trimOWS(k), []byte(versionMarker)) {
			return ""
		}
	}
	return string(v)
}

// canonicalExpect adds "Expect" to fasthttp's parsed fields (never to the raw head the
// request view is read from) when the client spelled the field's name in another case:
// names are case-insensitive (RFC 9110 section 5.1), but the listener keeps them as sent and
// fasthttp's Request.MayContinue looks for "Expect" alone, so "expect: 100-continue" (as
// Node.js and others send it) got no 100 (Continue) and no answer from the head: the client
// waited until it gave up, or until read_timeout. Only requests with content look.
func canonicalExpect(h *fasthttp.RequestHeader) {
	if h.Peek("Expect") != nil {
		return
	}
	var value []byte
	for k, v := range h.All() {
		if len(k) == len("Expect") && bytes.EqualFold(k, []byte("Expect")) {
			value = v
			break
		}
	}
	if value != nil {
		h.SetBytesV("Expect", value)
	}
}

// expects100 is fasthttp's Request.MayContinue, which the head alone does not offer.
func expects100(h *fasthttp.RequestHeader) bool {
	return h.IsHTTP11() && bytes.EqualFold(h.Peek("Expect"), []byte("100-continue"))
}

// marked reports a head a HeaderReceived hook marked with marker (declaredMarker,
// peerChunkedMarker): the hook leaves it no content to read and the field says why.
func marked(h *fasthttp.RequestHeader, marker string) bool {
	return h.ContentLength() == 0 && h.Peek(marker) != nil
}

// http1Content is an HTTP/1.1 request's content as the pipeline reads it: what the handler
// prefetched, then the rest from fasthttp's request stream. It notes the end of the content
// (the connection leaves its read phase then) and a client's failure to send it.
type http1Content struct {
	pre    []byte    // prefetched and not yet read
	r      io.Reader // fasthttp's request stream
	length int64     // the declared Content-Length, -1 chunked
	read   int64     // bytes read from r
	lc     *liveConn
	ended  bool  // read to its end
	err    error // the client's failure: a timeout, a close or a broken chunk
}

func (c *http1Content) Read(p []byte) (int, error) {
	if len(c.pre) > 0 {
		k := copy(p, c.pre)
		c.pre = c.pre[k:]
		return k, nil
	}
	switch {
	case c.ended:
		return 0, io.EOF
	case c.err != nil:
		return 0, c.err
	}
	// Timed while it waits for the client only: each read starts a new read_timeout, and the
	// time the pipeline spends between reads (sending to the origin) is not the client's.
	c.lc.enter(phaseBody)
	k, err := c.r.Read(p)
	c.read += int64(k)
	if err == nil && c.length >= 0 && c.read >= c.length {
		err = io.EOF
	}
	if err == io.EOF && c.length >= 0 && c.read < c.length {
		// fasthttp's request stream says EOF when the client closes short of its
		// Content-Length: that content is cut, not complete.
		err = io.ErrUnexpectedEOF
	}
	switch {
	case err == io.EOF:
		c.ended = true
	case err != nil:
		c.err = err
	}
	c.lc.enter(phaseHandler)
	return k, err
}

// readHTTP1Content hands the pipeline the content of e's request, whose fasthttp stream is s:
// as bytes when it ends within http1Prefetch, else as a stream of what was read and the rest.
// false means the request was answered (413 over limits.max_body_bytes, 408 or 400 for a
// client that failed to send it) and e released.
func (n *Node) readHTTP1Content(e *http1Exchange, s io.Reader, lc *liveConn) bool {
	x := &e.x
	c := &e.content
	*c = http1Content{r: s, length: x.bodyLen, lc: lc}
	if c.length == 0 {
		c.ended = true
		lc.enter(phaseHandler)
		return true
	}
	limit := int64(n.rt.Load().cfg.Limits.MaxBodyBytes)
	size := min(http1Prefetch, limit+1)
	if c.length >= 0 {
		size = min(size, c.length)
	}
	if int64(cap(e.buf)) < size {
		e.buf = make([]byte, size)
	}
	k, _ := io.ReadFull(c, e.buf[:size])
	ctx := e.w.ctx
	switch {
	case c.err != nil:
		err := c.err
		putHTTP1(e)
		n.protocolError(ctx, err)
		return false
	case int64(k) > limit:
		// Chunked content past the limit within the prefetch; the rest is still coming.
		putHTTP1(e)
		n.protocolError(ctx, fasthttp.ErrBodyTooLarge)
		n.lingerAfter(ctx)
		return false
	case c.ended:
		x.bodyBytes, x.bodyLen = e.buf[:k], int64(k)
		if c.length < 0 && k == 0 {
			e.req.contentLength = 0 // an empty chunked body, as fasthttp read it whole
		}
		return true
	}
	c.pre = e.buf[:k]
	x.body = c
	x.limitBody(limit)
	return true
}

// finishHTTP1Content fixes the answer to a request whose content streamed, once the pipeline
// made it: content that outgrew a bound is answered 413, a client that stopped sending 408 (or
// 400 for a close or a broken chunk), in place of the origin failure that followed; and a
// connection whose content was not read to its end closes.
func (n *Node) finishHTTP1Content(e *http1Exchange) {
	x := &e.x
	if x.body == nil {
		return
	}
	c := &e.content
	var ne net.Error
	switch {
	case x.bodyTooLarge:
		n.metrics.rejected.WithLabelValues("body_too_large").Inc()
		x.resp.CloseBodyStream()
		x.resp.SetConnectionClose()
		plainError(x, http.StatusRequestEntityTooLarge, "request body too large")
		n.ownAnswerPolicy(x, true)
	case errors.As(c.err, &ne) && ne.Timeout():
		n.metrics.rejected.WithLabelValues("timeout").Inc()
		x.resp.CloseBodyStream()
		x.resp.SetConnectionClose()
		plainError(x, http.StatusRequestTimeout, "request timeout")
		n.ownAnswerPolicy(x, false)
	case c.err != nil:
		n.metrics.rejected.WithLabelValues("malformed").Inc()
		x.resp.CloseBodyStream()
		x.resp.SetConnectionClose()
		plainError(x, http.StatusBadRequest, "malformed request")
		n.ownAnswerPolicy(x, false)
	case !c.ended:
		x.resp.SetConnectionClose()
	}
}

// peerHeaderReceived is the peer port's HeaderReceived hook. The peer port reads content
// whole (forwarded requests carry none; purge messages are small JSON), and fasthttp sizes
// that read by the Content-Length before any byte arrives, before handlePeer checks the
// cluster secret: so content from a head without the secret is bounded to one byte (a
// larger Content-Length is refused from the head, holding nothing, with 403, as chunked
// content past it is: peerHeadError). Members are trusted with limits.max_body_bytes, as it
// was at the last reload (peerlisten.go).
//
// Chunked content is never read there: no member sends any (askPeer sends none, the purge
// fan-out a Content-Length), and fasthttp's chunked decoding is the lenient one the client
// port no longer uses ("5 ", "5;a b": http1chunked.go). Its head is marked (peerChunkedMarker)
// with no content to read, and handlePeer refuses it, 400 with the connection closed, so no
// byte after the head is read as anything.
func (n *Node) peerHeaderReceived(h *fasthttp.RequestHeader) fasthttp.RequestConfig {
	cl := h.ContentLength()
	if cl == -1 {
		h.SetContentLength(0)
		h.Set(peerChunkedMarker, "1")
		return fasthttp.RequestConfig{}
	}
	if cl != 0 && cl != -2 && !n.peerAuthorized(peekFold(h, peerSecretHeader)) {
		return fasthttp.RequestConfig{MaxRequestBodySize: 1}
	}
	return fasthttp.RequestConfig{}
}

// peerChunkedMarker is a field peerHeaderReceived adds to fasthttp's parsed fields of a peer
// head with chunked content; a member that sends it itself only has its own request refused.
const peerChunkedMarker = "Shoal-Peer-Chunked"
