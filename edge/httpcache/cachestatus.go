package httpcache

import (
	"strconv"
	"strings"
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
	var b strings.Builder
	b.Grow(64)
	name := c.Cache
	if name == "" {
		name = "shoal"
	}
	writeSFTokenOrString(&b, name)
	if c.Hit {
		b.WriteString("; hit")
	}
	if c.Fwd != "" && isSFToken(c.Fwd) {
		b.WriteString("; fwd=")
		b.WriteString(c.Fwd)
	}
	if c.FwdStatus > 0 {
		b.WriteString("; fwd-status=")
		writeInt(&b, int64(c.FwdStatus))
	}
	if c.HasTTL {
		b.WriteString("; ttl=")
		writeInt(&b, c.TTL)
	}
	if c.Stored {
		b.WriteString("; stored")
	}
	if c.Collapsed {
		b.WriteString("; collapsed")
	}
	if c.Key != "" {
		b.WriteString("; key=")
		writeSFString(&b, c.Key)
	}
	if c.Detail != "" {
		b.WriteString("; detail=")
		writeSFTokenOrString(&b, c.Detail)
	}
	return b.String()
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

func writeSFTokenOrString(b *strings.Builder, s string) {
	if isSFToken(s) {
		b.WriteString(s)
		return
	}
	writeSFString(b, s)
}

// writeSFString writes an RFC 8941 3.3.3 string: printable ASCII, with '"'
// and '\' escaped.
func writeSFString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c > 0x7e:
			b.WriteByte('?')
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
}

// writeInt writes v in decimal without the temporary string strconv.FormatInt allocates.
func writeInt(b *strings.Builder, v int64) {
	var num [20]byte
	b.Write(strconv.AppendInt(num[:0], v, 10))
}
