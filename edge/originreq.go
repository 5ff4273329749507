package edge

import "github.com/valyala/fasthttp"

// copyRequestTo makes dst the request the node sends on, to an origin or to the owner: the
// method, target, Host and fields as the pipeline left them (canonical target, fields only a
// trusted proxy may send taken out), and the content. The origin client (origin.Pool.Do)
// and the peer hop speak fasthttp's request; dst comes from its pool, so filling it
// allocates nothing once its buffers have grown.
func (x *exchange) copyRequestTo(dst *fasthttp.Request) {
	h := &dst.Header
	h.DisableNormalizing()
	h.SetMethodBytes(x.req.Method())
	h.SetRequestURIBytes(x.req.RequestURI())
	h.SetHostBytes(x.req.Host())
	for k, v := range x.req.All() {
		h.AddBytesKV(k, v)
	}
	switch {
	case x.body != nil:
		dst.SetBodyStream(x.body, int(x.bodyLen))
	case len(x.bodyBytes) > 0:
		dst.SetBody(x.bodyBytes) // copied: a fill's request outlives the client's
	}
}
