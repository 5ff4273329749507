package edge

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/shoal-cdn/shoal/conf"
	"github.com/shoal-cdn/shoal/edge/policy"
	"github.com/shoal-cdn/shoal/httpcache"
)

// The operator's route policy (issue 17) at the points of the pipeline where it acts. A route
// without rules has a nil *policy.Rules and each hook below returns at its first test, so
// rules cost nothing where they are not used.
//
// Where each rule acts, and why there:
//   - access, body limit, redirect, ignored query parameters: in handle, after routing and
//     before the key, so that the key and the target sent to the origin agree (the dropped
//     parameters are dropped from the client's request as sort_params sorts it);
//   - bypass_if: in handle, turning a cache request into a pass;
//   - rewrite, include_headers, include_cookies, ignore_host: in the key; the rewrite is
//     applied to the origin request only, so a peer that receives the forwarded request
//     matches the same route and derives the same key;
//   - strip_request and request field rules: on the copy sent to the origin (fill and pass),
//     never on the client's request, for the same reason;
//   - ttl, stale, strip_set_cookie: on the store decision of a fill;
//   - response field rules and error pages: last, on whatever answer handle made, on the
//     node that faces the client (not on the owner answering a peer, which would add twice).

// routeRules and errorPages name the policy types where a local variable named policy
// hides the package (Node.handle).
type (
	routeRules = policy.Rules
	errorPages = policy.ErrorPages
)

// ignoredHost stands for the host in the key of a route with cache_key.ignore_host.
const ignoredHost = "any-host.invalid"

// compileRules compiles the policy of every route, in route order.
func compileRules(cfg *conf.Config) ([]*policy.Rules, error) {
	out := make([]*policy.Rules, len(cfg.Routes))
	for i := range cfg.Routes {
		r, err := policy.Compile(cfg.Routes[i].Policy())
		if err != nil {
			return nil, fmt.Errorf("routes[%d]: %w", i, err)
		}
		if !r.Empty() {
			out[i] = r
		}
	}
	return out, nil
}

// rulesFor is the route's policy, nil when it has none.
func (rt *settings) rulesFor(r *route) *policy.Rules {
	if r == nil || r.index >= len(rt.rules) {
		return nil
	}
	return rt.rules[r.index]
}

// requestPolicy applies the rules that may answer a request before any cache or origin:
// access (403), body limit (413), redirect. It also drops ignored query parameters from t.
// It returns the result label and true when it answered.
func (p *pipeline) requestPolicy(x *exchange, r *route, rules *policy.Rules, t *requestTarget) (string, bool) {
	if rules.Access != nil && !rules.Access.Allowed(x.clientAddr()) {
		p.metrics.rejected.WithLabelValues("access").Inc()
		plainError(x, http.StatusForbidden, "forbidden")
		return "forbidden", true
	}
	if max := rules.MaxBodyBytes; max > 0 {
		if cl := x.req.ContentLength(); cl > int(max) || len(x.bodyBytes) > int(max) {
			p.metrics.rejected.WithLabelValues("body_too_large").Inc()
			plainError(x, http.StatusRequestEntityTooLarge, "request body too large")
			x.resp.SetConnectionClose()
			return "too_large", true
		}
		x.limitBody(max) // content that streams: the listener answers 413 if it outgrows max
	}
	if rules.Redirect != nil {
		v := p.policyVars(x, rules, t.host, t.path)
		buf := bufs.Get().(*scratch)
		loc, ok := rules.Redirect.Location(buf.b[:0], &v)
		if ok {
			startOwnHead(x, rules.Redirect.Status())
			x.resp.Head().SetBytesV("Location", loc)
			x.resp.Head().Set("Cache-Control", "no-store")
			x.resp.SetBody(nil)
		}
		buf.b = loc
		bufs.Put(buf)
		if ok {
			return "redirect", true
		}
	}
	if r.pool == nil {
		// A redirect route (it needs no origin) whose regex did not match the path.
		p.metrics.rejected.WithLabelValues("no_route").Inc()
		plainError(x, http.StatusNotFound, "no route matches this request")
		return "rejected", true
	}
	if rules.Key != nil {
		t.setQuery(rules.Key.Query(t.query))
	}
	return "", false
}

