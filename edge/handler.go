package edge

import (
	"bytes"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/shoal-cdn/shoal/cachestore"
	"github.com/shoal-cdn/shoal/origin"
)

// handle is the data plane's entry point for every client request.
//
// An HTTP/2 fresh hit arrives with its probe's walk (x.probe, freshHit): handle then takes
// the probe's clock reading, scratch, target, route and key instead of making them again,
// and serveCache its lookup and verdict, while every step that may answer or count (method
// checks, maintenance, access, body limit, rate limit, metrics, access log) runs as for any
// request.
func (p *pipeline) handle(x *exchange) {
	pr := x.probe
	var start time.Time
	// The target, host and key are borrowed from sc until this returns (requestScratch).
	var sc *requestScratch
	if pr != nil && pr.sc != nil {
		start, sc = pr.now, pr.sc // the probe's bytes stay valid until sc is put back
	} else {
		start, sc = p.now(), getScratch()
	}
	policy, result := "none", "rejected"
	// The route's policy (routepolicy.go); pages is set only when error pages are configured.
	var rules *routeRules
	var pages *errorPages
	defer func() {
		if x.expect == expectAdmitted {
			putScratch(sc) // only a question from expectContinue: nothing answered
			return
		}
		if rules != nil && sc.rulesDone {
			rules = nil // a hit's template already carried the response field rules
		}
		if rules != nil || pages != nil {
			p.responsePolicy(x, pages, rules) // before the framing: it may replace the body
		}
		x.resp.Seal(p, x)
		p.finish(x, start, policy, result)
		putScratch(sc)
	}()

	switch x.problem {
	case "":
	case problemVersion:
		// RFC 9110 section 6.2: the listener does not speak this version.
		p.refuse(x, http.StatusHTTPVersionNotSupported, "version", "HTTP version not supported")
		return
	case problemTooManyFields:
		p.refuse(x, http.StatusRequestHeaderFieldsTooLarge, "header_too_large", "request header fields too large")
		return
	default:
		p.refuse(x, http.StatusBadRequest, "smuggling", "bad request: "+x.problem)
		return
	}
	if !validToken(x.req.Method()) {
		// RFC 9110 section 9.1: a method is a token. HTTP/1.1's parser refuses others; an
		// HTTP/2 :method may hold spaces or CR LF, which the origin would read as the request
		// line's target and version (a DELETE of another path than the one routed and keyed).
		p.refuse(x, http.StatusBadRequest, "bad_method", "bad request: the method is not a token")
		return
	}
	if hasLower(x.req.Method()) {
		// RFC 9110 section 9.1: methods are case-sensitive, so "get" is no GET but a method
		// no one registered (every registered one is in capitals). Forwarded, it would miss
		// the routes and access rules written for its capital spelling ("methods: [DELETE]"
		// matches DELETE alone) and reach origins that fold method case and act on it as
		// theirs. nginx answers 400 to such a request line, on HTTP/1.1 and HTTP/2 alike.
		p.refuse(x, http.StatusBadRequest, "bad_method", "bad request: methods are case-sensitive and in capitals")
		return
	}
	if m := x.req.Method(); bytes.Equal(m, []byte("CONNECT")) || bytes.Equal(m, []byte("TRACE")) {
		// A cache is no tunnel, and TRACE would reflect fields (cookies, credentials) that
		// scripts must not read (cross-site tracing).
		p.refuse(x, http.StatusMethodNotAllowed, "method", "method not allowed")
		x.resp.Head().Set("Allow", allowed)
		return
	}
	if viaLoop(x.req, p.name) {
		// The request came back through this node (vialoop.go): forwarding it again would
		// go round until the head outgrew the header limit.
		p.metrics.rejected.WithLabelValues("loop").Inc()
		plainError(x, http.StatusLoopDetected, "loop detected: the request has already passed through this node")
		return
	}
	if unmetExpectation(x.req) {
		// Before any route: whatever the request is for, the node cannot meet it
		// (expectunmet.go). Its content, if any, is unread: the connection closes.
		p.refuse(x, http.StatusExpectationFailed, "expectation", "expectation failed: only 100-continue is supported")
		return
	}
	rt := p.rt.Load()
	handed := pr.handed(rt) // a reload since the probe: walk again under the new settings
	hdr := x.req
	if bytes.Equal(x.req.Method(), []byte("OPTIONS")) {
		// RFC 9110 section 9.3.7: OPTIONS * is a question about the server itself, not a
		// resource (health checkers send it); Max-Forwards: 0 makes this node the final
		// recipient (section 7.6.2). No route or origin is involved, but the request is
		// checked as any other first: its Host (RFC 9112 section 3.2, whatever the target),
		// and for Max-Forwards its target. Before, an invalid Host or target got 200 and
		// kept the connection.
		star := bytes.Equal(hdr.RequestURI(), []byte("*"))
		if star || !x.forwarded && maxForwards(hdr) {
			var bad *targetError
			if star {
				_, _, bad = hostField(sc, x.scheme(), x.host, x.hosts, hdr.Protocol())
			} else {
				_, bad = parseTargetIn(sc, x.scheme(), hdr.RequestURI(), x.host, x.hosts, hdr.Protocol())
			}
			if bad != nil {
				p.refuse(x, bad.status, bad.reason, bad.msg)
				return
			}
			startOwnHead(x, http.StatusOK)
			x.resp.Head().Set("Allow", allowed)
			policy, result = "none", "options"
			return
		}
	}
	if len(rt.pages.Pages) > 0 {
		pages = &rt.pages
	}
	if rt.pages.Maintenance {
		rules = p.maintenance(x, rt)
		result = "maintenance"
		return
	}
	var t requestTarget
	if handed {
		t = pr.t
	} else {
		var bad *targetError
		t, bad = parseTargetIn(sc, x.scheme(), hdr.RequestURI(), x.host, x.hosts, hdr.Protocol())
		if bad != nil {
			p.refuse(x, bad.status, bad.reason, bad.msg)
			return
		}
	}
	if p.misdirected(x, rt, t.name) {
		// The connection stays: its other requests (HTTP/2 streams) are for hosts it covers.
		p.metrics.rejected.WithLabelValues("misdirected").Inc()
		plainError(x, http.StatusMisdirectedRequest, "misdirected request: the certificate of this connection does not cover "+t.name)
		return
	}
	if rt.cfg.TLS.RedirectHTTP && x.scheme() == "http" && !x.forwarded {
		redirectToHTTPS(x, &t)
		policy, result = "none", "redirect"
		return
	}
	var r *route
	if handed {
		r = pr.r
	} else if r = rt.match(x.req.Method(), t.name, t.path); r == nil {
		p.metrics.rejected.WithLabelValues("no_route").Inc()
		plainError(x, http.StatusNotFound, "no route matches this request")
		return
	}
	if rules = rt.rulesFor(r); rules != nil {
		// Access, body limit and redirect may answer here; ignored parameters leave t
		// (a handed target has its query shaped already: a copy takes the edit).
		shaped := t
		if res, answered := p.requestPolicy(x, r, rules, &shaped); answered {
			result = res
			return
		}
		if !handed {
			t = shaped
		}
	}
	if r.sortParams && !handed {
		t.setQuery(cachestore.SortQuery(t.query))
	}
	useTarget(x, &t)
	asksUpgrade := false
	if !handed { // the probe dropped them before it keyed the request
		dropProxyOnlyFields(hdr, rt.trusted(x.clientAddr()), rt.cfg.Limits.UnderscoresInHeaders)
		asksUpgrade = dropConnectionListed(hdr)
	}
	if r.limiter != nil && x.expect != expectCounted {
		if ok, wait := r.limiter.allow(x.clientAddr(), start); !ok {
			p.metrics.rejected.WithLabelValues("rate_limited").Inc()
			plainError(x, http.StatusTooManyRequests, "too many requests")
			x.resp.Head().Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
			return
		}
	}
	if up := upgradeOf(x, asksUpgrade); up != nil && x.expect == expectNone && r.pool != nil {
		policy, result = "pass", p.serveUpgrade(x, rt, r, up)
		return
	}
	method := x.req.Method()
	cacheable := handed || r.cache && (bytes.Equal(method, []byte("GET")) || bytes.Equal(method, []byte("HEAD"))) && !x.hasBody() && !bypassCache(rules, hdr)
	if x.expect == expectAsking {
		// expectContinue's question: every answer above came from the head alone. A pass
		// to a pool that active checks took down is one more (servePass's 503); a purge
		// asks no pool.
		if !cacheable && r.pool != nil && !bytes.Equal(method, []byte("PURGE")) && !r.pool.Healthy() {
			p.originError(x, r.pool, origin.ErrNoServer)
			result = "error"
			return
		}
		x.expect = expectAdmitted
		return
	}
	if bytes.Equal(method, []byte("PURGE")) {
		policy, result = "purge", p.purgeMethod(x)
		return
	}
	if cacheable {
		policy = "cache"
		var key string
		if handed {
			// The probe keyed it and found this node its owner, with the object stored:
			// forwardToOwner would answer false (mayAdopt refuses a stored key).
			key = pr.url
		} else {
			key = policyKeyIn(sc, rules, &t, x.scheme(), hdr) // borrowed: see lookup.own
			if res, ok := p.forwardToOwner(x, rt, r, key, start); ok {
				result = res
				return
			}
		}
		// Only bounded loads read the counts (ownerOf). A request counts itself under the
		// settings it started with, so a reload that turns them on or off keeps them even.
		bounded := rt.cfg.Cluster.BoundedLoad > 1
		if bounded {
			p.inflight.add(p.name, 1)
		}
		result = p.serveCache(x, rt, r, key, start, sc)
		if bounded {
			p.inflight.add(p.name, -1)
		}
		return
	}
	policy = "pass"
	result = p.servePass(x, rt, r)
	if !safeMethod(method) {
		// On a pass route too (RFC 9111 section 4.4 names no route): a form's 303 names an
		// object a cache route stores, and a route of its own for PUT or DELETE can pass a
		// path whose GET is cached.
		p.invalidateAfterUnsafe(x, r.cache)
	}
}

