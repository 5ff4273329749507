package edge

import (
	"bufio"
	"io"
	"net"
	"time"

	"github.com/valyala/fasthttp"
)

// Lingering close, as nginx's lingering_close: an answer that closes the connection before
// the request's content was read (a 400 for its framing, a 413 from its Content-Length, a
// refusal the pipeline made before reading, an origin's 4xx to a pass sent before the
// upload ended) was followed by close(2) with the client's
// content still arriving. The kernel answers that with a reset, and a reset discards what
// the node had not yet sent of its answer and, at many clients, what they had not yet read:
// the client saw "connection reset" instead of its 400 or 413 (curl uploading a file too
// large, a browser's form). Now the answer is written, the node's side of the connection is
// shut (a FIN, or TLS's close_notify), and what the client still sends is read and dropped
// until it closes, stops sending for lingerTimeout, or lingerTime has passed. Nothing read
// is parsed: no request after the refused one is ever served.
const (
	lingerTime    = 5 * time.Second // nginx's lingering_time is 30 s
	lingerTimeout = time.Second     // nginx's lingering_timeout is 5 s
)

// lingerAfter has fasthttp hand the connection over once the handler returns (a hijack),
// and writes ctx's answer on it, then lingers. write_timeout bounds the write; the answers
// this is for are the node's own, a few hundred bytes.
func (n *Node) lingerAfter(ctx *fasthttp.RequestCtx) {
	raw := ctx.Conn()
	wt := n.rt.Load().cfg.Limits.WriteTimeout.D()
	ctx.Response.SkipBody = ctx.Response.SkipBody || ctx.IsHead()
	// fasthttp would close at once after a Connection: close answer
	n.hijack(ctx, func(c net.Conn) {
		if wt > 0 {
			_ = c.SetWriteDeadline(time.Now().Add(wt))
		}
		bw := bufio.NewWriter(c)
		if ctx.Response.Write(bw) != nil || bw.Flush() != nil {
			return
		}
		lingerClose(raw, c)
	})
}

// lingerClose shuts down raw's sending side and reads r (raw, or what reads it) until the
// client is done sending, as the package comment says. The caller closes the connection.
func lingerClose(raw net.Conn, r io.Reader) {
	if cw, ok := raw.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite() // a FIN for TCP, close_notify for TLS
	}
	end := time.Now().Add(lingerTime)
	var buf [4 << 10]byte
	for {
		now := time.Now()
		if !now.Before(end) {
			return
		}
		d := now.Add(lingerTimeout)
		if d.After(end) {
			d = end
		}
		if raw.SetReadDeadline(d) != nil {
			return
		}
		if _, err := r.Read(buf[:]); err != nil {
			return
		}
	}
}