// bypassCache reports a request that bypass_if sends to the origin: it carries a named cookie.
func bypassCache(rules *policy.Rules, h *fieldList) bool {
	if rules == nil || !rules.Cookies.Bypasses() {
		// Without bypass_if names (strip_request alone, as on static files) the request's
		// cookies are not parsed on every hit.
		return false
	}
	for name := range h.Cookies() {
		if rules.Cookies.BypassName(name) {
			return true
		}
	}
	return false
}

// policyKeyIn is the primary key of a request (requestTarget.key) shaped by the route's
// rules: the rewritten path, the host unless ignored, and the named fields and cookies. It
// is built in sc (requestScratch.key; nil allocates it): a borrowed string, except with
// include_headers or include_cookies.
func policyKeyIn(sc *requestScratch, rules *policy.Rules, t *requestTarget, scheme string, h *fieldList) string {
	if rules == nil {
		return sc.key(scheme, t.host, t.keyPath(), t.query) // the common route: no call more
	}
	key := policyBaseKeyIn(sc, rules, t, scheme)
	if !keyHasExtra(rules) {
		return key
	}
	// The client's spelling of a name is kept: "x-device" must add to the key as
	// "X-Device" does, or two representations would share one object.
	extra := rules.Key.AppendExtra([]byte(key), func(name string) []byte { return h.Peek(name) }, h.Cookie)
	return string(extra)
}

// policyBaseKeyIn is the key of a request before include_headers and include_cookies add
// their parts: the rewritten path and the host unless ignored. It is also what a purge of
// the URL resolves to (purgeTargets).
func policyBaseKeyIn(sc *requestScratch, rules *policy.Rules, t *requestTarget, scheme string) string {
	if rules == nil {
		return sc.key(scheme, t.host, t.keyPath(), t.query)
	}
	path, host := t.path, t.host
	if rules.Rewrite != nil {
		path = rules.Rewrite.Path(path)
	}
	if rules.Key.IgnoreHost() {
		host = ignoredHost
	}
	if t.emptyQuery {
		path += "?" // as keyPath
	}
	return sc.key(scheme, host, path, t.query)
}

// keyHasExtra reports a route whose keys carry request fields or cookies after the URL
// (policy.KeyRules.AppendExtra), each part starting with a NUL byte, which no URL holds.
func keyHasExtra(rules *policy.Rules) bool {
	return rules != nil && (len(rules.Key.Headers()) > 0 || len(rules.Key.Cookies()) > 0)
}

// originRequestPolicy edits the copy of the request sent to the origin (by a fill or a pass):
// the rewritten path, the request cookies stripped, the request field rules. Called on the
// request's goroutine, before the copy is handed to a fill goroutine.
func (p *pipeline) originRequestPolicy(x *exchange, rules *policy.Rules, o *fieldList) {
	if rules == nil {
		return
	}
	if rules.Rewrite != nil {
		uri := string(o.RequestURI())
		path, query, hasQuery := strings.Cut(uri, "?")
		if p := rules.Rewrite.Path(path); p != path {
			if hasQuery {
				p += "?" + query
			}
			o.SetRequestURI(p)
		}
	}
	if rules.Cookies != nil && rules.Cookies.StripRequest && safeMethod(x.req.Method()) && !bypassCache(rules, x.req) {
		// Not from the requests bypass_if passes (a logged-in user needs the session) nor
		// from unsafe methods (a form post may need it too): from every other request.
		o.Del("Cookie")
	}
	if rules.Request != nil {
		v := p.policyVars(x, rules, string(x.req.Host()), requestPath(x))
		buf := bufs.Get().(*scratch)
		buf.b = rules.Request.Apply(requestFieldsFold{listFieldsFold{o}}, &v, buf.b)
		bufs.Put(buf)
	}
}

// requestPath is the canonical path of the client's request (handle made its target
// canonical), without the query.
func requestPath(x *exchange) string {
	uri := x.req.RequestURI()
	if i := bytes.IndexByte(uri, '?'); i >= 0 {
		uri = uri[:i]
	}
	return string(uri)
}

