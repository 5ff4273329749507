package edge

import (
	"bytes"
	"strings"
)

// originHead: every response head read from an origin or a peer is marked
// SetNoDefaultContentType before its fields are read. Otherwise fasthttp's All() yields
// "Content-Type: text/plain; charset=utf-8" for a response that had none, and the node would
// store and relay a media type the origin never claimed (RFC 9110 section 8.3: without one
// the recipient may sniff, or treat the content as application/octet-stream).

// connectionNamed lists the field names every Connection line of a head marks as hop-by-hop
// (RFC 9110 section 7.6.1): a client's request the node sends on (outgoing), or an answer it
// relays (copyEndToEnd). Names are matched without case: the listener and the
// origin client keep header names as the peer spelled them, so Peek("Connection") would miss
// "connection" and every line after the first.
func connectionNamed(h *fieldList) [][]byte {
	var out [][]byte
	for k, v := range h.All() {
		if bytes.EqualFold(k, []byte("Connection")) {
			out = append(out, connectionTokens(append([]byte(nil), v...))...)
		}
	}
	return out
}

// framingOrHopByHop reports the fields a response writer computes itself and never copies
// from a stored or relayed head: the hop-by-hop fields and Content-Length.
func framingOrHopByHop(name string) bool {
	if len(name) == len("Content-Length") && strings.EqualFold(name, "Content-Length") {
		return true
	}
	for _, h := range hopByHop {
		if len(h) == len(name) && strings.EqualFold(h, name) {
			return true
		}
	}
	return false
}
