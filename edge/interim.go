package edge

import (
	"bytes"
	"net/http"
)

// earlyHints are the Link values of one 103 an origin sent, copied off the origin
// connection's buffers.
type earlyHints [][]byte

// hintsOf copies the Link fields of an origin's interim response when it is a 103 Early
// Hints (RFC 8297) worth relaying, or returns nil. Other 1xx are this hop's business: 100
// Continue answers the node's own Expect (the listener answered the client's), 102 is
// obsolete (RFC 9110 section 15.2).
func hintsOf(status int, h responseHead) earlyHints {
	if status != http.StatusEarlyHints {
		return nil
	}
	var links earlyHints
	for k, v := range h.All() {
		if bytes.EqualFold(k, []byte("Link")) && len(v) > 0 {
			links = append(links, append([]byte(nil), v...))
		}
	}
	return links
}

// relayHints sends a 103 with links to the client as an interim response (RFC 9110 section
// 15.2: a proxy forwards 1xx unless it asked for them itself). A peer that forwarded the
// request gets them too, on the peer connection, and relays them to its own client (see
// forwardWith). It must run on the request's goroutine, before the final response is written.
func (p *pipeline) relayHints(x *exchange, links earlyHints) {
	if len(links) == 0 {
		return
	}
	x.resp.Interim(http.StatusEarlyHints, links)
}

// waitHead waits for a fill's head like call.Head, relaying the 103s its fetch receives
// meanwhile (hints is fed by the fill's OnInterim, see startFill).
func (p *pipeline) waitHead(x *exchange, call *fillCall, hints <-chan earlyHints) {
	for {
		select {
		case links := <-hints:
			p.relayHints(x, links)
		case <-call.HeadReady():
			for {
				select {
				case links := <-hints: // sent before the head: still interim
					p.relayHints(x, links)
				default:
					return
				}
			}
		}
	}
}
