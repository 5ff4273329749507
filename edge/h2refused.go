package edge

import (
	"net/http"
	"slices"

	"github.com/shoal-cdn/shoal/edge/h2"
)

// refusedMessages are the error pages' text of the answers edge/h2 makes before the
// pipeline sees a request, as the HTTP/1.1 listener words them (protocolError, uriTooLong).
var refusedMessages = map[int]string{
	http.StatusRequestEntityTooLarge:       "request body too large",
	http.StatusRequestURITooLong:           "URI too long",
	http.StatusRequestHeaderFieldsTooLarge: "request header fields too large",
}

// refused is edge/h2's Config.Refused: the answer to a request it refuses from its head
// (413, 414, 431) made as the HTTP/1.1 listener makes it (plainError and the error page of
// its status: Date, RFC 9110 section 6.6.1; Content-Type; Cache-Control: no-store; the
// text), where a bare :status had been sent. No route's fields: the head was not read
// whole. It runs on the connection's goroutine and does not block; the fields and content
// are copies, so the exchange goes back to the pool at once.
func (h h2handler) refused(status int) ([]h2.Field, []byte) {
	n := h.n
	msg, ok := refusedMessages[status]
	if !ok {
		msg = http.StatusText(status)
	}
	e := n.h2ctx.Get().(*h2exchange)
	e.strs = h.strs
	e.req.Reset()
	e.resp.reset(n, nil)
	e.x.req, e.x.resp = &e.req, &e.resp
	plainError(&e.x, status, msg)
	n.ownAnswerPolicy(&e.x, false)
	body := slices.Clone(e.resp.body)
	fields := slices.Clone(n.h2Fields(e, int64(len(body)), false))
	n.h2Release(e)
	return fields, body
}
