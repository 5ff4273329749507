package origin

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strconv"
	"sync"

	"github.com/valyala/fasthttp"
)

// RequestHead is a request head that renders itself, so that Pool.Send writes it once,
// straight into the connection's write buffer, instead of copying it into a
// fasthttp.Request first (the edge keeps its outgoing heads in a list of its own).
type RequestHead interface {
	// AppendHead appends the request line and the header fields to dst and returns it, each
	// line ended by CRLF, without the empty line that ends the head and without framing
	// fields (Content-Length, Transfer-Encoding: Send writes those from the content, RFC 9112
	// section 6). With host not empty, the Host field says host instead of the client's (the
	// pool's host rewrite). No Connection field either: the connection is the pool's, kept
	// alive unless the server says otherwise. It must not retain dst.
	AppendHead(dst []byte, host string) []byte
	// Method is the request method, as on the request line (HEAD asks for no content).
	Method() []byte
}

// Request is what Pool.Send sends: a head and its content, as a stream of BodyLen bytes
// (-1: unknown, sent chunked, RFC 9112 section 7.1) or whole bytes; neither for none. Send
// reads Body but never closes it.
type Request struct {
	Head      RequestHead
	Body      io.Reader
	BodyLen   int64
	BodyBytes []byte
	// Hold, if not nil, is where Send keeps the response's body stream and connection (see
	// Hold); nil allocates them.
	Hold *Hold

	host string // the pool's host rewrite, set by Send
}

// outbound is a request as roundTrip writes it: the edge's Request, or a fasthttp.Request
// (Do, RoundTrip, the health checks' shape).
type outbound interface {
	// prepare readies the request for a server (its scheme; TLS or not) and the pool's host
	// rewrite ("" for none), before each attempt.
	prepare(tls bool, host string)
	write(bw *bufio.Writer) error
	streamed() bool // the content is a stream, which cannot be sent twice
	closes() bool   // the request asks the server to close the connection
	isHead() bool
	hold() *Hold // the caller's storage for the answer's body stream, or nil
}

func (r *Request) prepare(_ bool, host string) { r.host = host }
func (r *Request) streamed() bool              { return r.Body != nil }
func (r *Request) closes() bool                { return false } // the edge sends no hop-by-hop fields
func (r *Request) isHead() bool                { return string(r.Head.Method()) == "HEAD" }
func (r *Request) hold() *Hold                 { return r.Hold }

// write writes the head and the content as fasthttp's Request.Write did for the edge's
// heads: the framing field last, Content-Length for known content and for any method but
// GET and HEAD (so an empty POST says 0), chunked for a stream of unknown length.
func (r *Request) write(bw *bufio.Writer) error {
	buf := r.Head.AppendHead(bw.AvailableBuffer(), r.host)
	method := r.Head.Method()
	switch {
	case r.Body != nil && r.BodyLen >= 0:
		buf = append(buf, "Content-Length: "...)
		buf = strconv.AppendInt(buf, r.BodyLen, 10)
		buf = append(buf, "\r\n"...)
	case r.Body != nil:
		buf = append(buf, "Transfer-Encoding: chunked\r\n"...)
	case len(r.BodyBytes) > 0 || (string(method) != "GET" && string(method) != "HEAD"):
		buf = append(buf, "Content-Length: "...)
		buf = strconv.AppendInt(buf, int64(len(r.BodyBytes)), 10)
		buf = append(buf, "\r\n"...)
	}
	buf = append(buf, "\r\n"...)
	if _, err := bw.Write(buf); err != nil {
		return err
	}
	switch {
	case r.Body != nil && r.BodyLen >= 0:
		n, err := io.Copy(bw, &io.LimitedReader{R: r.Body, N: r.BodyLen})
		if err == nil && n != r.BodyLen {
			err = fmt.Errorf("request body ended after %d of its %d bytes: %w", n, r.BodyLen, io.ErrUnexpectedEOF)
		}
		return err
	case r.Body != nil:
		return writeChunked(bw, r.Body)
	default:
		_, err := bw.Write(r.BodyBytes)
		return err
	}
}

var chunkBufs = sync.Pool{New: func() any { b := make([]byte, 16<<10); return &b }}

// writeChunked sends a stream as chunks (RFC 9112 section 7.1), one per read, and the last
// chunk with an empty trailer section.
func writeChunked(bw *bufio.Writer, body io.Reader) error {
	bp := chunkBufs.Get().(*[]byte)
	defer chunkBufs.Put(bp)
	buf := *bp
	for {
		n, err := body.Read(buf)
		if n > 0 {
			var size [16]byte
			if _, werr := bw.Write(append(strconv.AppendInt(size[:0], int64(n), 16), "\r\n"...)); werr != nil {
				return werr
			}
			if _, werr := bw.Write(buf[:n]); werr != nil {
				return werr
			}
			if _, werr := bw.WriteString("\r\n"); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			_, err = bw.WriteString("0\r\n\r\n")
			return err
		}
		if err != nil {
			return err
		}
	}
}

// AppendField appends one header field line, name: value CRLF, with every CR and LF in name
// and value made a space (as fasthttp does when a field is set): a value from configuration
// or another hop can never end the line and start a field of its own.
func AppendField(dst, name, value []byte) []byte {
	start := len(dst)
	dst = append(dst, name...)
	dst = append(dst, ": "...)
	dst = append(dst, value...)
	neutraliseNewLines(dst[start:])
	return append(dst, "\r\n"...)
}

func neutraliseNewLines(b []byte) {
	for _, c := range []byte{'\r', '\n'} {
		for i := bytes.IndexByte(b, c); i >= 0; {
			b[i] = ' '
			j := bytes.IndexByte(b[i+1:], c)
			if j < 0 {
				break
			}
			i += 1 + j
		}
	}
}

// fastRequest is a fasthttp.Request as roundTrip writes it.
type fastRequest struct{ *fasthttp.Request }

func (r fastRequest) prepare(tls bool, host string) {
	if host != "" {
		// fasthttp writes the URI's host as Host once the URI is parsed: set both. Set, not
		// SetHost: a head written without special headers keeps Host as a field.
		r.Header.Set(fasthttp.HeaderHost, host)
		r.URI().SetHost(host)
	}
	if tls {
		r.URI().SetScheme("https")
	} else {
		r.URI().SetScheme("http")
	}
	// Parsed, the URI is what fasthttp writes the request-target from: its path as sent. It
	// still drops the "?" of an empty query; the edge sends none through Do (its origin
	// requests go through Send, its peer requests through RoundTrip).
	r.URI().DisablePathNormalizing = true
}

// write sends the request. A URI nothing parsed (RoundTrip, the peer hop) leaves fasthttp
// the request-target as set, byte for byte. Parsed here, only to keep its path as sent, it
// lost the "?" of an empty query: "/a?", keyed apart from "/a" (RFC 3986 section 6.2.3),
// reached the owner as "/a", which filled and answered the other object.
func (r fastRequest) write(bw *bufio.Writer) error { return r.Write(bw) }

func (r fastRequest) streamed() bool { return r.IsBodyStream() }
func (r fastRequest) closes() bool   { return r.ConnectionClose() }
func (r fastRequest) isHead() bool   { return r.Header.IsHead() }
func (r fastRequest) hold() *Hold    { return nil }
