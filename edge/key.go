package edge

import (
	"bytes"
	"net"
	"net/url"
	"sort"
	"strings"

	"github.com/valyala/fasthttp"
)

// cacheKey is the primary cache key: scheme, lower-case host without its default port, the
// path as sent, and the query with its parameters sorted, so that ?a=1&b=2 and ?b=2&a=1 are
// one object. It is also what URL and prefix purges match.
func cacheKey(scheme, host, path, query string) string {
	host = normalHost(scheme, host)
	var b strings.Builder
	b.Grow(len(scheme) + 3 + len(host) + len(path) + 1 + len(query))
	b.WriteString(scheme)
	b.WriteString("://")
	b.WriteString(host)
	if path == "" {
		path = "/"
	}
	b.WriteString(path)
	if q := normalQuery(query); q != "" {
		b.WriteByte('?')
		b.WriteString(q)
	}
	return b.String()
}

// keyForURL builds the primary key of an absolute URL (purges, invalidation targets).
func keyForURL(raw string) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", false
	}
	return cacheKey(u.Scheme, u.Host, u.EscapedPath(), u.RawQuery), true
}

func normalHost(scheme, host string) string {
	host = strings.ToLower(host)
	if h, port, err := net.SplitHostPort(host); err == nil {
		if scheme == "http" && port == "80" || scheme == "https" && port == "443" {
			host = h
			if strings.Contains(h, ":") {
				host = "[" + h + "]"
			}
		}
	}
	return host
}

// normalQuery sorts the parameters by name, keeping the order of repeated names, so the key
// does not depend on the order a client wrote them in. Parameters are compared as sent.
func normalQuery(q string) string {
	if q == "" || !strings.Contains(q, "&") {
		return q
	}
	parts := strings.Split(q, "&")
	kept := parts[:0]
	for _, p := range parts {
		if p != "" {
			kept = append(kept, p)
		}
	}
	sort.SliceStable(kept, func(i, j int) bool { return paramName(kept[i]) < paramName(kept[j]) })
	return strings.Join(kept, "&")
}

func paramName(p string) string {
	if i := strings.IndexByte(p, '='); i >= 0 {
		return p[:i]
	}
	return p
}

// requestKey is cacheKey of the request in ctx. The common request (a lower-case host
// without a port, a query with at most one parameter) is built with a single allocation;
// anything else goes through cacheKey, so both always agree.
func requestKey(ctx *fasthttp.RequestCtx) string {
	s, host, path, query := scheme(ctx), ctx.Host(), ctx.Path(), ctx.URI().QueryString()
	if !plainHost(host) || !sortedQuery(query) {
		return cacheKey(s, string(host), string(path), string(query))
	}
	var stack [256]byte
	b := append(stack[:0], s...)
	b = append(b, "://"...)
	b = append(b, host...)
	if len(path) == 0 {
		b = append(b, '/')
	}
	b = append(b, path...)
	if len(query) > 0 {
		b = append(b, '?')
		b = append(b, query...)
	}
	return string(b)
}

// sortedQuery reports whether normalQuery would return q unchanged: no empty parameter and
// names already in order (the stable sort then keeps every parameter where it is).
func sortedQuery(q []byte) bool {
	var prev []byte
	for first := true; ; first = false {
		i := bytes.IndexByte(q, '&')
		p := q
		if i >= 0 {
			p = q[:i]
		}
		if i < 0 && first {
			return true // one parameter, or none: normalQuery keeps it as sent
		}
		if len(p) == 0 {
			return false
		}
		name := p
		if j := bytes.IndexByte(p, '='); j >= 0 {
			name = p[:j]
		}
		if bytes.Compare(name, prev) < 0 {
			return false
		}
		prev = name
		if i < 0 {
			return true
		}
		q = q[i+1:]
	}
}

// plainHost reports whether normalHost would return host unchanged: no upper case, no port.
func plainHost(host []byte) bool {
	for _, c := range host {
		if 'A' <= c && c <= 'Z' || c == ':' {
			return false
		}
	}
	return true
}