// finish records the request: now, or for a streamed body once it has been written, with
// how it ended (see streamBody): the body then holds what the record needs (outcomeRecord),
// so that neither a hit nor a streamed response allocates for it.
func (p *pipeline) finish(x *exchange, start time.Time, policy, result string) {
	x.fromStore = result == "hit" || result == "stale"
	if b := streamedBody(x); b != nil {
		b.rec = outcomeRecord{p: p, x: x, start: start, policy: policy, result: result}
		return
	}
	p.record(x, start, policy, result, responseBytes(x.resp), p.loggedCacheStatus(x))
}

// outcomeRecord is what finish leaves a streamed body to record its request with.
type outcomeRecord struct {
	p              *pipeline
	x              *exchange
	start          time.Time
	policy, result string
}

// recordEnd records b's request once the listener closed b: aborted when the body did not
// reach the client whole, without "stored" when its fill stored nothing after all.
func (b *outcomeBody) recordEnd() {
	r := b.rec
	res, cacheStatus := r.result, r.p.loggedCacheStatus(r.x)
	if !b.whole() {
		res, cacheStatus = resultAborted, withoutStored(cacheStatus)
	} else if b.fill != nil && b.fill.unstored() {
		cacheStatus = withoutStored(cacheStatus)
	}
	r.p.record(r.x, r.start, r.policy, res, int(b.n), cacheStatus)
}

