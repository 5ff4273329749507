package edge

import (
	"bytes"

	"github.com/shoal-cdn/shoal/edge/coalesce"
	"github.com/valyala/fasthttp"
)

// interimFlag holds the interim writer of a request that did not arrive on a fasthttp
// listener (the HTTP/2 adapter): an interimWriter. Without it the request is HTTP/1.x on a
// fasthttp connection and interim responses go out on that connection.
const interimFlag = "shoal.interim"

// interimWriter sends one interim response to the client before the final one. links are
// the Link field values of a 103; it is called on the request's goroutine only.
type interimWriter func(status int, links [][]byte)

// earlyHints are the Link values of one 103 an origin sent, copied off the origin
// connection's buffers.
type earlyHints [][]byte

// hintsOf copies the Link fields of an origin's interim response when it is a 103 Early
// Hints (RFC 8297) worth relaying, or returns nil. Other 1xx are this hop's business: 100
// Continue answers the node's own Expect (the listener answered the client's), 102 is
// obsolete (RFC 9110 section 15.2).
func hintsOf(status int, h *fasthttp.ResponseHeader) earlyHints {
	if status != fasthttp.StatusEarlyHints {
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
func (n *Node) relayHints(ctx *fasthttp.RequestCtx, links earlyHints) {
	if len(links) == 0 {
		return
	}
	if w, ok := ctx.UserValue(interimFlag).(interimWriter); ok {
		w(fasthttp.StatusEarlyHints, links)
		return
	}
	// fasthttp writes the Link fields the response holds at the time of the call: set them
	// for it, then take them out of the final response, which carries its own.
	h := &ctx.Response.Header
	for _, l := range links {
		h.AddBytesV("Link", l)
	}
	if err := ctx.EarlyHints(); err != nil {
		n.log.Debug("early hints not sent", "err", err)
	}
	h.Del("Link")
}

// waitHead waits for a fill's head like call.Head, relaying the 103s its fetch receives
// meanwhile (hints is fed by the fill's OnInterim, see startFill).
func (n *Node) waitHead(ctx *fasthttp.RequestCtx, call *coalesce.Call, hints <-chan earlyHints) {
	for {
		select {
		case links := <-hints:
			n.relayHints(ctx, links)
		case <-call.HeadReady():
			for {
				select {
				case links := <-hints: // sent before the head: still interim
					n.relayHints(ctx, links)
				default:
					return
				}
			}
		}
	}
}
