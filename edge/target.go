package edge

import (
	"bytes"
	"net/http"
	"strings"

	"github.com/shoal-cdn/shoal/cachestore"
)

// requestTarget is the canonical form of a request's target (RFC 9112 section 3.2): the one
// form that matches routes, builds the cache key (cachestore.Key) and is sent to the origin,
// so a key always describes the request the origin received. Only the equivalences of
// RFC 3986 section 6.2.2 are folded: host case, its trailing dot, the default port, the case
// of percent-encoding hex digits, percent-encoded unreserved characters, an empty path.
// "//", "%2F" and the "?" of an empty query are kept (RFC 3986 section 6.2.3: "http://h/?"
// cannot be assumed equivalent to "http://h/"); dot-segments are refused rather than
// resolved, since the node and the origin could resolve them differently.
type requestTarget struct {
	host  string // the authority as sent to the origin: lower case, ":port" unless default
	name  string // host without its port, what routes match
	path  string // starts with "/"
	query string // without "?"; "" when absent or empty
	// emptyQuery: the target ends in a "?" with nothing after it, kept in the target and
	// the key (keyPath). Before, "/a?" was sent and keyed as "/a": another request than
	// the client's, answered from the other's object.
	emptyQuery bool
	target     string // path, and "?" query unless absent: the origin-form sent to the origin
}

// keyPath is the path as the key writes it: with the "?" of an empty query, which
// cachestore.Key, given no query, would not write.
func (t *requestTarget) keyPath() string {
	if t.emptyQuery {
		return t.target // path + "?"
	}
	return t.path
}

// uri is the origin-form target sent to the origin.
func (t *requestTarget) uri() string { return t.target }

// setQuery replaces the query (a route's sort_params) and the target with it.
func (t *requestTarget) setQuery(q string) {
	if q == t.query {
		return
	}
	t.query, t.emptyQuery = q, false // a policy that removed every parameter sends none
	t.target = t.path
	if q != "" {
		t.target = t.path + "?" + q
	}
}

// targetError is a request the node refuses before routing it: a client's mistake, answered
// with status and the connection closed, that never reaches an origin.
type targetError struct {
	status int
	reason string // metrics label
	msg    string
}

// parseTarget builds the canonical target of a request from its raw request-target and its
// Host field lines (RFC 9112 section 3.2): 400 for an HTTP/1.1 request without Host, with two
// Host fields or an invalid one, for userinfo, a fragment, a bad percent-encoding, a
// backslash or a dot-segment in the path. The authority of an absolute-form target wins over
// Host (RFC 9112 section 3.2.2); an HTTP/1.0 request without either is refused too. scheme
// is the scheme the client used; proto the request's protocol as the exchange holds it
// ("HTTP/1.0", "HTTP/1.1" or "HTTP/2.0"), which words the refusal (targetTerms).
func parseTarget(scheme string, raw []byte, host []byte, hosts int, proto []byte) (requestTarget, *targetError) {
	return parseTargetIn(nil, scheme, raw, host, hosts, proto)
}

// parseTargetIn is parseTarget with the target's strings borrowed from sc (see
// requestScratch): handle's form, which allocates nothing for a target already canonical.
func parseTargetIn(sc *requestScratch, scheme string, raw []byte, host []byte, hosts int, proto []byte) (requestTarget, *targetError) {
	var t requestTarget
	terms := targetTerms(proto)
	bad := func(msg string) (requestTarget, *targetError) {
		return requestTarget{}, &targetError{status: http.StatusBadRequest, reason: "bad_target", msg: "bad request: " + msg}
	}
	var herr *targetError
	if t.host, t.name, herr = hostField(sc, scheme, host, hosts, proto); herr != nil {
		return requestTarget{}, herr
	}
	if bytes.IndexByte(raw, '#') >= 0 {
		return bad("a " + terms.target + " has no fragment")
	}
	switch {
	case len(raw) > 0 && raw[0] == '/':
	case hasPrefixFold(raw, "http://") || hasPrefixFold(raw, "https://"):
		raw = raw[bytes.Index(raw, []byte("://"))+3:]
		end := bytes.IndexAny(raw, "/?")
		if end < 0 {
			end = len(raw)
		}
		authority := raw[:end]
		if bytes.IndexByte(authority, '@') >= 0 {
			return bad("userinfo in the request-target")
		}
		h, name, ok := normalAuthority(sc, scheme, authority)
		if !ok {
			return bad("invalid authority in the request-target")
		}
		t.host, t.name = h, name
		raw = raw[end:]
	default:
		return bad(terms.target + " must be " + terms.forms)
	}
	if t.host == "" {
		// HTTP/1.0 allows it, but an http URI has a host (RFC 9110 section 4.2.1): without
		// one there is nothing to route, key or send as Host.
		return bad("a request needs a Host field or an absolute-form target")
	}
	if problem := badComponent(raw); problem != "" {
		return bad(problem + " in the " + terms.target)
	}
	// One string for the whole target: path and query are slices of it, and it is the
	// target itself whenever nothing is folded (the common request allocates once here).
	rest := sc.str(raw)
	path, query, hasQuery := rest, "", false
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		path, query, hasQuery = rest[:i], rest[i+1:], true
	}
	if path == "" {
		path = "/"
	}
	t.path = cachestore.FoldPercent(escapePath(path))
	t.query = cachestore.FoldPercent(query)
	if hasDotSegment(t.path) {
		return bad("dot-segment in the path")
	}
	if strings.IndexByte(t.path, '\\') >= 0 {
		return bad("backslash in the path")
	}
	t.emptyQuery = hasQuery && t.query == ""
	switch {
	case !hasQuery && t.path == rest:
		t.target = rest
	case hasQuery && len(rest) == len(t.path)+1+len(t.query) && rest[:len(t.path)] == t.path && rest[len(t.path)+1:] == t.query:
		t.target = rest
	case !hasQuery:
		t.target = t.path
	default:
		t.target = t.path + "?" + t.query
	}
	return t, nil
}

