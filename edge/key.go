package edge

import (
	"bytes"

	"github.com/shoal-cdn/shoal/cachestore"
	"github.com/valyala/fasthttp"
)

// cacheKey is the store's primary key (cachestore.Key): the one definition edge and purge share.
func cacheKey(scheme, host, path, query string) string {
	return cachestore.Key(scheme, host, path, query)
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

// sortedQuery reports whether cachestore.Key would keep q as sent: no empty parameter and
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

// plainHost reports whether cachestore.NormalHost would return host unchanged: no upper case, no port.
func plainHost(host []byte) bool {
	for _, c := range host {
		if 'A' <= c && c <= 'Z' || c == ':' {
			return false
		}
	}
	return true
}
