package edge

import (
	"net"
	"net/url"
	"sort"
	"strings"
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
