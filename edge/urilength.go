package edge

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/valyala/fasthttp"
)

// A head over limits.max_header_bytes is 414 (URI Too Long, RFC 9110 section 15.5.15) when
// its request line alone did not fit, as nginx answers a request line longer than its
// buffer, and 431 when the fields did not (RFC 6585 section 5). fasthttp says neither: its
// ErrSmallBuffer comes once its read buffer (limits.max_header_bytes bytes) is full without
// the head's end, and it has emptied the request's head by then. What it had read is gone,
// but what it had not read is still on the connection, which is closed after the answer
// anyway: the line that ends first after the limit is the request line, ending in
// " HTTP/1.x", when the request line overflowed, and the tail of a field line when the fields
// did. So only the refusal reads on (requestLineOverflowed); the normal path pays nothing.
// Where nothing of " HTTP/1.x" is past the limit (a request line over it by its CR LF or its
// LF alone), what follows says nothing about that line, and the answer stays 431.

const (
	// lineEndScanBytes bounds what is read past the limit for the line's end: a request line
	// longer than the limit and this is answered 431, its end unseen.
	lineEndScanBytes = 1 << 20
	// lineEndScanWait bounds the wait for those bytes: a client that sent the whole request
	// (as clients do before they read the answer) has them in flight already.
	lineEndScanWait = 250 * time.Millisecond
)

// headError is the HTTP/1.1 listener's ErrorHandler: protocolError, except for a head whose
// request line alone was over limits.max_header_bytes (414).
func (n *Node) headError(ctx *fasthttp.RequestCtx, err error) {
	var small *fasthttp.ErrSmallBuffer
	if errors.As(err, &small) && requestLineOverflowed(ctx.Conn()) {
		n.uriTooLong(ctx)
		return
	}
	n.protocolError(ctx, err)
}

// uriTooLong answers 414 as protocolError answers 431: counted, with the error page of its
// status, the connection closed. No route's fields: the target was never read whole.
func (n *Node) uriTooLong(ctx *fasthttp.RequestCtx) {
	defer n.liveOf(ctx.Conn()).enter(phaseWrite)
	e := n.getHTTP1(ctx)
	defer putHTTP1(e)
	x := &e.x
	defer n.recordRejected(x, new(bool)) // once answered, before putHTTP1
	x.resp.SetConnectionClose()
	n.metrics.rejected.WithLabelValues("uri_too_long").Inc()
	plainError(x, http.StatusRequestURITooLong, "URI too long")
	n.ownAnswerPolicy(x, false)
}

// requestLineOverflowed reads c, whose head overflowed the read buffer, up to the end of the
// line the limit cut (at most lineEndScanBytes, for lineEndScanWait), and reports whether that
// line ends the way a request line does. A field value that ends in " HTTP/1.1" reads as a
// request line: the client that sends one gets 414 for its oversized head instead of 431.
func requestLineOverflowed(c net.Conn) bool {
	if c == nil {
		return false
	}
	c.SetReadDeadline(time.Now().Add(lineEndScanWait))
	return lineEndsRequestLine(c, lineEndScanBytes)
}

// lineEndsRequestLine reads r up to its first LF (at most max bytes) and reports whether
// what comes before it (one CR dropped) ends in " HTTP/d.d". When the LF comes before all of
// that suffix was read, the part read must end it (it began before the limit): at least one
// byte of it, as a bare CR LF after the limit says nothing about its line.
func lineEndsRequestLine(r io.Reader, max int) bool {
	var buf [4096]byte
	var tail []byte // the last bytes read: versionSuffix and a CR
	for read := 0; read < max; {
		k, err := r.Read(buf[:min(len(buf), max-read)])
		read += k
		if i := bytes.IndexByte(buf[:k], '\n'); i >= 0 {
			line := append(tail, buf[:i]...)
			return endsVersion(bytes.TrimSuffix(line, []byte("\r")))
		}
		tail = lastN(append(tail, lastN(buf[:k], len(versionSuffix)+1)...), len(versionSuffix)+1)
		if err != nil {
			return false
		}
	}
	return false
}

// versionSuffix is what ends a request line (RFC 9112 section 3): " HTTP/" DIGIT "." DIGIT;
// '#' stands for a digit.
const versionSuffix = " HTTP/#.#"

// endsVersion reports whether b ends in versionSuffix, or, shorter than it, is the end of it.
func endsVersion(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	if len(b) > len(versionSuffix) {
		b = b[len(b)-len(versionSuffix):]
	}
	want := versionSuffix[len(versionSuffix)-len(b):]
	for i := range b {
		if want[i] == '#' {
			if b[i] < '0' || b[i] > '9' {
				return false
			}
		} else if b[i] != want[i] {
			return false
		}
	}
	return true
}

func lastN(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
