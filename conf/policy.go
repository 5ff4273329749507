package conf

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shoal-cdn/shoal/edge/policy"
	"gopkg.in/yaml.v3"
)

// RoutePolicy is the operator's policy of a route (issue 17): the keys a route and the
// top-level `policy:` block share. A route inherits each section (ttl, stale, cache_key,
// cookies, headers, access, max_body_bytes) of `policy:` that it does not write itself; a
// section it writes replaces the default whole, so a route can turn a default off by writing
// the section empty (`headers: {}`).
type RoutePolicy struct {
	TTL          TTL      `yaml:"ttl"`
	Stale        Stale    `yaml:"stale"`
	CacheKey     CacheKey `yaml:"cache_key"`
	Cookies      Cookies  `yaml:"cookies"`
	Headers      Headers  `yaml:"headers"`
	Access       Access   `yaml:"access"`
	MaxBodyBytes Size     `yaml:"max_body_bytes"` // request body limit on the route (413); 0 means limits.max_body_bytes
}

// TTL is the operator's freshness: by status when the origin gives none (nginx
// proxy_cache_valid), Override to ignore the origin's, Min and Max to clamp it. Durations take
// a "d" for days too: 1d, 7d.
type TTL struct {
	Status   map[int]Duration `yaml:"status"`
	Override bool             `yaml:"override"`
	Min      Duration         `yaml:"min"`
	Max      Duration         `yaml:"max"`
}

// Stale holds the route's stale windows (RFC 5861) when the origin states none; 0 keeps the
// cache section's.
type Stale struct {
	WhileRevalidate Duration `yaml:"while_revalidate"`
	IfError         Duration `yaml:"if_error"`
}

// Cookies is the route's cookie handling.
type Cookies struct {
	StripRequest   bool     `yaml:"strip_request"`    // Cookie removed before the origin
	StripSetCookie bool     `yaml:"strip_set_cookie"` // Set-Cookie removed from storable responses
	BypassIf       []string `yaml:"bypass_if"`        // cookie names or prefix*; present: pass
}

// Headers are the field rules of a route.
type Headers struct {
	Request  FieldRules `yaml:"request"`  // before the origin
	Response FieldRules `yaml:"response"` // before the client
}

// FieldRules edit one message: remove, then set, then add. Values take ${client_ip} ${node}
// ${request_id} ${host} ${path} ${path_after_prefix}.
type FieldRules struct {
	Set    map[string]string `yaml:"set"`
	Add    map[string]string `yaml:"add"`
	Remove []string          `yaml:"remove"`
}

// Access lists the clients of a route: deny wins, then a non-empty allow must match (403).
type Access struct {
	Allow []string `yaml:"allow"`
	Deny  []string `yaml:"deny"`
}

// Rewrite changes the path before the origin; the cache key follows the rewritten target.
type Rewrite struct {
	StripPrefix string `yaml:"strip_prefix"`
	AddPrefix   string `yaml:"add_prefix"` // put in front after strip_prefix: both replace a prefix
}

// Redirect answers the route itself. Without regex, ${path_after_prefix} is the path after
// match.path_prefix; with regex, $1..$9 are its groups. Status 301 (default), 302, 303, 307, 308.
type Redirect struct {
	To     string `yaml:"to"`
	Regex  string `yaml:"regex"`
	Status int    `yaml:"status"`
}

// ErrorPages are the bodies of the answers the node makes itself, by status (403, 413, 429,
// 502, 503, 504), read from files by Load, and the maintenance switch: with maintenance: true
// every data-plane request is answered 503 (with the 503 page), until a reload turns it off.
type ErrorPages struct {
	Files       map[int]string
	Maintenance bool
	Pages       map[int]policy.Page // filled by Load
	lines       map[int]int
}

