package edge

import (
	"net/http"
)

// processingLine is the interim answer an owner sends on the peer hop (RFC 2518 section
// 10.1, 102 Processing): the request arrived and waits for the origin or a peer.
const processingLine = "HTTP/1.1 102 Processing\r\n\r\n"

// processing tells the node that forwarded x that this owner has the request and is about
// to wait for its origin (a fill, a ranged pass) or for a peer (an adoption probe): once per
// request, on the peer hop only. The forwarder bounds a forward by cluster.forward_timeout
// until the owner's first byte (forwardWith); without this answer an origin slower than that
// would pass for a stuck owner, and the forwarder would fetch the object a second time. The
// forwarder reads it as any interim answer and relays only 103s (hintsOf), so the client
// never sees it.
func (p *pipeline) processing(x *exchange) {
	if !x.forwarded || x.processing {
		return
	}
	x.processing = true
	r, ok := x.resp.(*http1Response)
	if !ok || r.ctx == nil {
		return
	}
	// Nothing of this response is written yet (fasthttp writes it after the handler, and a
	// 103 is flushed whole), so the line goes first on the connection. write_timeout bounds
	// it, as it bounds a 103 (http1Response.Interim).
	var lc *liveConn
	if r.n != nil {
		lc = r.n.liveOf(r.ctx.Conn())
	}
	lc.enter(phaseWrite)
	if _, err := r.ctx.Conn().Write([]byte(processingLine)); err != nil {
		p.log.Debug("102 Processing not sent", "status", http.StatusProcessing, "err", err)
	}
	lc.enter(phaseHandler)
}