// storePolicy applies the route's ttl, stale windows and strip_set_cookie to the decision
// RFC 9111 made for a response from the origin, and returns the header to store and serve.
// base is the node's httpcache.Policy, for the stale windows of a response the route makes
// storable.
func storePolicy(rules *policy.Rules, base httpcache.Policy, status int, header httpcache.Header, d httpcache.StoreDecision) (httpcache.StoreDecision, httpcache.Header) {
	if rules == nil {
		return d, header
	}
	var cc httpcache.Directives
	if rules.TTL != nil || rules.Stale != (policy.Stale{}) {
		cc = httpcache.ParseCacheControl(header.Values("Cache-Control"))
	}
	if rules.TTL != nil {
		explicit := cc.HasMaxAge || cc.HasSMaxAge || header.Has("Expires")
		switch {
		case d.Store:
			if life, _, ok := rules.TTL.Freshness(status, d.Lifetime, explicit); ok {
				d.Lifetime, d.Heuristic = life, false
			}
		case routeMayStore(d.Reason):
			// Negative caching and statuses RFC 9111 stores only with explicit freshness:
			// the operator's TTL is that freshness (nginx proxy_cache_valid).
			if life, storable, _ := rules.TTL.Freshness(status, 0, false); storable && life > 0 {
				d = httpcache.StoreDecision{Store: true, Lifetime: life, StaleWhileRevalidate: base.StaleWhileRevalidate,
					StaleIfError: base.StaleIfError, NoTransform: cc.NoTransform}
			}
		}
	}
	if d.Store && !d.MustRevalidate {
		if w := rules.Stale.WhileRevalidate; w > 0 && !cc.HasStaleWhileRevalidate {
			d.StaleWhileRevalidate = w
		}
		if w := rules.Stale.IfError; w > 0 && !cc.HasStaleIfError {
			d.StaleIfError = w
		}
	}
	if d.Store && rules.Cookies != nil && rules.Cookies.StripSetCookie && header.Has("Set-Cookie") {
		header = header.Clone()
		header.Del("Set-Cookie")
	}
	return d, header
}

// routeMayStore reports the refusals of httpcache.Storable that only say the origin gave no
// freshness; refusals for no-store, private, authorization or Vary: * stand.
func routeMayStore(reason string) bool {
	return statusOnly(reason) || reason == "stale on arrival without validator"
}

// statusOnly reports the refusal of httpcache.Storable for a status that is not cacheable
// without explicit freshness, and for nothing else (no-store, private, authorization and
// Vary: * are checked before it).
func statusOnly(reason string) bool {
	return strings.HasPrefix(reason, "status ") && strings.HasSuffix(reason, "not cacheable without explicit freshness")
}

// responsePolicy runs last in handle: the route's response field rules (on the node facing
// the client only) and the error pages for answers the node made itself. Every answer
// relayed from an origin or the store carries Cache-Status; one without it is the node's own.
func (p *pipeline) responsePolicy(x *exchange, pages *policy.ErrorPages, rules *policy.Rules) {
	status := x.resp.Head().StatusCode()
	if status >= 400 && pages != nil && len(x.resp.Head().Peek("Cache-Status")) == 0 {
		if page, ok := pages.Page(status); ok {
			usePage(x, page)
		}
	}
	if rules == nil || rules.Response == nil || x.forwarded {
		return
	}
	var v policy.Vars
	if rules.Response.Variables() {
		v = p.policyVars(x, rules, string(x.req.Host()), requestPath(x))
	}
	buf := bufs.Get().(*scratch)
	buf.b = rules.Response.Apply(foldFields(x.resp.Head()), &v, buf.b)
	bufs.Put(buf)
}

