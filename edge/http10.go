package edge

import (
	"bytes"
	"io"

	"github.com/valyala/fasthttp"
)

// maxHTTP10Body bounds the body the node holds to give an HTTP/1.0 client a Content-Length.
const maxHTTP10Body = 64 << 20

// frameForHTTP10 gives an HTTP/1.0 client a response it can delimit. A streamed body of
// unknown length goes out chunked, which an HTTP/1.0 client cannot decode (RFC 9112 section
// 6.1: a server MUST NOT send Transfer-Encoding to one); fasthttp has no close-delimited
// stream. So the body is read here and sent with its Content-Length. A body the origin cut
// short becomes a 502, where chunked framing would have shown the cut and close-delimited
// framing would have hidden it; a body above maxHTTP10Body is a 502 too.
func (n *Node) frameForHTTP10(ctx *fasthttp.RequestCtx) {
	resp := &ctx.Response
	if !resp.IsBodyStream() || resp.Header.ContentLength() >= 0 || ctx.IsHead() ||
		!bytes.Equal(ctx.Request.Header.Protocol(), []byte("HTTP/1.0")) {
		return
	}
	body, err := io.ReadAll(io.LimitReader(resp.BodyStream(), maxHTTP10Body+1))
	switch {
	case err != nil:
		n.log.Warn("origin body cut short for an HTTP/1.0 client", "uri", string(ctx.Request.Header.RequestURI()), "err", err)
		ctx.SetConnectionClose()
		plainError(ctx, fasthttp.StatusBadGateway, "bad gateway: the origin's response was cut short")
	case len(body) > maxHTTP10Body:
		ctx.SetConnectionClose()
		plainError(ctx, fasthttp.StatusBadGateway, "bad gateway: response of unknown length too large for an HTTP/1.0 client")
	default:
		resp.SetBodyRaw(body) // closes the drained stream; Content-Length is written from it
	}
}
