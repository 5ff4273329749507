package purge

import (
	"fmt"
	"net"
	"net/url"
	"sort"
	"strings"
)

// KeyForURL builds the store's primary key of an absolute http or https URL:
// "scheme://host/path?query" with the host lower-cased and its default port dropped, the path
// as sent (escaped), an empty path read as "/", the fragment dropped and the query parameters
// sorted by name (repeated names keep their order, empty parameters are dropped). The edge keys
// objects with the same rules, so a URL purge finds every variant of what the edge stored.
func KeyForURL(raw string) (string, error) {
	u, err := parseAbsolute(raw)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.Grow(len(raw))
	writeOrigin(&b, u)
	b.WriteString(pathOf(u))
	if q := sortedQuery(u.RawQuery); q != "" {
		b.WriteByte('?')
		b.WriteString(q)
	}
	return b.String(), nil
}

// prefixKey normalises the scheme and host of a prefix like KeyForURL, but keeps its path and
// query as written: sorting a partial query would change what the prefix means.
func prefixKey(raw string) (string, error) {
	u, err := parseAbsolute(raw)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	writeOrigin(&b, u)
	b.WriteString(pathOf(u))
	if u.RawQuery != "" || u.ForceQuery {
		b.WriteByte('?')
		b.WriteString(u.RawQuery)
	}
	return b.String(), nil
}

func parseAbsolute(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, errorf("%q has no http:// or https:// scheme", raw)
	}
	if u.Hostname() == "" {
		return nil, errorf("%q has no host", raw)
	}
	return u, nil
}

func writeOrigin(b *strings.Builder, u *url.URL) {
	b.WriteString(u.Scheme)
	b.WriteString("://")
	b.WriteString(normalHost(u.Scheme, u.Host))
}

func pathOf(u *url.URL) string {
	if p := u.EscapedPath(); p != "" {
		return p
	}
	return "/"
}

func normalHost(scheme, host string) string {
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

// sortedQuery orders parameters by name, stable for repeated names, so the key does not depend
// on the order a client wrote them in. Parameters are compared as sent, not decoded.
func sortedQuery(q string) string {
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
