package policy

import (
	"bytes"
	"strings"
)

// CookieRules is a route's cookie handling compiled.
type CookieRules struct {
	StripRequest   bool
	StripSetCookie bool
	bypass         []string // names, "prefix*" or "*"
}

func compileCookies(c Cookies) *CookieRules {
	if !c.StripRequest && !c.StripSetCookie && len(c.BypassIf) == 0 {
		return nil
	}
	return &CookieRules{StripRequest: c.StripRequest, StripSetCookie: c.StripSetCookie, bypass: c.BypassIf}
}

// Bypass reports whether a Cookie field value (RFC 6265 section 4.2.1: "a=1; b=2") names a
// cookie of bypass_if: such a request is passed to the origin and not stored (a logged-in
// user). Every Cookie line the request has must be checked.
func (c *CookieRules) Bypass(cookieField []byte) bool {
	if c == nil || len(c.bypass) == 0 {
		return false
	}
	for rest := cookieField; len(rest) > 0; {
		var pair []byte
		if i := bytes.IndexByte(rest, ';'); i >= 0 {
			pair, rest = rest[:i], rest[i+1:]
		} else {
			pair, rest = rest, nil
		}
		name := pair
		if i := bytes.IndexByte(pair, '='); i >= 0 {
			name = pair[:i]
		}
		name = bytes.TrimSpace(name)
		if len(name) > 0 && matchBytes(c.bypass, name) {
			return true
		}
	}
	return false
}

// MatchName reports whether name matches one of the patterns: an exact name, "prefix*", or
// "*" for any. Names are compared case-sensitively, as cookie and parameter names are.
func MatchName(patterns []string, name string) bool {
	for _, p := range patterns {
		if p == name || strings.HasSuffix(p, "*") && strings.HasPrefix(name, p[:len(p)-1]) {
			return true
		}
	}
	return false
}

// matchBytes is MatchName for a name still in the request's buffer, without a copy.
func matchBytes(patterns []string, name []byte) bool {
	for _, p := range patterns {
		if string(name) == p || strings.HasSuffix(p, "*") && len(name) >= len(p)-1 && string(name[:len(p)-1]) == p[:len(p)-1] {
			return true
		}
	}
	return false
}

// Bypasses reports whether the route has bypass_if names, so the edge reads a request's
// cookies only when one of them could pass it.
func (c *CookieRules) Bypasses() bool { return c != nil && len(c.bypass) > 0 }

// BypassName reports whether one cookie name (as the request sent it) is named by bypass_if.
func (c *CookieRules) BypassName(name []byte) bool {
	return c != nil && len(c.bypass) > 0 && matchBytes(c.bypass, name)
}