// maintenance answers every request 503 while error_pages.maintenance is on, with the 503
// page. It returns the rules of the route the request would have taken, so that handle adds
// that route's response fields as on the node's other answers (a Strict-Transport-Security
// the operator sets on every answer of a site must not go missing during maintenance); nil
// when the target is refused or matches no route.
func (p *pipeline) maintenance(x *exchange, rt *settings) *policy.Rules {
	plainError(x, http.StatusServiceUnavailable, "service unavailable: maintenance")
	x.resp.Head().Set("Retry-After", "60")
	if page, ok := rt.pages.Page(http.StatusServiceUnavailable); ok {
		usePage(x, page)
	}
	return rulesBeforeRouting(x, rt)
}

// rulesBeforeRouting are the rules of the route a request matches, for an answer the node
// makes before it routes (maintenance, the node-wide body limit): its target is parsed
// as handle parses it, and a target handle would refuse has no route.
func rulesBeforeRouting(x *exchange, rt *settings) *policy.Rules {
	hdr := x.req
	t, bad := parseTarget(x.scheme(), hdr.RequestURI(), x.host, x.hosts, hdr.Protocol())
	if bad != nil {
		return nil
	}
	return rt.rulesFor(rt.match(x.req.Method(), t.name, t.path))
}

// ownAnswerPolicy is responsePolicy for an answer made outside handle (fasthttp's
// ErrorHandler: a body over limits.max_body_bytes, a head too large, a timeout): the error
// page of its status and, when the head was read whole (413), the response fields of the
// route it matches.
func (p *pipeline) ownAnswerPolicy(x *exchange, headRead bool) {
	rt := p.rt.Load()
	if rt == nil {
		return
	}
	var rules *policy.Rules
	if headRead {
		rules = rulesBeforeRouting(x, rt)
	}
	var pages *policy.ErrorPages
	if len(rt.pages.Pages) > 0 {
		pages = &rt.pages
	}
	if rules != nil || pages != nil {
		p.responsePolicy(x, pages, rules)
	}
}

func usePage(x *exchange, page policy.Page) {
	if x.resp.BodyStream() != nil {
		x.resp.CloseBodyStream()
	}
	x.resp.Head().SetContentType(page.ContentType)
	if !x.resp.BodySkipped() {
		x.resp.SetBody(page.Body)
	}
}

// policyVars fills the variables the route's templates use; the others stay empty, so a
// route whose values are constant reads no address and formats nothing.
func (p *pipeline) policyVars(x *exchange, rules *policy.Rules, host, path string) policy.Vars {
	v := policy.Vars{Node: p.name, Host: host, Path: path, Prefix: rules.Prefix}
	if rules.Uses("client_ip") {
		if a := x.clientAddr(); a.IsValid() {
			v.ClientIP = a.String()
		}
	}
	if rules.Uses("request_id") {
		v.RequestID = requestID(x)
	}
	return v
}

// requestID is the request's id for ${request_id}: the client's X-Request-Id when it sent
// one, else a random one made once per request (nginx $request_id: 32 hex digits).
func requestID(x *exchange) string {
	if x.requestID != "" {
		return x.requestID
	}
	id := string(x.req.Peek("X-Request-Id"))
	if id == "" {
		id = hex64(rand.Uint64()) + hex64(rand.Uint64())
	}
	x.requestID = id
	return id
}

func hex64(x uint64) string {
	s := strconv.FormatUint(x, 16)
	return strings.Repeat("0", 16-len(s)) + s
}

// foldFields is h as policy.Fields with case-insensitive names. fasthttp's head gets a
// wrapper of its own, a pointer like fieldList, so that neither allocates when it becomes
// the interface value (a hit's rules run on every request).
func foldFields(h responseHead) policy.FieldsDropper {
	switch h := h.(type) {
	case http1Head:
		return h.folder()
	case *fieldList:
		return listFieldsFold{h}
	}
	return headFieldsFold{h}
}

// listFieldsFold is a fieldList as policy.FieldsDropper: its names match case-insensitively.
type listFieldsFold struct{ l *fieldList }

func (f listFieldsFold) Del(name string)                     { f.l.Del(name) }
func (f listFieldsFold) SetBytesV(name string, value []byte) { f.l.SetBytesV(name, value) }
func (f listFieldsFold) AddBytesV(name string, value []byte) { f.l.AddBytesV(name, value) }
func (f listFieldsFold) DelAll(names []string) {
	for _, name := range names {
		f.l.Del(name)
	}
}

