package edge

import (
	"io"
	"sync"

	"github.com/valyala/fasthttp"
)

// outgoing is the request the node sends on, to an origin or to the owner, as a copy of the
// client's view that the pipeline then edits: the route's request policy, the forwarding
// fields, a fill's conditionals, the peer fields. It starts as the method, target, Host and
// fields as the pipeline left them (canonical target, fields only a trusted proxy may send
// taken out), without the client's hop-by-hop fields (RFC 9110 section 7.6.1): those of
// hopByHop and every name a Connection line lists. The peer hop is a hop too: a client's
// "Connection: close" must not close the connection between two nodes. Pooled: give it back
// with putOutgoing once written.
func (x *exchange) outgoing() *fieldList {
	o := outgoings.Get().(*fieldList)
	o.Reset()
	o.method = o.put(x.req.Method()).bytes(o)
	o.uri = o.put(x.req.RequestURI()).bytes(o)
	o.host = o.put(x.req.Host()).bytes(o)
	drop := connectionNamed(x.req) // nil without a Connection line: nothing allocated
	for k, v := range x.req.All() {
		if isHopByHop(k) || containsFold(drop, k) {
			continue
		}
		o.AddBytesKV(k, v)
	}
	return o
}

var outgoings = sync.Pool{New: func() any { return &fieldList{contentLength: -2} }}

func putOutgoing(o *fieldList) {
	o.Reset()
	outgoings.Put(o)
}

// writeRequest makes dst the request o describes, with content (a stream of bodyLen bytes,
// -1 unknown, or whole bytes; neither for none). The origin client (origin.Pool.Do) and the
// peer hop speak fasthttp's request; dst comes from its pool, so filling it allocates nothing
// once its buffers have grown.
//
// The head is written as the fields are, without fasthttp's special headers
// (DisableSpecialHeader): its Cookie serializer re-encodes cookies and drops those whose
// values hold a quote or a backslash, such as the JSON a consent manager stores, and its
// Content-Type default adds "application/octet-stream" to content the client did not type
// (RFC 9110 section 8.3 leaves that guess to the recipient). Host is then a field like the
// others, and fasthttp writes the framing (Content-Length, or chunked for a stream of
// unknown length) from the content when it sends the request. Nothing may range over dst's
// fields afterwards: fasthttp's All gathers the Cookie lines into its parsed cookies, which
// a head without special headers then never writes; the edits are o's.
func writeRequest(o *fieldList, dst *fasthttp.Request, body io.Reader, bodyLen int64, bodyBytes []byte) {
	h := &dst.Header
	h.DisableNormalizing()
	h.DisableSpecialHeader()
	h.SetMethodBytes(o.method)
	h.SetRequestURIBytes(o.uri)
	h.SetProtocol("HTTP/1.1") // the node speaks its own version (RFC 9110 section 6.2)
	h.AddBytesKV([]byte("Host"), o.host)
	for k, v := range o.All() {
		h.AddBytesKV(k, v)
	}
	switch {
	case body != nil:
		dst.SetBodyStream(body, int(bodyLen))
	case len(bodyBytes) > 0:
		dst.SetBody(bodyBytes)
	}
}