// hostField checks a request's Host field lines as RFC 9112 section 3.2 asks of every
// request, whatever its target (OPTIONS * too): 400 for an HTTP/1.1 request without one,
// with two, or with an invalid one; an HTTP/2 request's host is its :authority (or its host
// field), which an http or https URI cannot do without (RFC 9113 section 8.3.1, RFC 9110
// section 4.2.1). host and name are its canonical form, "" without one.
func hostField(sc *requestScratch, scheme string, raw []byte, hosts int, proto []byte) (host, name string, err *targetError) {
	terms := targetTerms(proto)
	bad := func(msg string) (string, string, *targetError) {
		return "", "", &targetError{status: http.StatusBadRequest, reason: "bad_target", msg: "bad request: " + msg}
	}
	switch {
	case hosts > 1:
		return bad("more than one " + terms.host)
	case hosts == 0 && terms.hostRequired != "":
		return bad(terms.hostRequired)
	case hosts == 0:
		return "", "", nil
	}
	host, name, ok := normalAuthority(sc, scheme, raw)
	if !ok || len(raw) == 0 {
		return bad("invalid " + terms.host)
	}
	return host, name, nil
}

// escapePath percent-encodes the bytes a client may send raw but no URI path may hold
// (RFC 3986 section 3.3): non-ASCII (UTF-8 sent unencoded) and " < > ^ ` { | }. Their
// encoded form is the only valid spelling, the one a purge of the URL computes (net/url
// encodes them too) and what the origin is sent. The query is kept as sent, as purges keep it.
func escapePath(p string) string {
	n := 0
	for i := 0; i < len(p); i++ {
		if mustEscape(p[i]) {
			n++
		}
	}
	if n == 0 {
		return p
	}
	const hex = "0123456789ABCDEF"
	b := make([]byte, 0, len(p)+2*n)
	for i := 0; i < len(p); i++ {
		if c := p[i]; mustEscape(c) {
			b = append(b, '%', hex[c>>4], hex[c&15])
		} else {
			b = append(b, c)
		}
	}
	return string(b)
}

func mustEscape(c byte) bool {
	return c >= 0x80 || strings.IndexByte("\"<>^`{|}", c) >= 0
}

// badComponent finds percent-encodings that are not '%' and two hex digits, and bytes no
// URI may carry (controls, space, DEL).
func badComponent(s []byte) string {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c <= ' ' || c == 0x7f:
			return "control character or space"
		case c == '%':
			if i+2 >= len(s) || !isHexDigit(s[i+1]) || !isHexDigit(s[i+2]) {
				return "invalid percent-encoding"
			}
		}
	}
	return ""
}

func isHexDigit(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// hasDotSegment reports a "." or ".." segment, also with a ";parameter" (which Tomcat and
// Jetty resolve as one), in a folded path: "%2E" is unreserved and already decoded.
func hasDotSegment(p string) bool {
	for p != "" {
		seg := p
		if i := strings.IndexByte(p, '/'); i >= 0 {
			seg, p = p[:i], p[i+1:]
		} else {
			p = ""
		}
		if i := strings.IndexByte(seg, ';'); i >= 0 {
			seg = seg[:i]
		}
		if seg == "." || seg == ".." {
			return true
		}
	}
	return false
}

func hasPrefixFold(b []byte, prefix string) bool {
	return len(b) >= len(prefix) && strings.EqualFold(string(b[:len(prefix)]), prefix)
}
