package httpcache

import (
	"strconv"
	"strings"
)

// Storable decides whether a shared cache may store resp, the answer to req,
// following RFC 9111 section 3, and computes what later uses need.
//
// It judges the head only. A response whose body ended early (fewer bytes than
// Content-Length, a broken chunked stream) is incomplete and must not be
// stored as complete (RFC 9111 3.3): the caller sees the body and owns that
// check. It stores only GET responses; HEAD is answered from the stored GET
// and may refresh it through HeadFreshens. 206 responses are never stored as
// a complete response, and 304 updates a stored response via Freshen instead.
//
// A response that is stale on arrival is stored only when it can be
// revalidated (it has ETag or Last-Modified) or carries its own
// stale-while-revalidate or stale-if-error; a no-cache response only with a
// validator, since it must be revalidated before every use.
func (p Policy) Storable(req Request, resp Response) StoreDecision {
	if reason := methodAndStatus(req.Method, resp.Status); reason != "" {
		return StoreDecision{Reason: reason}
	}
	if requestNoStore(req.Header) {
		return StoreDecision{Reason: "request no-store"}
	}
	h := resp.Fields()
	d, src := p.responseDirectives(h)
	if d.MustUnderstand && !understoodStatus(resp.Status) {
		return StoreDecision{Reason: "must-understand: status " + strconv.Itoa(resp.Status) + " not understood"}
	}
	// RFC 9111 5.2.2.3: must-understand with an understood status overrides no-store.
	if d.NoStore && !d.MustUnderstand {
		return StoreDecision{Reason: "no-store"}
	}
	if d.Private {
		return StoreDecision{Reason: "private"}
	}
	if req.Header.Has("Authorization") && !p.allowsAuthorized(d, src, h) {
		return StoreDecision{Reason: "authorization without public, s-maxage or must-revalidate"}
	}
	for i := range h {
		if equalFold(h[i].Name, "Vary") && hasVaryStar(h[i].Value) {
			return StoreDecision{Reason: "vary *"}
		}
	}

	f := p.freshnessLifetime(resp, d, src)
	// public makes a response storable (RFC 9111 3), not fresh: without explicit freshness a
	// status outside RFC 9110 15.1's list has no lifetime to be stored for (freshnessLifetime).
	if !f.explicit && !heuristicallyCacheable(resp.Status) {
		return StoreDecision{Reason: "status " + strconv.Itoa(resp.Status) + " not cacheable without explicit freshness"}
	}
	validator := h.Has("ETag") || h.Has("Last-Modified")
	if d.NoCache && !validator {
		return StoreDecision{Reason: "no-cache without validator"}
	}
	// Stale on arrival is a lifetime its age at arrival (4.2.3: an upstream Age, a Date
	// far behind) has already used up, not only a zero one: max-age=60 with Age: 120 from
	// a parent cache was stored and rewritten, on every request, to be fetched again.
	if !validator && !d.HasStaleWhileRevalidate && !d.HasStaleIfError && f.lifetime <= CurrentAge(resp, resp.ResponseTime) {
		return StoreDecision{Reason: "stale on arrival without validator"}
	}

	sd := StoreDecision{
		Store:          true,
		Lifetime:       f.lifetime,
		Heuristic:      f.heuristic,
		MustRevalidate: d.MustRevalidate || d.ProxyRevalidate || d.HasSMaxAge,
		NoCache:        d.NoCache,
		NoCacheFields:  d.NoCacheFields,
		PrivateFields:  d.PrivateFields,
		Immutable:      d.Immutable,
		NoTransform:    d.NoTransform,
	}
	// RFC 9111 4.2.4: must-revalidate, proxy-revalidate and s-maxage forbid
	// serving stale without validation, which is all RFC 5861 offers.
	if !sd.MustRevalidate {
		sd.StaleWhileRevalidate = p.StaleWhileRevalidate
		if d.HasStaleWhileRevalidate {
			sd.StaleWhileRevalidate = d.StaleWhileRevalidate
		}
		sd.StaleIfError = p.StaleIfError
		if d.HasStaleIfError {
			sd.StaleIfError = d.StaleIfError
		}
	}
	return sd
}

func methodAndStatus(method string, status int) string {
	switch {
	case method != "GET":
		return "method " + method + " not stored"
	case status < 200:
		return "interim response " + strconv.Itoa(status) + " never stored"
	case status == 206:
		return "206 partial content not stored as complete"
	case status == 304:
		return "304 updates a stored response, not stored itself"
	case status > 599:
		// RFC 9110 section 15: codes outside 100..599 are invalid (some libraries use
		// 600..999 for errors of their own) and a recipient treats them as a 5xx; nothing
		// says what one means, so nobody else is handed it from the store.
		return "status " + strconv.Itoa(status) + " invalid"
	}
	return ""
}