// requestFieldsFold is listFieldsFold for the request the origin receives, whose Host is
// its authority kept apart from the fields and written first (AppendHead): a route that sets
// Host replaces it, as nginx's proxy_set_header Host and Varnish's req.http.host do, instead
// of a second Host line, which an origin must refuse (RFC 9112 section 3.2). conf refuses a
// rule that adds or removes Host.
type requestFieldsFold struct{ listFieldsFold }

func (f requestFieldsFold) SetBytesV(name string, value []byte) {
	if !f.setHost(name, value) {
		f.listFieldsFold.SetBytesV(name, value)
	}
}

// AddBytesV is how FieldEdits.Apply sets a field after dropping the set names (DelAll).
func (f requestFieldsFold) AddBytesV(name string, value []byte) {
	if !f.setHost(name, value) {
		f.listFieldsFold.AddBytesV(name, value)
	}
}

func (f requestFieldsFold) setHost(name string, value []byte) bool {
	if !strings.EqualFold(name, "Host") {
		return false
	}
	f.l.host = f.l.put(value).bytes(f.l)
	return true
}

// headFieldsFold is any other responseHead (none in the node today) through delResponseFold.
type headFieldsFold struct{ h responseHead }

func (f headFieldsFold) Del(name string) { delResponseFold(f.h, name) }
func (f headFieldsFold) SetBytesV(name string, value []byte) {
	delResponseFold(f.h, name)
	f.h.AddBytesV(name, value)
}
func (f headFieldsFold) AddBytesV(name string, value []byte) { f.h.AddBytesV(name, value) }
func (f headFieldsFold) DelAll(names []string) {
	for _, name := range names {
		delResponseFold(f.h, name)
	}
}

// listedFoldString reports whether k equals one of names, case-insensitively (RFC 9110
// section 5.1).
func listedFoldString(names []string, k []byte) bool {
	for _, name := range names {
		if len(k) == len(name) && strings.EqualFold(name, string(k)) {
			return true
		}
	}
	return false
}

// scratch is a reusable buffer for expanded templates.
type scratch struct{ b []byte }

var bufs = sync.Pool{New: func() any { return &scratch{b: make([]byte, 0, 256)} }}

// routeStats is one route as /stats.json shows it: what it matches, where it goes, and its
// policy as short lines (policy.Rules.Describe).
type routeStats struct {
	Index  int      `json:"index"`
	Match  string   `json:"match"`
	Origin string   `json:"origin"`
	Cache  bool     `json:"cache"`
	Policy []string `json:"policy"`
}

func routesStats(rt *settings) []routeStats {
	out := make([]routeStats, 0, len(rt.cfg.Routes))
	for i := range rt.cfg.Routes {
		rc := &rt.cfg.Routes[i]
		rs := routeStats{Index: i, Match: matchString(rc.Match), Origin: rc.Origin, Cache: rc.Cache, Policy: []string{}}
		if i < len(rt.rules) && rt.rules[i] != nil {
			rs.Policy = rt.rules[i].Describe()
		}
		if rc.CacheKey.SortParams {
			rs.Policy = append(rs.Policy, "cache_key sort_params")
		}
		out = append(out, rs)
	}
	return out
}

func matchString(m conf.Match) string {
	var parts []string
	if len(m.Host) > 0 {
		parts = append(parts, "host "+strings.Join(m.Host, ","))
	}
	if m.PathPrefix != "" {
		parts = append(parts, "path_prefix "+m.PathPrefix)
	}
	if m.PathRegex != "" {
		parts = append(parts, "path_regex "+m.PathRegex)
	}
	if len(m.Extensions) > 0 {
		parts = append(parts, "extensions "+strings.Join(m.Extensions, ","))
	}
	if len(m.Methods) > 0 {
		parts = append(parts, "methods "+strings.Join(m.Methods, ","))
	}
	if len(parts) == 0 {
		return "everything"
	}
	return strings.Join(parts, "; ")
}