// loggedCacheStatus is the response's Cache-Status for the access log, copied only when
// there is an access log to write it to.
func (p *pipeline) loggedCacheStatus(x *exchange) string {
	if !p.access.enabled() {
		return ""
	}
	return string(x.resp.Head().Peek("Cache-Status"))
}

func (p *pipeline) record(x *exchange, start time.Time, policy, result string, bytes int, cacheStatus string) {
	p.metrics.requestsBy.get2(policy, result).Inc()
	if result == resultAdoptMiss {
		return // a peer's question, answered "not here" (gatewayTimeoutOnlyIfCached)
	}
	status := x.resp.Head().StatusCode()
	p.metrics.responsesBy.get1(statusClass(status)).Inc()
	if bytes > 0 {
		p.metrics.bytesOut.Add(float64(bytes))
	}
	if p.access.enabled() {
		p.access.record(x, start, p.now(), result, bytes, cacheStatus)
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

// hasBody reports a request that carries content (Content-Length above 0, or of unknown
// length). A GET or HEAD with a body goes to the origin as a pass: the body is not in the
// key, so the answer to it must not be shared with clients who sent none.
func (x *exchange) hasBody() bool {
	cl := x.req.ContentLength() // -1 unknown (chunked), -2 none
	return cl > 0 || cl == -1 || len(x.bodyBytes) > 0 || x.body != nil
}

// versionOne accepts HTTP/1.0 and HTTP/1.1 (and a later 1.x, which RFC 9110 section 6.2 reads
// as 1.1); fasthttp has already refused anything not shaped "HTTP/d.d".
func versionOne(proto []byte) bool {
	return len(proto) == 8 && bytes.HasPrefix(proto, []byte("HTTP/1."))
}

// useTarget makes the request carry its canonical target and Host, so that everything after
// routing (the origin request, a peer forward, invalidation, PURGE, the access log) sees the
// form the key was built from.
func useTarget(x *exchange, t *requestTarget) {
	uri := t.uri()
	if uri == string(x.req.RequestURI()) && t.host == string(x.req.Host()) {
		return
	}
	x.req.SetHost(t.host)
	x.req.SetRequestURI(uri)
}

// clientAddr is the client's address: the connection's, or for a request a peer forwarded,
// the address the peer saw.
func (x *exchange) clientAddr() netip.Addr {
	if x.forwarded && x.client.IsValid() {
		return x.client
	}
	return x.remote
}

// via is this node's Via member, built once: it goes on every response.
func (p *pipeline) via() string { return p.viaValue }

// requestVia is the Via member a request forwarded to the origin carries: the protocol the
// node received it with, then the node's name (RFC 9110 section 7.6.3: "2" for HTTP/2,
// "1.0" for HTTP/1.0). The loop check (viaLoop) reads the name, whatever the protocol.
func (p *pipeline) requestVia(x *exchange) string {
	switch string(x.req.Protocol()) {
	case "HTTP/2.0":
		return p.via2
	case "HTTP/1.0":
		return p.via10
	}
	return p.viaValue
}

// scheme is the scheme the client used (for a forwarded request, the one the peer's client
// used): it is part of the cache key and X-Forwarded-Proto.
func (x *exchange) scheme() string {
	if x.tls {
		return "https"
	}
	return "http"
}

// redirectToHTTPS sends plain-HTTP clients to the same URL over TLS (tls.redirect_http):
// 301 for GET and HEAD, 308 for methods whose body must be sent again.
func redirectToHTTPS(x *exchange, t *requestTarget) {
	code := http.StatusPermanentRedirect
	if m := x.req.Method(); bytes.Equal(m, []byte("GET")) || bytes.Equal(m, []byte("HEAD")) {
		code = http.StatusMovedPermanently
	}
	startOwnHead(x, code)
	x.resp.Head().Set("Location", "https://"+t.name+t.uri())
}