// requestNoStore reports request Cache-Control: no-store (RFC 9111 5.2.1.5).
func requestNoStore(h Header) bool {
	var d Directives
	for i := range h {
		if equalFold(h[i].Name, "Cache-Control") {
			d.parseLine(h[i].Value)
		}
	}
	return d.NoStore
}

// allowsAuthorized applies RFC 9111 3.5. When a targeted field governs, an
// explicit public, s-maxage or must-revalidate in Cache-Control still counts:
// it is the origin's consent for shared caches, which the targeted field only
// refines.
func (p Policy) allowsAuthorized(d Directives, src directiveSource, h Header) bool {
	if d.Public || d.HasSMaxAge || d.MustRevalidate {
		return true
	}
	if src == fromCacheControl {
		return false
	}
	cc := cacheControlOf(h)
	return cc.Public || cc.HasSMaxAge || cc.MustRevalidate
}

// understoodStatus lists the final status codes RFC 9110 defines; must-understand
// (RFC 9111 5.2.2.3) lets a cache store only responses whose status it knows.
// 206 is excluded because this cache does not store partial responses.
func understoodStatus(status int) bool {
	switch {
	case status >= 200 && status <= 205,
		status >= 300 && status <= 305, status == 307, status == 308,
		status >= 400 && status <= 417, status == 421, status == 422, status == 426,
		status >= 500 && status <= 505:
		return true
	}
	return false
}

func hasVaryStar(v string) bool {
	for len(v) > 0 {
		var name string
		name, v = nextListElement(v)
		if name == "*" {
			return true
		}
	}
	return false
}

// StripUnstorable returns resp without the fields a cache must not store (RFC 9111
// 3.1): Connection and the fields it lists, the other hop-by-hop fields (RFC 9110
// 7.6.1), the proxy authentication fields, and the fields named by private="..."
// (shared cache). Fields named by no-cache="..." are kept: the cache strips them when
// it serves without validation (see StoreDecision.NoCacheFields and StripFields).
//
// When nothing is dropped it returns resp itself, not a copy: a fill's head is already
// the cache's own and read-only, and a second slice of it per miss was garbage. resp is
// never modified; treat the result as read-only too.
func StripUnstorable(resp Header, d StoreDecision) Header {
	listed := connectionListed(resp)
	drop := func(name string) bool {
		return hopByHop(name) || containsFold(listed, name) || containsFold(d.PrivateFields, name)
	}
	first := -1
	for i, f := range resp {
		if drop(f.Name) {
			first = i
			break
		}
	}
	if first < 0 {
		return resp
	}
	out := make(Header, first, len(resp)-1)
	copy(out, resp[:first])
	for _, f := range resp[first+1:] {
		if !drop(f.Name) {
			out = append(out, f)
		}
	}
	return out
}

// StripFields removes every field named in names, e.g. the no-cache="..."
// fields when serving a stored response without validation (RFC 9111 5.2.2.4).
func StripFields(h *Header, names []string) {
	for _, n := range names {
		h.Del(n)
	}
}

// hopByHop names fields that describe one connection, or a proxy's credentials,
// rather than the response (RFC 9110 7.6.1, RFC 9111 3.1). The length picks the candidates:
// every stored field is asked, and comparing it with all ten names was a tenth of a miss's
// storing (issue 15's miss profile).
func hopByHop(name string) bool {
	switch len(name) {
	case len("TE"):
		return equalFold(name, "TE")
	case len("Upgrade"): // and Trailer
		return equalFold(name, "Upgrade") || equalFold(name, "Trailer")
	case len("Connection"): // and Keep-Alive
		return equalFold(name, "Connection") || equalFold(name, "Keep-Alive")
	case len("Proxy-Connection"):
		return equalFold(name, "Proxy-Connection")
	case len("Transfer-Encoding"):
		return equalFold(name, "Transfer-Encoding")
	case len("Proxy-Authenticate"):
		return equalFold(name, "Proxy-Authenticate")
	case len("Proxy-Authorization"):
		return equalFold(name, "Proxy-Authorization")
	case len("Proxy-Authentication-Info"):
		return equalFold(name, "Proxy-Authentication-Info")
	}
	return false
}

func connectionListed(h Header) []string {
	var names []string
	for _, v := range h.Values("Connection") {
		for len(v) > 0 {
			var n string
			n, v = nextListElement(v)
			if n != "" {
				names = append(names, strings.ToLower(n))
			}
		}
	}
	return names
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if equalFold(v, s) {
			return true
		}
	}
	return false
}
