package edge

import (
	"bufio"
	"errors"
	"io"

	"github.com/shoal-cdn/shoal/origin"
	"github.com/valyala/fasthttp"
)

// Chunked request content on the HTTP/1.1 listeners is decoded by the node, with the origin
// client's reader (origin.NewChunkedReader, held to RFC 9112 section 7.1.1), not by fasthttp:
// fasthttp took "5 \r\n" (whitespace after the size) and "5;a b\r\n" (an extension that is
// no token) for a chunk of 5, which nginx and HAProxy refuse, so a front proxy that reads the
// line another way frames the stream differently (request smuggling). Such content gets 400
// with the connection closed, before the pipeline runs when it ends within the prefetch
// (http1Prefetch): nothing of the request reaches an origin.
//
// fasthttp is told the content is identity of rawChunkedLength bytes (headerReceived), so
// its request stream hands over the bytes as they came, chunk lines and all. It then cannot
// know where the content ends: the connection closes after the answer (fasthttp closes one
// whose declared content was not read whole), and the bytes the node's reader took past the
// content's end are never read as a request.
//
// fasthttp (v1.78) offers no way to keep the connection after content the strict reader
// consumed exactly. Its request stream takes the framing when it is made (bodyOverflows and
// discard decide the close from that Content-Length, "so a handler mutating the request
// header cannot change the answer"), and nothing exported ends it early. Its own chunked
// framing (Content-Length -1) decodes with its lenient parseChunkSize and hands the handler
// data only, so the lines cannot be checked. ContinueReadBody and ContinueReadBodyStream
// take the connection's reader, which a handler never sees. Hijack hands that reader over
// only after the answer, and the connection then leaves the server for good: serving it
// again would take Server.ServeConn over a wrapper, which hides the *net.TCPConn that
// writev, sendfile and the cork look for. So keep-alive is given up after a chunked request,
// and the strictness kept.

// rawChunkedLength is the Content-Length fasthttp is given for chunked content the node
// decodes: more than any limits.max_body_bytes, so no client's Content-Length is taken for it
// (headerReceived has set one above the limit to 0 by then).
const rawChunkedLength = 1 << 62

// chunkedMarker is a field headerReceived adds to fasthttp's parsed fields (never to the raw
// head the request view is read from) of a head whose chunked content the node decodes.
const chunkedMarker = "Shoal-Chunked-Content"

// decodeChunkedHere has the node decode h's chunked content (see above): fasthttp reads one
// byte of it before the handler (maxBody in its RequestConfig), the least it reads of content
// of a declared length, and chunked content is at least 5 bytes ("0" CRLF CRLF).
func decodeChunkedHere(h *fasthttp.RequestHeader) (maxBody int, ok bool) {
	if h.ContentLength() != -1 {
		return 0, false
	}
	h.SetContentLength(rawChunkedLength)
	h.Set(chunkedMarker, "1")
	return 1, true
}

// chunkedHere reports a head whose chunked content the node decodes.
func chunkedHere(h *fasthttp.RequestHeader) bool {
	return h.ContentLength() == rawChunkedLength && h.Peek(chunkedMarker) != nil
}

// requestContentLength is h's Content-Length as the client framed the content: -1 for
// chunked, -2 for none.
func requestContentLength(h *fasthttp.RequestHeader) int {
	if chunkedHere(h) {
		return -1
	}
	return h.ContentLength()
}

// chunkedContent is the decoded content of e's request, whose raw bytes s gives. The reader's
// buffer is the exchange's, kept for its next chunked request.
func (e *http1Exchange) chunkedContent(s io.Reader) io.Reader {
	if e.chunkBR == nil {
		e.chunkBR = bufio.NewReader(s)
	} else {
		e.chunkBR.Reset(s)
	}
	return origin.NewChunkedReader(e.chunkBR, requestTrailerLine)
}

var (
	errTrailerLine    = errors.New("malformed line in the trailer section")
	errTrailerFraming = errors.New("Content-Length or Transfer-Encoding in the trailer section")
)

// requestTrailerLine checks a line of a chunked request's trailer section, which is then
// dropped (RFC 9112 section 7.1.2): one the head's walk would refuse (a bare LF, obs-fold, a
// bad name, a control character) or a framing field (RFC 9110 section 6.5.1 forbids them
// there; fasthttp refused them too) gets 400, as a front proxy that merged the trailer into
// the head would frame the stream by it.
func requestTrailerLine(line []byte) error {
	text, bareLF := nextLineEnd(&line)
	if bareLF {
		return errTrailerLine
	}
	var g framingGuard
	name, _, _, problem := g.line(text)
	switch {
	case problem != "":
		return errTrailerLine
	case framingField(name):
		return errTrailerFraming
	}
	return nil
}
