package edge

import "github.com/valyala/fasthttp"

// expectContinue is the HTTP/1.1 listener's ExpectHandler. A request that announces content
// over limits.max_body_bytes (its Content-Length) is answered 413 at once instead of 100
// (Continue): the status is decided by the header fields alone, so the client is told before
// it sends a body that would only be refused (RFC 9110 section 10.1.1; nginx does the same).
// The answer is the one the body's read would have got (protocolError: the node's 413 with
// the route's error page and fields, counted), written here because fasthttp calls no
// handler after a refused expectation: it only sets the status, and closes the connection,
// as the client may have started sending anyway. Any other expectation of 100-continue gets
// its 100.
func (n *Node) expectContinue(limit int64) func(*fasthttp.RequestCtx) int {
	return func(ctx *fasthttp.RequestCtx) int {
		if cl := ctx.Request.Header.ContentLength(); cl > 0 && int64(cl) > limit {
			n.protocolError(ctx, fasthttp.ErrBodyTooLarge)
			return fasthttp.StatusRequestEntityTooLarge
		}
		return fasthttp.StatusContinue
	}
}
