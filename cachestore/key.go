package cachestore

import (
	"net"
	"sort"
	"strconv"
	"strings"
)

// Key is an object's primary key, what Object.URL holds and URL and prefix purges match:
// "scheme://host/path?query", folded only by the equivalences of RFC 3986 section 6.2.2 that
// every origin must honour: the host lower-cased, its trailing dot and the scheme's default
// port dropped (NormalHost), percent-encoded unreserved characters decoded and the hex digits
// of the other escapes upper-cased (FoldPercent), an empty path read as "/". Nothing else is
// folded: "//", "%2F", the order of query parameters and the "?" of an empty query (RFC 3986
// section 6.2.3; passed as the last byte of path, as an empty query writes no "?") are kept,
// because an origin may answer each spelling differently. The edge sends origins exactly this
// form, so a key always describes the request the origin received (a route's sort_params
// sorts the query with SortQuery before both). The edge keys requests and purge keys URLs
// with this one function.
func Key(scheme, host, path, query string) string {
	host = NormalHost(scheme, host)
	path, query = FoldPercent(path), FoldPercent(query)
	var b strings.Builder
	b.Grow(len(scheme) + 3 + len(host) + len(path) + 1 + len(query))
	b.WriteString(scheme)
	b.WriteString("://")
	b.WriteString(host)
	if path == "" {
		path = "/"
	}
	b.WriteString(path)
	if query != "" {
		b.WriteByte('?')
		b.WriteString(query)
	}
	return b.String()
}

// NormalHost lower-cases host, drops one trailing dot of its name (a fully qualified DNS
// name is the same host), leading zeros of its port and the scheme's default port.
func NormalHost(scheme, host string) string {
	host = strings.ToLower(host) // no copy when already lower case
	if strings.IndexByte(host, ':') < 0 {
		// No port: the common case, without SplitHostPort's error value.
		return strings.TrimSuffix(host, ".")
	}
	h, port, err := net.SplitHostPort(host)
	if err != nil {
		return strings.TrimSuffix(host, ".")
	}
	h = strings.TrimSuffix(h, ".")
	if p, err := strconv.Atoi(port); err == nil && len(port) <= 5 {
		port = strconv.Itoa(p)
	}
	if port == "" || scheme == "http" && port == "80" || scheme == "https" && port == "443" {
		port = ""
	}
	if strings.Contains(h, ":") {
		h = "[" + h + "]"
	}
	if port == "" {
		return h
	}
	return h + ":" + port
}

// FoldPercent applies the percent-encoding normalisation of RFC 3986 section 6.2.2.2 to a
// path or query: "%7e" and "%7E" become "~" (unreserved characters decoded), "%2f" becomes
// "%2F" (hex upper-cased, never decoded: a reserved character and its escape differ). A '%'
// not followed by two hex digits is kept as sent; the edge refuses such targets before they
// are keyed. s is returned unchanged, without allocating, when it is already folded.
func FoldPercent(s string) string {
	i := strings.IndexByte(s, '%')
	for i >= 0 && i+2 < len(s) && !foldable(s[i+1], s[i+2]) {
		j := strings.IndexByte(s[i+1:], '%')
		if j < 0 {
			return s
		}
		i += 1 + j
	}
	if i < 0 || i+2 >= len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:i])
	for ; i < len(s); i++ {
		c := s[i]
		if c != '%' || i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
			b.WriteByte(c)
			continue
		}
		d := unhex(s[i+1])<<4 | unhex(s[i+2])
		if Unreserved(d) {
			b.WriteByte(d)
		} else {
			b.WriteByte('%')
			b.WriteByte(upperHex(s[i+1]))
			b.WriteByte(upperHex(s[i+2]))
		}
		i += 2
	}
	return b.String()
}

// foldable reports whether the escape %hl would change under FoldPercent.
func foldable(h, l byte) bool {
	if !isHex(h) || !isHex(l) {
		return false
	}
	return Unreserved(unhex(h)<<4|unhex(l)) || 'a' <= h && h <= 'f' || 'a' <= l && l <= 'f'
}

// Unreserved reports the unreserved characters of RFC 3986 section 2.3.
func Unreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

func upperHex(c byte) byte {
	if 'a' <= c && c <= 'f' {
		return c - 'a' + 'A'
	}
	return c
}

// SortQuery orders parameters by name, stable for repeated names, and drops empty ones;
// parameters are compared as sent, not decoded. It is the opt-in of a route's
// cache_key.sort_params: the edge sends the origin the sorted query it keys.
func SortQuery(q string) string {
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
