package edge

import (
	"bytes"

	"github.com/valyala/fasthttp"
)

// copyRequestTo makes dst the request the node sends on, to an origin or to the owner: the
// method, target, Host and fields as the pipeline left them (canonical target, fields only a
// trusted proxy may send taken out), and the content. The origin client (origin.Pool.Do)
// and the peer hop speak fasthttp's request; dst comes from its pool, so filling it
// allocates nothing once its buffers have grown.
//
// The client's hop-by-hop fields stay behind (RFC 9110 section 7.6.1): those of hopByHop and
// every name a Connection line lists. They are left out here, not deleted from dst after:
// fasthttp's header treats Connection as a flag, so a "Connection: close" line added after
// "Connection: keep-alive, X-Secret" drops the earlier line, and with it the list of names to
// remove (X-Secret then reached the origin). The peer hop is a hop too: a client's
// "Connection: close" must not close the connection between two nodes.
//
// Content without a Content-Type goes on without one: fasthttp would add
// "application/octet-stream", which the client did not say (RFC 9110 section 8.3 leaves the
// guess to the recipient, and an origin may sniff or refuse instead).
func (x *exchange) copyRequestTo(dst *fasthttp.Request) {
	h := &dst.Header
	h.DisableNormalizing()
	h.SetNoDefaultContentType(true)
	h.SetMethodBytes(x.req.Method())
	h.SetRequestURIBytes(x.req.RequestURI())
	h.SetHostBytes(x.req.Host())
	listed := x.req.has("Connection")
	for k, v := range x.req.All() {
		if isHopByHop(k) || listed && x.req.connectionLists(k) {
			continue
		}
		h.AddBytesKV(k, v)
	}
	switch {
	case x.body != nil:
		dst.SetBodyStream(x.body, int(x.bodyLen))
	case len(x.bodyBytes) > 0:
		dst.SetBody(x.bodyBytes) // copied: a fill's request outlives the client's
	}
}

// has reports a field named name (any case).
func (l *fieldList) has(name string) bool {
	for _, f := range l.fields {
		if n := l.at(f.name); len(n) == len(name) && bytes.EqualFold(n, []byte(name)) {
			return true
		}
	}
	return false
}

// connectionLists reports whether a Connection line of l names the field name (any case):
// the sender marked it hop-by-hop (RFC 9110 section 7.6.1).
func (l *fieldList) connectionLists(name []byte) bool {
	for k, v := range l.All() {
		if !bytes.EqualFold(k, []byte("Connection")) {
			continue
		}
		for len(v) > 0 {
			token := v
			if i := bytes.IndexByte(v, ','); i >= 0 {
				token, v = v[:i], v[i+1:]
			} else {
				v = nil
			}
			if bytes.EqualFold(bytes.TrimSpace(token), name) {
				return true
			}
		}
	}
	return false
}