// UnmarshalYAML reads `{502: file, 503: file, maintenance: false}`: status keys and one
// named key in the same mapping.
func (e *ErrorPages) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return badValue(n, "want a mapping of status: file and maintenance: true|false")
	}
	e.Files, e.lines = map[int]string{}, map[int]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Value == "maintenance" {
			b, err := strconv.ParseBool(val.Value)
			if err != nil || val.Kind != yaml.ScalarNode {
				return badValue(val, fmt.Sprintf("%q: true or false", val.Value))
			}
			e.Maintenance = b
			continue
		}
		status, err := strconv.Atoi(k.Value)
		if err != nil || !policy.ValidErrorPageStatus(status) {
			return badValue(val, fmt.Sprintf("%q: a status the node answers itself (403, 413, 429, 502, 503, 504) or maintenance", k.Value))
		}
		if val.Kind != yaml.ScalarNode || val.Value == "" {
			return badValue(val, "want the file name of the page")
		}
		e.Files[status], e.lines[status] = val.Value, val.Line
	}
	return nil
}

// Policy returns the route's compiled-ready policy (defaults already merged by Load).
func (r *Route) Policy() policy.Config {
	p := policy.Config{
		TTL:   policy.TTL{Override: r.TTL.Override, Min: r.TTL.Min.D(), Max: r.TTL.Max.D()},
		Stale: policy.Stale{WhileRevalidate: r.Stale.WhileRevalidate.D(), IfError: r.Stale.IfError.D()},
		Key: policy.Key{IgnoreParams: r.CacheKey.IgnoreParams, IncludeHeaders: r.CacheKey.IncludeHeaders,
			IncludeCookies: r.CacheKey.IncludeCookies, IgnoreHost: r.CacheKey.IgnoreHost},
		Cookies:      policy.Cookies(r.Cookies),
		Request:      policy.FieldRules(r.Headers.Request),
		Response:     policy.FieldRules(r.Headers.Response),
		Rewrite:      policy.Rewrite(r.Rewrite),
		Redirect:     policy.Redirect(r.Redirect),
		MaxBodyBytes: int64(r.MaxBodyBytes),
		PathPrefix:   r.Match.PathPrefix,
	}
	if len(r.TTL.Status) > 0 {
		p.TTL.Status = make(map[int]time.Duration, len(r.TTL.Status))
		for s, d := range r.TTL.Status {
			p.TTL.Status[s] = d.D()
		}
	}
	p.Access.Allow = prefixes(r.Access.Allow)
	p.Access.Deny = prefixes(r.Access.Deny)
	return p
}

// ErrorPagesPolicy returns the error pages as the edge uses them.
func (c *Config) ErrorPagesPolicy() policy.ErrorPages {
	return policy.ErrorPages{Pages: c.ErrorPages.Pages, Maintenance: c.ErrorPages.Maintenance}
}

