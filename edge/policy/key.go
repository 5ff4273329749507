package policy

import "strings"

// KeyRules is a route's cache key rules compiled.
type KeyRules struct {
	dropAll  bool
	names    []string // exact parameter names
	prefixes []string // from "name*"
	headers  []string
	cookies  []string
	noHost   bool
}

func compileKey(c Key) *KeyRules {
	if len(c.IgnoreParams) == 0 && len(c.IncludeHeaders) == 0 && len(c.IncludeCookies) == 0 && !c.IgnoreHost {
		return nil
	}
	k := &KeyRules{headers: c.IncludeHeaders, cookies: c.IncludeCookies, noHost: c.IgnoreHost}
	for _, p := range c.IgnoreParams {
		switch {
		case p == "*":
			k.dropAll = true
		case strings.HasSuffix(p, "*"):
			k.prefixes = append(k.prefixes, strings.TrimSuffix(p, "*"))
		default:
			k.names = append(k.names, p)
		}
	}
	return k
}

// IgnoreHost reports whether the key leaves out the host.
func (k *KeyRules) IgnoreHost() bool { return k != nil && k.noHost }

// Headers and Cookies name the request fields and cookies added to the key.
func (k *KeyRules) Headers() []string {
	if k == nil {
		return nil
	}
	return k.headers
}

// Cookies names the cookies whose values are added to the key.
func (k *KeyRules) Cookies() []string {
	if k == nil {
		return nil
	}
	return k.cookies
}

// Query returns q (a query without "?", as sent) without the ignored parameters, in their
// order. Names are compared as sent, not decoded. It returns q itself, without allocating,
// when no parameter is dropped. The result is both keyed and sent to the origin.
func (k *KeyRules) Query(q string) string {
	if k == nil || q == "" || k.dropAll {
		if k != nil && k.dropAll {
			return ""
		}
		return q
	}
	if len(k.names) == 0 && len(k.prefixes) == 0 {
		return q
	}
	// First pass: is anything dropped? The common request keeps every parameter.
	drop := false
	for rest := q; rest != "" && !drop; {
		var p string
		p, rest, _ = strings.Cut(rest, "&")
		drop = k.dropped(p)
	}
	if !drop {
		return q
	}
	var b strings.Builder
	b.Grow(len(q))
	for rest := q; rest != ""; {
		var p string
		p, rest, _ = strings.Cut(rest, "&")
		if p == "" || k.dropped(p) {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p)
	}
	return b.String()
}

func (k *KeyRules) dropped(param string) bool {
	name, _, _ := strings.Cut(param, "=")
	for _, n := range k.names {
		if n == name {
			return true
		}
	}
	for _, p := range k.prefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// AppendExtra appends to dst what the request's named fields and cookies add to the key:
// for each name, a separator, the name and its value (empty when absent, so absent and
// empty share an object, as Vary does). field and cookie look the values up.
func (k *KeyRules) AppendExtra(dst []byte, field, cookie func(name string) []byte) []byte {
	if k == nil {
		return dst
	}
	for _, h := range k.headers {
		dst = append(dst, "\x00h:"...)
		dst = append(dst, h...)
		dst = append(dst, '=')
		dst = append(dst, field(h)...)
	}
	for _, c := range k.cookies {
		dst = append(dst, "\x00c:"...)
		dst = append(dst, c...)
		dst = append(dst, '=')
		dst = append(dst, cookie(c)...)
	}
	return dst
}
