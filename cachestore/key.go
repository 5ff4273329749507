package cachestore

import (
	"net"
	"sort"
	"strings"
)

// Key is an object's primary key, what Object.URL holds and URL and prefix purges match:
// "scheme://host/path?query" with the host lower-cased and its default port dropped, the path
// as sent (an empty path read as "/"), and the query parameters sorted by name, repeated names
// keeping their order and empty parameters dropped, so that ?a=1&b=2 and ?b=2&a=1 are one
// object. The edge keys requests and purge keys URLs with this one function.
func Key(scheme, host, path, query string) string {
	host = NormalHost(scheme, host)
	var b strings.Builder
	b.Grow(len(scheme) + 3 + len(host) + len(path) + 1 + len(query))
	b.WriteString(scheme)
	b.WriteString("://")
	b.WriteString(host)
	if path == "" {
		path = "/"
	}
	b.WriteString(path)
	if q := sortQuery(query); q != "" {
		b.WriteByte('?')
		b.WriteString(q)
	}
	return b.String()
}

// NormalHost lower-cases host and drops the scheme's default port.
func NormalHost(scheme, host string) string {
	host = strings.ToLower(host)
	h, port, err := net.SplitHostPort(host)
	if err != nil {
		return host
	}
	if scheme == "http" && port == "80" || scheme == "https" && port == "443" {
		if strings.Contains(h, ":") {
			return "[" + h + "]"
		}
		return h
	}
	return host
}

// sortQuery orders parameters by name, stable for repeated names; parameters are compared
// as sent, not decoded.
func sortQuery(q string) string {
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
	name, _, _ := strings.Cut(p, "=")
	return name
}
