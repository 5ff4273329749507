package edge

import (
	"github.com/shoal-cdn/shoal/edge/httpcache"
	"github.com/valyala/fasthttp"
)

// invalidateAfterUnsafe applies RFC 9111 section 4.4: a non-error response to an unsafe
// method invalidates the target URI and the same-origin Location and Content-Location.
// It runs after the response head is known, before the body streams.
func (n *Node) invalidateAfterUnsafe(ctx *fasthttp.RequestCtx) {
	status := ctx.Response.StatusCode()
	target := "http://" + string(ctx.Host()) + string(ctx.RequestURI())
	var resp httpcache.Header
	for _, name := range []string{"Location", "Content-Location"} {
		if v := ctx.Response.Header.Peek(name); len(v) > 0 {
			resp.Add(name, string(v))
		}
	}
	for _, u := range httpcache.InvalidationTargets(string(ctx.Method()), status, target, resp) {
		if key, ok := keyForURL(u); ok {
			n.store.PurgeURL(key, false)
			n.passMark.clear(key)
		}
	}
}
