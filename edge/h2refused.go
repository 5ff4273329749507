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

// rejected is edge/h2's Config.Rejected: the access record, result "rejected", of a request
// stream edge/h2 reset as malformed or answered from its head (refused), as the HTTP/1.1
// listener records the heads it refuses (recordRejected) and nginx logs both: an operator
// reads attacks from them. A malformed request is logged 400, what nginx answers it and
// the HTTP/1.1 listener answers a head so framed; the node sent a reset and no bytes. The
// request line is what edge/h2 decoded of it.
func (h h2handler) rejected(r h2.RejectedRequest) {
	n := h.n
	status, bytes := r.Status, 0
	if status == 0 {
		status = http.StatusBadRequest
		n.metrics.rejected.WithLabelValues("h2_malformed").Inc()
	} else if msg, ok := refusedMessages[status]; ok {
		bytes = len(msg) + 1 // plainError's page, as refused sent it
	}
	h.logRejected(r, status, bytes)
}

// logRejected writes the access record, result "rejected", of an HTTP/2 request no pipeline
// ran: its request line, client address, User-Agent and Referer (nginx's combined format
// has them for every request it refuses, and an operator tells scanners and broken clients
// apart by them), its status and the bytes of its answer.
func (h h2handler) logRejected(r h2.RejectedRequest, status, bytes int) {
	n := h.n
	if !n.access.enabled() {
		return
	}
	e := n.h2ctx.Get().(*h2exchange)
	e.strs = h.strs
	e.req.Reset()
	e.req.setMethod(r.Method)
	e.req.SetRequestURI(r.Path)
	e.req.SetHost(r.Authority)
	e.req.setProtocol("HTTP/2.0")
	if r.UserAgent != "" {
		e.req.Add("user-agent", r.UserAgent)
	}
	if r.Referer != "" {
		e.req.Add("referer", r.Referer)
	}
	e.resp.reset(n, nil)
	e.x.req, e.x.resp = &e.req, &e.resp
	e.x.remote = remoteAddr(r.RemoteAddr)
	startOwnHead(&e.x, status)
	now := n.now()
	n.access.write(&e.x, r.Method, r.Path, "HTTP/2.0", now, now, "rejected", bytes, "")
	n.h2Release(e)
}
