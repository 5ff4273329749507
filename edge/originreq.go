package edge

import (
	"io"
	"strings"
	"sync"

	"github.com/shoal-cdn/shoal/origin"
	"github.com/valyala/fasthttp"
)

// outgoing is the request the node sends on, to an origin or to the owner, as a copy of the
// client's view that the pipeline then edits: the route's request policy, the forwarding
// fields, a fill's conditionals, the peer fields. It starts as the method, target, Host and
// fields as the pipeline left them (canonical target, fields only a trusted proxy may send
// taken out), without the client's hop-by-hop fields (RFC 9110 section 7.6.1): those of
// hopByHop and every name a Connection line lists. The peer hop is a hop too: a client's
// "Connection: close" must not close the connection between two nodes. Nor the client's
// Expect: its expectation is about its own upload, which the listener answered (100, or the
// final answer; RFC 9110 section 10.1.1), so the node sends the content it has without
// waiting for a 100 of the origin's, as nginx removes Expect; and a fill has no content.
// Pooled: give it back with putOutgoing once written.
func (x *exchange) outgoing() *fieldList {
	o := outgoings.Get().(*fieldList)
	o.Reset()
	o.method = o.put(x.req.Method()).bytes(o)
	o.uri = o.put(x.req.RequestURI()).bytes(o)
	o.host = o.put(x.req.Host()).bytes(o)
	drop := connectionNamed(x.req) // nil without a Connection line: nothing allocated
	for k, v := range x.req.All() {
		if isHopByHop(k) || containsFold(drop, k) || isExpect(k) {
			continue
		}
		o.AddBytesKV(k, v)
	}
	return o
}

func isExpect(name []byte) bool {
	return len(name) == len("Expect") && strings.EqualFold(string(name), "Expect")
}

var outgoings = sync.Pool{New: func() any { return &fieldList{contentLength: -2} }}

func putOutgoing(o *fieldList) {
	o.Reset()
	outgoings.Put(o)
}

// AppendHead renders o as the request head the origin receives (origin.RequestHead): the
// request line with the node's own version (RFC 9110 section 6.2), Host first (host when the
// pool rewrites it), then the fields in order, names as sent, each line through
// origin.AppendField (no CR or LF can end a line early). No framing field: the pool writes
// it from the content. This is the head writeRequest gives fasthttp, without the copy into
// fasthttp's request type and back out of it.
func (o *fieldList) AppendHead(dst []byte, host string) []byte {
	dst = append(dst, o.method...)
	dst = append(dst, ' ')
	dst = append(dst, o.uri...)
	dst = append(dst, " HTTP/1.1\r\n"...)
	if host != "" {
		dst = origin.AppendField(dst, []byte("Host"), []byte(host))
	} else {
		dst = origin.AppendField(dst, []byte("Host"), o.host)
	}
	for _, f := range o.fields {
		if name := o.at(f.name); !framingField(name) { // a route's edit, never the content's
			dst = origin.AppendField(dst, name, o.at(f.value))
		}
	}
	return dst
}

// writeRequest makes dst the request o describes, with content (a stream of bodyLen bytes,
// -1 unknown, or whole bytes; neither for none). The peer hop (origin.RoundTrip) speaks
// fasthttp's request (the origin pool takes o itself: AppendHead); dst comes from its pool,
// so filling it allocates nothing once its buffers have grown.
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
		if !framingField(k) { // as AppendHead
			h.AddBytesKV(k, v)
		}
	}
	switch {
	case body != nil:
		dst.SetBodyStream(body, int(bodyLen))
	case len(bodyBytes) > 0:
		dst.SetBody(bodyBytes)
	}
}
