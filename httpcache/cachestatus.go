package httpcache

import (
	"strconv"
)

// CacheStatus is one member of the RFC 9211 Cache-Status field, for example
// `shoal; hit; ttl=52; detail=edge-1` or
// `shoal; fwd=miss; fwd-status=200; stored; collapsed; detail=edge-1`.
type CacheStatus struct {
	Cache     string // the cache's name, "shoal"
	Hit       bool   // served from cache without going forward
	Fwd       string // why it went forward: "uri-miss", "vary-miss", "miss", "stale", "bypass", "method", "request"
	FwdStatus int    // status the next hop answered; 0 omits it
	Stored    bool
	Collapsed bool
	TTL       int64 // seconds of freshness left, negative when stale; sent when HasTTL
	HasTTL    bool
	Key       string // cache key, sent only when not empty (it may reveal internals)
	Detail    string
}

// String renders the member in RFC 8941 syntax. The cache name and detail are
// sent as tokens when they are valid tokens and as quoted strings otherwise;
// fwd must be a token and is dropped when it is not; the key is always a
// string. Characters a structured-field string cannot carry (controls,
// non-ASCII) are replaced with '?'.
func (c CacheStatus) String() string {
	var buf [96]byte
	return string(c.AppendTo(buf[:0]))
}

// AppendTo appends the member as String renders it to dst and returns the extended
// buffer: a writer that reuses its buffer renders it without allocating.
func (c CacheStatus) AppendTo(dst []byte) []byte {
	name := c.Cache
	if name == "" {
		name = "shoal"
	}
	dst = appendSFTokenOrString(dst, name)
	if c.Hit {
		dst = append(dst, "; hit"...)
	}
	if c.Fwd != "" && isSFToken(c.Fwd) {
		dst = append(dst, "; fwd="...)
		dst = append(dst, c.Fwd...)
	}
	if c.FwdStatus > 0 {
		dst = append(dst, "; fwd-status="...)
		dst = strconv.AppendInt(dst, int64(c.FwdStatus), 10)
	}
	if c.HasTTL {
		dst = append(dst, "; ttl="...)
		dst = strconv.AppendInt(dst, c.TTL, 10)
	}
	if c.Stored {
		dst = append(dst, "; stored"...)
	}
	if c.Collapsed {
		dst = append(dst, "; collapsed"...)
	}
	if c.Key != "" {
		dst = append(dst, "; key="...)
		dst = appendSFString(dst, c.Key)
	}
	if c.Detail != "" {
		dst = append(dst, "; detail="...)
		dst = appendSFTokenOrString(dst, c.Detail)
	}
	return dst
}

// isSFToken reports whether s is an RFC 8941 3.3.4 token:
// ( ALPHA / "*" ) *( tchar / ":" / "/" ).
func isSFToken(s string) bool {
	if s == "" {
		return false
	}
	if c := s[0]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '*') {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isTchar(c) && c != ':' && c != '/' {
			return false
		}
	}
	return true
}

func appendSFTokenOrString(dst []byte, s string) []byte {
	if isSFToken(s) {
		return append(dst, s...)
	}
	return appendSFString(dst, s)
}

// appendSFString appends an RFC 8941 3.3.3 string: printable ASCII, with '"'
// and '\' escaped.
func appendSFString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c < 0x20 || c > 0x7e:
			dst = append(dst, '?')
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, '"')
}
