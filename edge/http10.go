package edge

import (
	"bytes"
	"io"
	"net"
	"time"

	"github.com/valyala/fasthttp"
)

// http10Hold bounds the body the node holds to give an HTTP/1.0 client a Content-Length; a
// larger one is streamed close-delimited. The bound keeps the memory an HTTP/1.0 request can
// pin small.
const http10Hold = 256 << 10

// frameForHTTP10 gives an HTTP/1.0 client a response it can delimit. A streamed body of
// unknown length would go out chunked, which an HTTP/1.0 client cannot decode (RFC 9112
// section 6.1: a server MUST NOT send Transfer-Encoding to one). Up to http10Hold the body is
// read here and sent with its Content-Length, and a body the origin cut short becomes a 502.
// A larger body is streamed delimited by closing the connection (RFC 9112 section 6.3 item
// 8) over the hijacked connection, since fasthttp streams only chunked; a cut after that
// point cannot be shown to an HTTP/1.0 client, whose framing has no way to say it.
func (p *pipeline) frameForHTTP10(ctx *fasthttp.RequestCtx, x *exchange) {
	resp := &ctx.Response
	if !resp.IsBodyStream() || resp.Header.ContentLength() >= 0 || ctx.IsHead() ||
		!bytes.Equal(ctx.Request.Header.Protocol(), []byte("HTTP/1.0")) {
		return
	}
	stream := resp.BodyStream()
	held, err := io.ReadAll(io.LimitReader(stream, http10Hold+1))
	switch {
	case err != nil:
		p.log.Warn("origin body cut short for an HTTP/1.0 client", "uri", string(ctx.Request.Header.RequestURI()), "err", err)
		ctx.SetConnectionClose()
		plainError(x, fasthttp.StatusBadGateway, "bad gateway: the origin's response was cut short")
	case len(held) <= http10Hold:
		resp.SetBodyRaw(held) // closes the drained stream; Content-Length is written from it
	default:
		head := closeDelimitedHead(resp.Header.Header())
		timeout := p.rt.Load().cfg.Limits.WriteTimeout.D()
		p.hijack(ctx, func(c net.Conn) {
			// ctx and its response live until this returns; the connection is closed after.
			defer resp.CloseBodyStream()
			w := deadlineWriter{c: c, timeout: timeout}
			if _, err := w.Write(append(head, held...)); err != nil {
				return
			}
			_, _ = io.CopyBuffer(w, stream, make([]byte, 32<<10))
		})
	}
}

// closeDelimitedHead rewrites a response head without its framing fields and with
// Connection: close.
func closeDelimitedHead(h []byte) []byte {
	out := make([]byte, 0, len(h)+32)
	for len(h) > 0 {
		line := h
		if i := bytes.Index(h, []byte("\r\n")); i >= 0 {
			line, h = h[:i+2], h[i+2:]
		} else {
			h = nil
		}
		name, _, _ := bytes.Cut(line, []byte(":"))
		if bytes.EqualFold(name, []byte("Transfer-Encoding")) || bytes.EqualFold(name, []byte("Content-Length")) ||
			bytes.EqualFold(name, []byte("Connection")) {
			continue
		}
		if bytes.Equal(line, []byte("\r\n")) {
			out = append(out, "Connection: close\r\n"...)
		}
		out = append(out, line...)
	}
	return out
}

// deadlineWriter bounds every write by timeout (limits.write_timeout): a hijacked connection
// has no deadline of its own.
type deadlineWriter struct {
	c       net.Conn
	timeout time.Duration
}

func (w deadlineWriter) Write(p []byte) (int, error) {
	if w.timeout > 0 {
		_ = w.c.SetWriteDeadline(time.Now().Add(w.timeout))
	}
	return w.c.Write(p)
}
