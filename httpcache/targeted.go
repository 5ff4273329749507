package httpcache

import (
	"strings"
	"time"
)

// Fields that carry cache directives for a shared cache, in the order
// Policy.responseDirectives consults them.
const (
	defaultTargetedField = "Shoal-Cache-Control"
	cdnCacheControl      = "CDN-Cache-Control"
	surrogateControl     = "Surrogate-Control"
)

// directiveSource names the field the effective response directives came from.
type directiveSource uint8

const (
	fromCacheControl directiveSource = iota
	fromTargeted                     // Policy.TargetedField
	fromCDN                          // CDN-Cache-Control
	fromSurrogate                    // Surrogate-Control
)

func (p Policy) targetedField() string {
	if p.TargetedField == "" {
		return defaultTargetedField
	}
	return p.TargetedField
}

// responseDirectives picks the directives that govern this cache (RFC 9213
// 2.2): the first present and valid of our targeted field, CDN-Cache-Control
// and Surrogate-Control wins outright, and Cache-Control (with Expires and
// Pragma) is then ignored for caching decisions. A targeted field that fails to
// parse, or is empty, counts as absent.
func (p Policy) responseDirectives(h Header) (Directives, directiveSource) {
	// Each field's lines are parsed where they lie in h: a slice of them (h.Values) cost
	// every miss an allocation (issue 15's miss profile).
	if d, ok := parseTargetedValue(h.List(p.targetedField())); ok {
		return d, fromTargeted
	}
	if !equalFold(p.targetedField(), cdnCacheControl) {
		if d, ok := parseTargetedValue(h.List(cdnCacheControl)); ok {
			return d, fromCDN
		}
	}
	var sc surrogateDirectives
	for i := range h {
		if equalFold(h[i].Name, surrogateControl) {
			sc.parseLine(h[i].Value)
		}
	}
	if sc.found {
		return sc.d, fromSurrogate
	}
	return cacheControlOf(h), fromCacheControl
}

// cacheControlOf is ParseCacheControl of h's Cache-Control lines.
func cacheControlOf(h Header) Directives {
	var d Directives
	for i := range h {
		if equalFold(h[i].Name, "Cache-Control") {
			d.parseLine(h[i].Value)
		}
	}
	return d
}

// parseTargeted reads a targeted field as an RFC 8941 Dictionary (RFC 9213
// 2.1). Directives whose value has the wrong type (max-age="10", a decimal,
// a negative number) are ignored, as 2.1 tells implementations not to coerce.
func parseTargeted(lines []string) (Directives, bool) {
	return parseTargetedValue(strings.Join(lines, ", "))
}

// parseTargetedValue is parseTargeted of the field's lines already combined into one value
// (RFC 9110 section 5.3, Header.List). An empty value counts as no field. It allocates
// nothing for up to eight members without field-name lists.
func parseTargetedValue(v string) (Directives, bool) {
	if v == "" {
		return Directives{}, false
	}
	var buf [8]sfMember
	members, ok := parseSFDictionary(buf[:0], v)
	if !ok {
		return Directives{}, false
	}
	var d Directives
	for _, m := range members {
		d.applyTargeted(m)
	}
	return d, true
}

func (d *Directives) applyTargeted(m sfMember) {
	if seconds, ok := sfSeconds(m); ok {
		switch m.key {
		case "max-age":
			d.HasMaxAge, d.MaxAge = true, seconds
		case "s-maxage":
			d.HasSMaxAge, d.SMaxAge = true, seconds
		case "stale-while-revalidate":
			d.HasStaleWhileRevalidate, d.StaleWhileRevalidate = true, seconds
		case "stale-if-error":
			d.HasStaleIfError, d.StaleIfError = true, seconds
		}
		return
	}
	switch m.key {
	case "no-cache", "private":
		var names []string
		switch m.kind {
		case sfString:
			names = splitFieldNames(m.str)
		case sfInnerList:
			for _, n := range m.names {
				names = append(names, strings.ToLower(n))
			}
		case sfBoolean:
			if !m.flag {
				return
			}
		}
		whole := len(names) == 0
		if m.key == "no-cache" {
			d.NoCache = d.NoCache || whole
			d.NoCacheFields = append(d.NoCacheFields, names...)
		} else {
			d.Private = d.Private || whole
			d.PrivateFields = append(d.PrivateFields, names...)
		}
		return
	}
	if m.kind != sfBoolean || !m.flag {
		return
	}
	switch m.key {
	case "no-store":
		d.NoStore = true
	case "no-transform":
		d.NoTransform = true
	case "must-revalidate":
		d.MustRevalidate = true
	case "proxy-revalidate":
		d.ProxyRevalidate = true
	case "must-understand":
		d.MustUnderstand = true
	case "public":
		d.Public = true
	case "immutable":
		d.Immutable = true
	}
}

// sfSeconds accepts a non-negative Integer, clamped like delta-seconds.
func sfSeconds(m sfMember) (time.Duration, bool) {
	if m.kind != sfInteger || m.num < 0 {
		return 0, false
	}
	return time.Duration(min(m.num, maxDeltaSeconds)) * time.Second, true
}

// parseSurrogateControl reads the Edge Architecture Specification 1.0 field.
// Only max-age and no-store (and no-store-remote, which addresses exactly the
// remote surrogates a CDN is) are recognised; directives aimed at a named
// device ("max-age=30;edge-1") are skipped, since Shoal has no device token.
// The field counts only when it holds a recognised directive.
func parseSurrogateControl(lines []string) (Directives, bool) {
	var sc surrogateDirectives
	for _, s := range lines {
		sc.parseLine(s)
	}
	return sc.d, sc.found
}

// surrogateDirectives is parseSurrogateControl line by line: d and whether a recognised
// directive was found so far.
type surrogateDirectives struct {
	d     Directives
	found bool
}

func (sc *surrogateDirectives) parseLine(s string) {
	for len(s) > 0 {
		var elem string
		elem, s = nextListElement(s)
		if strings.IndexByte(elem, ';') >= 0 {
			continue
		}
		var one Directives
		one.parseDirective(elem)
		if equalFold(elem, "no-store-remote") {
			one.NoStore = true
		}
		if one.HasMaxAge && !sc.d.HasMaxAge {
			// "max-age=30+60" (freshness+stale) is no delta-seconds and reads
			// as 0, the restrictive choice for a form we do not implement.
			sc.d.HasMaxAge, sc.d.MaxAge = true, one.MaxAge
			sc.found = true
		}
		if one.NoStore {
			sc.d.NoStore, sc.found = true, true
		}
	}
}

// StripTargeted removes a targeted field before a response goes downstream.
//
// Shoal consumes its own field (Policy.TargetedField) and Surrogate-Control:
// both address this CDN only. CDN-Cache-Control is left in place: RFC 9213 3
// expects a CDN to forward it so further CDN caches in the chain can use it,
// and browsers ignore it. Call it once per field, e.g. with
// Policy.ConsumedFields.
func StripTargeted(h *Header, field string) {
	h.Del(field)
}

// ConsumedFields lists the response fields this cache consumes and should strip
// before sending a response downstream.
func (p Policy) ConsumedFields() []string {
	return []string{p.targetedField(), surrogateControl}
}
