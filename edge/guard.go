package edge

import (
	"bytes"
	"errors"
	"net"
	"strings"

	"github.com/valyala/fasthttp"
)

// framingProblem inspects the request head as it arrived on the wire for the shapes that let
// a front end and an origin disagree about where a request ends (request smuggling). Such a
// request is refused and its connection closed: nothing of it reaches an origin.
func framingProblem(raw []byte) string {
	var contentLength []byte
	haveCL, haveTE := false, false
	for len(raw) > 0 {
		line := raw
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			line, raw = raw[:i], raw[i+1:]
		} else {
			raw = nil
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) == 0 {
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			return "obsolete line folding in a header field"
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			return "malformed header line"
		}
		name := line[:colon]
		if bytes.ContainsAny(name, " \t") {
			return "whitespace in a header field name"
		}
		if !validToken(name) {
			return "invalid character in a header field name"
		}
		if badFieldValue(line[colon+1:]) {
			// RFC 9110 section 5.5: CR, LF and NUL in a value must be refused; other
			// controls would be forwarded to origins that may split on them.
			return "control character in a header field value"
		}
		value := bytes.TrimSpace(line[colon+1:])
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if haveCL && !bytes.Equal(value, contentLength) {
				return "two different Content-Length values"
			}
			if len(value) == 0 || len(bytes.Trim(value, "0123456789")) > 0 {
				return "invalid Content-Length"
			}
			haveCL, contentLength = true, value
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			if haveTE {
				return "Transfer-Encoding sent twice"
			}
			haveTE = true
			if !bytes.EqualFold(value, []byte("chunked")) {
				return "unsupported Transfer-Encoding"
			}
		}
	}
	if haveCL && haveTE {
		return "both Content-Length and Transfer-Encoding"
	}
	return ""
}

// dropTrailerFields discards the trailer section of a chunked request body, which RFC 9112
// section 7.1.2 lets a recipient do. fasthttp merges it into the header section, which RFC
// 9110 section 6.5.1 forbids: fields framingProblem never saw reached the origin as header
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

// delimiters are the characters RFC 9110 section 5.6.2 excludes from tokens.
const delimiters = "\"(),/:;<=>?@[\\]{}"

// validToken reports a token (RFC 9110 section 5.6.2): a field name or a method.
func validToken(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c <= ' ' || c >= 0x7f || strings.IndexByte(delimiters, c) >= 0 {
			return false
		}
	}
	return true
}

// badFieldValue reports a control character other than HTAB in a field value.
func badFieldValue(v []byte) bool {
	for _, c := range v {
		if c < ' ' && c != '\t' || c == 0x7f {
			return true
		}
	}
	return false
}

// protocolError answers requests fasthttp could not parse: too-large heads get 431, slow
// clients 408, anything else 400. The connection is closed.
func (n *Node) protocolError(ctx *fasthttp.RequestCtx, err error) {
	ctx.SetConnectionClose()
	var small *fasthttp.ErrSmallBuffer
	var ne net.Error
	switch {
	case errors.As(err, &small):
		n.metrics.rejected.WithLabelValues("header_too_large").Inc()
		plainError(ctx, fasthttp.StatusRequestHeaderFieldsTooLarge, "request header fields too large")
	case errors.As(err, &ne) && ne.Timeout():
		n.metrics.rejected.WithLabelValues("timeout").Inc()
		plainError(ctx, fasthttp.StatusRequestTimeout, "request timeout")
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		n.metrics.rejected.WithLabelValues("body_too_large").Inc()
		plainError(ctx, fasthttp.StatusRequestEntityTooLarge, "request body too large")
		// The head was read whole: the answer is the route's, as a route's own
		// max_body_bytes answer is (error page and response fields).
		n.ownAnswerPolicy(ctx, true)
		return
	default:
		n.metrics.rejected.WithLabelValues("malformed").Inc()
		plainError(ctx, fasthttp.StatusBadRequest, "malformed request")
	}
	n.ownAnswerPolicy(ctx, false)
}

// refuse answers a request the node will not serve because of how the client framed or
// addressed it, and closes the connection (RFC 9112 sections 6.1 and 11.2): after a head the
// node could not trust, nothing that follows on the connection may be read as a request.
// Such a request never reaches an origin, so it never counts against an origin's health.
func (n *Node) refuse(ctx *fasthttp.RequestCtx, status int, reason, msg string) {
	n.metrics.rejected.WithLabelValues(reason).Inc()
	plainError(ctx, status, msg)
	ctx.SetConnectionClose()
}

// plainError writes a short text body that says what went wrong. It keeps a connection
// close already decided: the reset of the response would otherwise clear it.
func plainError(ctx *fasthttp.RequestCtx, status int, msg string) {
	closing := ctx.Response.ConnectionClose()
	ctx.Response.Reset()
	if closing {
		ctx.SetConnectionClose()
	}
	ctx.SetStatusCode(status)
	ctx.SetContentType("text/plain; charset=utf-8")
	ctx.Response.Header.Set("Cache-Control", "no-store")
	ctx.SetBodyString(msg + "\n")
}
