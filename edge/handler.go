package edge

import (
	"bytes"
	"net"
	"net/netip"
	"strconv"
	"time"

	"github.com/shoal-cdn/shoal/cachestore"
	"github.com/valyala/fasthttp"
)

// handle is the data plane's entry point for every client request.
func (n *Node) handle(ctx *fasthttp.RequestCtx) {
	start := n.now()
	policy, result := "none", "rejected"
	// The route's policy (routepolicy.go); pages is set only when error pages are configured.
	var rules *routeRules
	var pages *errorPages
	// The target, host and key are borrowed from sc until this returns (requestScratch).
	sc := getScratch()
	defer func() {
		if rules != nil && sc.rulesDone {
			rules = nil // a hit's template already carried the response field rules
		}
		if rules != nil || pages != nil {
			n.responsePolicy(ctx, pages, rules) // before the framing: it may replace the body
		}
		n.frameForHTTP10(ctx)
		n.finish(ctx, start, policy, result)
		putScratch(sc)
	}()

	if problem := framingProblem(ctx.Request.Header.RawHeaders()); problem != "" {
		n.refuse(ctx, fasthttp.StatusBadRequest, "smuggling", "bad request: "+problem)
		return
	}
	dropTrailerFields(&ctx.Request.Header)
	if !versionOne(ctx.Request.Header.Protocol()) {
		// RFC 9110 section 6.2: this listener speaks HTTP/1.x; HTTP/2 has its own.
		n.refuse(ctx, fasthttp.StatusHTTPVersionNotSupported, "version", "HTTP version not supported")
		return
	}
	if m := ctx.Method(); bytes.Equal(m, []byte("CONNECT")) || bytes.Equal(m, []byte("TRACE")) {
		// A cache is no tunnel, and TRACE would reflect fields (cookies, credentials) that
		// scripts must not read (cross-site tracing).
		n.refuse(ctx, fasthttp.StatusMethodNotAllowed, "method", "method not allowed")
		ctx.Response.Header.Set("Allow", allowed)
		return
	}
	rt := n.rt.Load()
	hdr := &ctx.Request.Header
	if bytes.Equal(hdr.RequestURI(), []byte("*")) && bytes.Equal(ctx.Method(), []byte("OPTIONS")) {
		// RFC 9110 section 9.3.7: a question about the server itself, not a resource; no
		// route or origin is involved (health checkers send it).
		ctx.Response.Header.Set("Allow", allowed)
		policy, result = "none", "options"
		return
	}
	if bytes.Equal(ctx.Method(), []byte("OPTIONS")) && !isForwarded(ctx) && maxForwards(hdr) {
		// Max-Forwards: 0 makes this node the final recipient (RFC 9110 section 7.6.2).
		ctx.Response.Header.Set("Allow", allowed)
		policy, result = "none", "options"
		return
	}
	if len(rt.pages.Pages) > 0 {
		pages = &rt.pages
	}
	if rt.pages.Maintenance {
		rules = n.maintenance(ctx, rt)
		result = "maintenance"
		return
	}
	host, hosts := hostFields(hdr.RawHeaders(), hdr.Host())
	t, bad := parseTargetIn(sc, scheme(ctx), hdr.RequestURI(), host, hosts, !bytes.Equal(hdr.Protocol(), []byte("HTTP/1.0")))
	if bad != nil {
		n.refuse(ctx, bad.status, bad.reason, bad.msg)
		return
	}
	if rt.cfg.TLS.RedirectHTTP && scheme(ctx) == "http" && !isForwarded(ctx) {
		redirectToHTTPS(ctx, &t)
		policy, result = "none", "redirect"
		return
	}
	r := rt.match(ctx.Method(), t.name, t.path)
	if r == nil {
		n.metrics.rejected.WithLabelValues("no_route").Inc()
		plainError(ctx, fasthttp.StatusNotFound, "no route matches this request")
		return
	}
	if rules = rt.rulesFor(r); rules != nil {
		// Access, body limit and redirect may answer here; ignored parameters leave t.
		if res, answered := n.requestPolicy(ctx, r, rules, &t); answered {
			result = res
			return
		}
	}
	if r.sortParams {
		t.setQuery(cachestore.SortQuery(t.query))
	}
	useTarget(&ctx.Request, &t)
	dropProxyOnlyFields(hdr, rt.trusted(clientAddr(ctx)))
	if r.limiter != nil {
		if ok, wait := r.limiter.allow(clientAddr(ctx), start); !ok {
			n.metrics.rejected.WithLabelValues("rate_limited").Inc()
			plainError(ctx, fasthttp.StatusTooManyRequests, "too many requests")
			ctx.Response.Header.Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
			return
		}
	}
	method := ctx.Method()
	if bytes.Equal(method, []byte("PURGE")) {
		policy, result = "purge", n.purgeMethod(ctx)
		return
	}
	if r.cache && (bytes.Equal(method, []byte("GET")) || bytes.Equal(method, []byte("HEAD"))) && !hasBody(&ctx.Request) && !bypassCache(rules, hdr) {
		policy = "cache"
		key := policyKeyIn(sc, rules, &t, scheme(ctx), hdr) // borrowed: see lookup.own
		if res, ok := n.forwardToOwner(ctx, rt, r, key, start); ok {
			result = res
			return
		}
		n.inflight.add(n.name, 1)
		result = n.serveCache(ctx, rt, r, key, start, sc)
		n.inflight.add(n.name, -1)
		return
	}
	policy = "pass"
	result = n.servePass(ctx, rt, r)
	if r.cache && !safeMethod(method) {
		n.invalidateAfterUnsafe(ctx)
	}
}

