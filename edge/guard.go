package edge

import (
	"strings"
	"time"
)

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

// hasLower reports whether b holds a lowercase ASCII letter.
func hasLower(b []byte) bool {
	for _, c := range b {
		if 'a' <= c && c <= 'z' {
			return true
		}
	}
	return false
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

// plainError writes a short text body that says what went wrong, on a head of its own
// (startOwnHead).
func plainError(x *exchange, status int, msg string) {
	startOwnHead(x, status)
	h := x.resp.Head()
	h.SetContentType("text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	x.resp.SetBody([]byte(msg + "\n"))
}

// startOwnHead resets x's response to a head of the node's own making: status and the node's
// Date, which RFC 9110 section 6.6.1 requires of a server that makes a response (the
// listeners' own Date is off: a cached response carries its origin's). A connection close
// already decided is kept: the reset would otherwise clear it.
func startOwnHead(x *exchange, status int) {
	closing := x.resp.ConnectionClose()
	x.resp.Reset()
	startHead(x.resp.Head(), status, "", time.Now())
	if closing {
		x.resp.SetConnectionClose()
	}
}
