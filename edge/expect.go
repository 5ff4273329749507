package edge

import (
	"bytes"

	"github.com/valyala/fasthttp"
)

// expectContinue is the HTTP/1.1 listener's ExpectHandler. A request that announces content
// over the limit it would be held to (its Content-Length over limits.max_body_bytes, or over
// the max_body_bytes of the route it matches) is answered 413 at once instead of 100
// (Continue): the status is decided by the header fields alone, so the client is told before
// it sends a body that would only be refused (RFC 9110 section 10.1.1; nginx does the same).
// The answer is the one the body's read would have got (protocolError: the node's 413 with
// the route's error page and fields, counted), written here because fasthttp calls no
// handler after a refused expectation: it only sets the status, and closes the connection,
// as the client may have started sending anyway. Any other expectation of 100-continue gets
// its 100, and so does content of unknown length (chunked): only its read can tell.
//
// fasthttp calls this only for an HTTP/1.1 request with Expect: 100-continue (an HTTP/1.0
// client's expectation is ignored, RFC 9110 section 10.1.1), so a request without one pays
// nothing, and the route is matched here only when some route's limit is below the length.
func (n *Node) expectContinue(limit int64) func(*fasthttp.RequestCtx) int {
	return func(ctx *fasthttp.RequestCtx) int {
		cl := int64(ctx.Request.Header.ContentLength())
		if cl > limit || (cl > 0 && n.routeRefusesLength(ctx, cl)) {
			n.protocolError(ctx, fasthttp.ErrBodyTooLarge)
			return fasthttp.StatusRequestEntityTooLarge
		}
		return fasthttp.StatusContinue
	}
}

// routeRefusesLength reports a request whose route's max_body_bytes is below cl, the
// Content-Length it announced: the 413 requestPolicy would answer once the body was read.
// The target is parsed as handle parses it (a target handle refuses has no route, and its
// refusal is not a 413). It allocates nothing: the exchange and the scratch are pooled.
func (n *Node) routeRefusesLength(ctx *fasthttp.RequestCtx, cl int64) bool {
	rt := n.rt.Load()
	if rt == nil || !anyRouteLimitBelow(rt, cl) {
		return false
	}
	e := n.getHTTP1(ctx)
	defer putHTTP1(e)
	x := &e.x
	if x.problem != "" {
		return false // handle refuses it 400 or 505 before any route
	}
	sc := getScratch()
	defer putScratch(sc)
	hdr := x.req
	t, bad := parseTargetIn(sc, x.scheme(), hdr.RequestURI(), x.host, x.hosts, !bytes.Equal(hdr.Protocol(), []byte("HTTP/1.0")))
	if bad != nil {
		return false
	}
	rules := rt.rulesFor(rt.match(hdr.Method(), t.name, t.path))
	return rules != nil && rules.MaxBodyBytes > 0 && cl > rules.MaxBodyBytes
}

// anyRouteLimitBelow reports whether some route's max_body_bytes is below cl, so that a
// request under every route's limit (most uploads) is not routed twice.
func anyRouteLimitBelow(rt *settings, cl int64) bool {
	for _, r := range rt.rules {
		if r != nil && r.MaxBodyBytes > 0 && r.MaxBodyBytes < cl {
			return true
		}
	}
	return false
}