func prefixes(list []string) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range list {
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// inherit copies each section of the top-level policy block that route i does not write.
func (v *validator) inherit(key string, r *Route, d *RoutePolicy) {
	has := func(section string) bool { _, ok := v.pos.lines[key+"."+section]; return ok }
	if !has("ttl") {
		r.TTL = d.TTL
	}
	if !has("stale") {
		r.Stale = d.Stale
	}
	if !has("cache_key") {
		r.CacheKey = d.CacheKey
	}
	if !has("cookies") {
		r.Cookies = d.Cookies
	}
	if !has("headers") {
		r.Headers = d.Headers
	}
	if !has("access") {
		r.Access = d.Access
	}
	if !has("max_body_bytes") {
		r.MaxBodyBytes = d.MaxBodyBytes
	}
}

// policyBlock checks the top-level policy block, under the keys the user wrote there
// (policy.…), including its body limit against the node's.
func (v *validator) policyBlock(p *RoutePolicy, l *Limits) {
	v.routePolicy("policy", p)
	v.bodyLimit("policy", p.MaxBodyBytes, l)
}

// routePolicy checks the policy keys of a route (or of the policy block, key "policy").
// A route's sections are checked only where the route writes them: an inherited section
// was checked once as policy.…, and an error repeated under routes[i].… would name a key
// and a line the file does not have.
func (v *validator) routePolicy(key string, p *RoutePolicy) {
	writes := func(section string) bool {
		if key == "policy" {
			return true
		}
		_, ok := v.pos.lines[key+"."+section]
		return ok
	}
	if writes("ttl") {
		for _, s := range sortedInts(p.TTL.Status) {
			if s < 100 || s > 599 {
				v.fail(fmt.Sprintf("%s.ttl.status.%d", key, s), "%d is not an HTTP status (100..599)", s)
			}
		}
		if p.TTL.Max > 0 && p.TTL.Min > p.TTL.Max {
			v.fail(key+".ttl.min", "%s is above ttl.max %s", p.TTL.Min, p.TTL.Max)
		}
	}
	if writes("cache_key") {
		v.globs(key+".cache_key.ignore_params", p.CacheKey.IgnoreParams)
		v.tokens(key+".cache_key.include_headers", p.CacheKey.IncludeHeaders)
		v.tokens(key+".cache_key.include_cookies", p.CacheKey.IncludeCookies)
	}
	if writes("cookies") {
		v.globs(key+".cookies.bypass_if", p.Cookies.BypassIf)
	}
	if writes("headers") {
		v.fieldRules(key+".headers.request", p.Headers.Request, true)
		v.fieldRules(key+".headers.response", p.Headers.Response, false)
	}
	if writes("access") {
		v.access(key, &p.Access)
	}
}

func (v *validator) access(key string, a *Access) {
	v.cidrs(key+".access.allow", a.Allow)
	v.cidrs(key+".access.deny", a.Deny)
	allow, deny := prefixes(a.Allow), prefixes(a.Deny)
	if ap, dp, ok := policy.Overlap(allow, deny); ok {
		for i, s := range a.Deny {
			if p, err := netip.ParsePrefix(s); err == nil && p == dp {
				v.fail(fmt.Sprintf("%s.access.deny[%d]", key, i), "%s overlaps allow %s: write the narrower exception as its own route", dp, ap)
				break
			}
		}
	}
}

// bodyLimit checks a max_body_bytes against the node's limit: a larger body is refused
// before any route is matched, so the key could never take effect.
func (v *validator) bodyLimit(key string, max Size, l *Limits) {
	if max > l.MaxBodyBytes {
		v.fail(key+".max_body_bytes", "%s is above limits.max_body_bytes %s: larger bodies are refused before routing", max, l.MaxBodyBytes)
	}
}

// globs checks names that may end in "*" (a prefix) or be "*" alone.
func (v *validator) globs(key string, list []string) {
	for i, g := range list {
		name := strings.TrimSuffix(g, "*")
		if g == "" || strings.Contains(name, "*") || strings.ContainsAny(name, " =;&") {
			v.fail(fmt.Sprintf("%s[%d]", key, i), "%q: a name, a prefix written name*, or *", g)
		}
	}
}

func (v *validator) tokens(key string, list []string) {
	for i, t := range list {
		if !validToken(t) {
			v.fail(fmt.Sprintf("%s[%d]", key, i), "%q is not a field or cookie name", t)
		}
	}
}

// managedFields are the fields a route may not set or add: the message's framing and the
// connection's own fields (RFC 9110 section 7.6.1), which the node writes from what it
// sends and each hop decides for itself; a rule's Content-Length next to the node's is a
// request smuggled past the origin (RFC 9112 section 6.3).
var managedFields = []string{"Content-Length", "Transfer-Encoding", "Connection", "Keep-Alive",
	"Proxy-Connection", "TE", "Trailer", "Upgrade"}

// fieldRules checks a headers.request (request true) or headers.response block.
func (v *validator) fieldRules(key string, f FieldRules, request bool) {
	for _, kind := range []struct {
		name string
		m    map[string]string
	}{{"set", f.Set}, {"add", f.Add}} {
		for _, name := range sortedKeys(kind.m) {
			k := key + "." + kind.name + "." + name
			if !validToken(name) {
				v.fail(k, "%q is not a field name", name)
			}
			if i := slices.IndexFunc(managedFields, func(m string) bool { return strings.EqualFold(m, name) }); i >= 0 {
				v.fail(k, "%s is written by the node from the message and the connection, not by a route", managedFields[i])
			}
			if request && kind.name == "add" && strings.EqualFold(name, "Host") {
				v.fail(k, "a request has one Host (RFC 9112 section 3.2): set it instead")
			}
			if _, err := policy.ParseTemplate(kind.m[name], false); err != nil {
				v.fail(k, "%v", err)
			}
			if strings.ContainsAny(kind.m[name], "\r\n") {
				v.fail(k, "a field value has no line breaks")
			}
		}
	}
	for i, name := range f.Remove {
		if !validToken(name) {
			v.fail(fmt.Sprintf("%s.remove[%d]", key, i), "%q is not a field name", name)
		}
		if request && strings.EqualFold(name, "Host") {
			v.fail(fmt.Sprintf("%s.remove[%d]", key, i), "an HTTP/1.1 request must carry Host (RFC 9112 section 3.2)")
		}
	}
}

// routeOwn checks the keys only a route has (rewrite, redirect) and the body limit it writes
// itself (an inherited one was checked as policy.max_body_bytes).
func (v *validator) routeOwn(key string, r *Route, l *Limits) {
	if _, ok := v.pos.lines[key+".max_body_bytes"]; ok {
		v.bodyLimit(key, r.MaxBodyBytes, l)
	}
	if rw := r.Rewrite; rw.StripPrefix != "" || rw.AddPrefix != "" {
		if rw.StripPrefix != "" && !strings.HasPrefix(rw.StripPrefix, "/") {
			v.fail(key+".rewrite.strip_prefix", "%q must start with /", rw.StripPrefix)
		}
		if rw.AddPrefix != "" && !strings.HasPrefix(rw.AddPrefix, "/") {
			v.fail(key+".rewrite.add_prefix", "%q must start with /", rw.AddPrefix)
		}
	}
	rd := r.Redirect
	if !v.hasRedirect(key, r) {
		return
	}
	if rd.To == "" {
		v.fail(key+".redirect.to", "missing: a redirect needs a target")
	} else if _, err := policy.ParseTemplate(rd.To, rd.Regex != ""); err != nil {
		v.fail(key+".redirect.to", "%v", err)
	}
	if rd.Status != 0 && !policy.ValidRedirectStatus(rd.Status) {
		v.fail(key+".redirect.status", "%d: one of 301, 302, 303, 307, 308", rd.Status)
	}
	if _, err := policy.Compile(policy.Config{Redirect: policy.Redirect(rd)}); err != nil && rd.Regex != "" && strings.Contains(err.Error(), "regex") {
		v.fail(key+".redirect.regex", "%v", err)
	}
	if r.Cache {
		v.fail(key+".cache", "a redirect route answers itself: nothing to cache")
	}
}

// hasRedirect reports whether the route writes a redirect block (even an empty one).
func (v *validator) hasRedirect(key string, r *Route) bool {
	if r.Redirect != (Redirect{}) {
		return true
	}
	_, ok := v.pos.lines[key+".redirect"]
	return ok
}

// errorPages reads the page files.
func (v *validator) errorPages(e *ErrorPages) {
	if len(e.Files) == 0 {
		return
	}
	e.Pages = map[int]policy.Page{}
	for _, status := range sortedInts(e.Files) {
		file := v.resolve(e.Files[status])
		data, err := ReadFile(file, MaxPageBytes, "an error page")
		if err != nil {
			v.errs = append(v.errs, &Error{File: v.file, Line: e.lines[status], Key: fmt.Sprintf("error_pages.%d", status), Msg: err.Error()})
			continue
		}
		e.Pages[status] = policy.NewPage(file, data)
	}
}

func sortedInts[V any](m map[int]V) []int {
	out := make([]int, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}
