package edge

import (
	"net/http"
)

// earlyHints are the Link values of one 103 an origin sent, copied off the origin
// connection's buffers.
type earlyHints [][]byte

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
			p.relayQueued(x, hints) // sent before the head: still interim
			return
		}
	}
}

// relayQueued relays the 103s waiting in hints, without waiting for more.
func (p *pipeline) relayQueued(x *exchange, hints <-chan earlyHints) {
	for {
		select {
		case links := <-hints:
			p.relayHints(x, links)
		default:
			return
		}
	}
}