// finish records the request: now, or for a streamed body once it has been written, with
// how it ended (see streamBody). The closure is built only for a streamed body: on a hit it
// cost three allocations per request.
func (n *Node) finish(ctx *fasthttp.RequestCtx, start time.Time, policy, result string) {
	if b := streamedBody(ctx); b != nil {
		b.done = func(whole bool, sent int64) {
			res, cacheStatus := result, n.loggedCacheStatus(ctx)
			if !whole {
				res, cacheStatus = resultAborted, withoutStored(cacheStatus)
			}
			n.record(ctx, start, policy, res, int(sent), cacheStatus)
		}
		return
	}
	n.record(ctx, start, policy, result, responseBytes(&ctx.Response), n.loggedCacheStatus(ctx))
}

// loggedCacheStatus is the response's Cache-Status for the access log, copied only when
// there is an access log to write it to.
func (n *Node) loggedCacheStatus(ctx *fasthttp.RequestCtx) string {
	if !n.access.enabled() {
		return ""
	}
	return string(ctx.Response.Header.Peek("Cache-Status"))
}

func (n *Node) record(ctx *fasthttp.RequestCtx, start time.Time, policy, result string, bytes int, cacheStatus string) {
	n.metrics.requestsBy.get2(policy, result).Inc()
	status := ctx.Response.StatusCode()
	n.metrics.responsesBy.get1(statusClass(status)).Inc()
	if bytes > 0 {
		n.metrics.bytesOut.Add(float64(bytes))
	}
	if n.access.enabled() {
		n.access.record(ctx, start, n.now(), result, bytes, cacheStatus)
	}
}

func statusClass(code int) string {
	switch {
	case code < 200:
		return "1xx"
	case code < 300:
		return "2xx"
	case code < 400:
		return "3xx"
	case code < 500:
		return "4xx"
	}
	return "5xx"
}

func safeMethod(m []byte) bool {
	switch string(m) {
	case "GET", "HEAD", "OPTIONS", "TRACE":
		return true
	}
	return false
}

// idempotent methods may be retried on another server (RFC 9110 section 9.2.2).
func idempotent(m []byte) bool {
	switch string(m) {
	case "GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE":
		return true
	}
	return false
}

// allowed are the methods the node serves (CONNECT and TRACE are refused).
const allowed = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS, PURGE"

// hasBody reports a request that carries content (Content-Length above 0, or chunked). A GET
// or HEAD with a body goes to the origin as a pass: the body is not in the key, so the
// answer to it must not be shared with clients who sent none.
func hasBody(req *fasthttp.Request) bool {
	cl := req.Header.ContentLength() // -1 chunked, -2 none
	return cl > 0 || cl == -1 || len(req.Body()) > 0
}

// versionOne accepts HTTP/1.0 and HTTP/1.1 (and a later 1.x, which RFC 9110 section 6.2 reads
// as 1.1); fasthttp has already refused anything not shaped "HTTP/d.d".
func versionOne(proto []byte) bool {
	return len(proto) == 8 && bytes.HasPrefix(proto, []byte("HTTP/1."))
}

// useTarget makes the request carry its canonical target and Host, so that everything after
// routing (the origin request, a peer forward, invalidation, PURGE, the access log) sees the
// form the key was built from.
func useTarget(req *fasthttp.Request, t *requestTarget) {
	uri := t.uri()
	if uri == string(req.Header.RequestURI()) && t.host == string(req.Header.Host()) {
		return
	}
	req.Header.SetHost(t.host)
	req.SetRequestURI(uri) // also drops the URI fasthttp may have parsed from the old target
}

// clientAddr is the client's address: the connection's, or for a request a peer forwarded,
// the address the peer saw.
func clientAddr(ctx *fasthttp.RequestCtx) netip.Addr {
	if a, ok := ctx.UserValue(clientIPHeader).(netip.Addr); ok {
		return a
	}
	if ta, ok := ctx.RemoteAddr().(*net.TCPAddr); ok {
		if a, ok := netip.AddrFromSlice(ta.IP); ok {
			return a.Unmap()
		}
	}
	return netip.Addr{}
}

// via is this node's Via member, built once: it goes on every response.
func (n *Node) via() string { return n.viaValue }

// schemeFlag marks a request that arrived over TLS on a listener fasthttp does not know as
// TLS (HTTP/2 through the net/http adapter, or forwarded by a peer that received it so).
const schemeFlag = "shoal.https"

// scheme is the scheme the client used: it is part of the cache key and X-Forwarded-Proto.
func scheme(ctx *fasthttp.RequestCtx) string {
	if ctx.IsTLS() {
		return "https"
	}
	if v, _ := ctx.UserValue(schemeFlag).(bool); v {
		return "https"
	}
	return "http"
}

// redirectToHTTPS sends plain-HTTP clients to the same URL over TLS (tls.redirect_http):
// 301 for GET and HEAD, 308 for methods whose body must be sent again.
func redirectToHTTPS(ctx *fasthttp.RequestCtx, t *requestTarget) {
	code := fasthttp.StatusPermanentRedirect
	if m := ctx.Method(); bytes.Equal(m, []byte("GET")) || bytes.Equal(m, []byte("HEAD")) {
		code = fasthttp.StatusMovedPermanently
	}
	ctx.Response.Header.Set("Location", "https://"+t.name+t.uri())
	ctx.SetStatusCode(code)
}
