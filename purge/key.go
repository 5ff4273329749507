package purge

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/shoal-cdn/shoal/cachestore"
)

// KeyForURL builds the store's primary key of an absolute http or https URL:
// "scheme://host/path?query" folded as cachestore.Key folds it (host case, trailing dot and
// default port; percent-encoding per RFC 3986 section 6.2.2), the fragment dropped and the
// query kept in its order, the "?" of an empty query too (as the edge keys "/a?" apart from
// "/a": RFC 3986 section 6.2.3): it is cachestore.Key, which the edge keys objects with, so
// a URL purge finds every variant. What a route keys the URL as besides (cache_key,
// rewrite) the Service adds through Options.Resolve.
func KeyForURL(raw string) (string, error) {
	u, err := parseAbsolute(raw)
	if err != nil {
		return "", err
	}
	path := pathOf(u)
	if u.ForceQuery && u.RawQuery == "" {
		path += "?" // cachestore.Key writes no "?" for an empty query
	}
	return cachestore.Key(u.Scheme, u.Host, path, u.RawQuery), nil
}

// prefixKey normalises the scheme and host of a prefix like KeyForURL, but keeps its path and
// query as written: folding a partial escape would change what the prefix means.
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
	b.WriteString(cachestore.NormalHost(u.Scheme, u.Host))
}

func pathOf(u *url.URL) string {
	if p := u.EscapedPath(); p != "" {
		return p
	}
	return "/"
}
