package edge

import (
	"bytes"
	"strings"
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
		if bytes.IndexByte(name, ' ') >= 0 || bytes.IndexByte(name, '\t') >= 0 {
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
		value := trimOWS(line[colon+1:])
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

// delimiters are the characters RFC 9110 section 5.6.2 excludes from tokens.
const delimiters = "\"(),/:;<=>?@[\\]{}"

// validToken reports a token (RFC 9110 section 5.6.2): a field name or a method.
func validToken(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if !tokenChars[c] {
			return false
		}
	}
	return true
}

// tokenChars marks the bytes a token may hold: visible ASCII but the delimiters (a table:
// a search of delimiters per byte was a tenth of a 1 KiB hit's pipeline).
var tokenChars = func() (t [256]bool) {
	for c := '!'; c < 0x7f; c++ {
		t[c] = !strings.ContainsRune(delimiters, c)
	}
	return t
}()

// badFieldValue reports a control character other than HTAB in a field value.
func badFieldValue(v []byte) bool {
	for _, c := range v {
		if c < ' ' && c != '\t' || c == 0x7f {
			return true
		}
	}
	return false
}

// refuse answers a request the node will not serve because of how the client framed or
// addressed it, and closes the connection (RFC 9112 sections 6.1 and 11.2): after a head the
// node could not trust, nothing that follows on the connection may be read as a request.
// Such a request never reaches an origin, so it never counts against an origin's health.
func (p *pipeline) refuse(x *exchange, status int, reason, msg string) {
	p.metrics.rejected.WithLabelValues(reason).Inc()
	plainError(x, status, msg)
	x.resp.SetConnectionClose()
}

// plainError writes a short text body that says what went wrong. It keeps a connection
// close already decided: the reset of the response would otherwise clear it.
func plainError(x *exchange, status int, msg string) {
	closing := x.resp.ConnectionClose()
	x.resp.Reset()
	if closing {
		x.resp.SetConnectionClose()
	}
	h := x.resp.Head()
	h.SetStatusCode(status)
	h.SetContentType("text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	x.resp.SetBody([]byte(msg + "\n"))
}
