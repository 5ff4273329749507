package httpcache

import (
	"strings"
	"time"
)

// Directives is a parsed Cache-Control field (RFC 9111 5.2), request or
// response side. Numeric directives carry a Has flag so that "max-age=0" and
// "no max-age" stay different.
//
// Parsing follows RFC 9111 4.2.1 guidance: for a repeated numeric directive the
// first occurrence wins; an invalid max-age or s-maxage (not a non-negative
// integer) is recorded as 0, which makes the response stale rather than
// heuristically fresh; an invalid max-stale, min-fresh, stale-while-revalidate
// or stale-if-error is ignored, which is the restrictive reading for each.
// Flags are ORed, so a conflict resolves to the most restrictive directive.
type Directives struct {
	MaxAge    time.Duration
	HasMaxAge bool

	SMaxAge    time.Duration
	HasSMaxAge bool

	MaxStale    time.Duration // request: accepts a response stale by at most this
	HasMaxStale bool
	MaxStaleAny bool // max-stale without a value: any staleness

	MinFresh    time.Duration
	HasMinFresh bool

	StaleWhileRevalidate    time.Duration // RFC 5861 3
	HasStaleWhileRevalidate bool

	StaleIfError    time.Duration // RFC 5861 4 (request or response)
	HasStaleIfError bool

	NoCache       bool     // unqualified no-cache
	NoCacheFields []string // lower-cased names from no-cache="a, b"

	Private       bool     // unqualified private
	PrivateFields []string // lower-cased names from private="a, b"

	NoStore         bool
	NoTransform     bool
	OnlyIfCached    bool
	MustRevalidate  bool
	ProxyRevalidate bool
	MustUnderstand  bool
	Public          bool
	Immutable       bool // RFC 8246
}

// maxDeltaSeconds is the value RFC 9111 1.2.2 tells a cache to use when a
// delta-seconds value overflows.
const maxDeltaSeconds = 1 << 31

// ParseCacheControl parses every Cache-Control field line given. It never
// fails: unknown directives and malformed elements are ignored (RFC 9111 5.2.3),
// directive names are case-insensitive and arguments may be tokens or quoted
// strings (RFC 9111 5.2: recipients accept both forms).
func ParseCacheControl(values []string) Directives {
	var d Directives
	for _, v := range values {
		d.parseLine(v)
	}
	return d
}

// parseLine adds the directives of one field line to d. It allocates only for
// field-name lists and quoted strings with escapes.
func (d *Directives) parseLine(s string) {
	for len(s) > 0 {
		var elem string
		elem, s = nextListElement(s)
		d.parseDirective(elem)
	}
}

// nextListElement splits a #list at the first comma outside a quoted string and
// returns the trimmed element and the rest.
func nextListElement(s string) (elem, rest string) {
	inQuote := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case inQuote && c == '\\':
			i++ // the escaped octet cannot end the quote
		case c == '"':
			inQuote = !inQuote
		case c == ',' && !inQuote:
			return trimOWS(s[:i]), s[i+1:]
		}
	}
	return trimOWS(s), ""
}

// parseDirective applies one `token [ "=" ( token / quoted-string ) ]` element.
// Anything else after the name (for example "max-age =5") makes the element
// unreadable and it is ignored as a whole.
func (d *Directives) parseDirective(elem string) {
	n := tokenPrefix(elem)
	if n == 0 {
		return
	}
	name, rest := elem[:n], elem[n:]
	hasValue := false
	value, valid := "", true
	if rest != "" {
		if rest[0] != '=' {
			return
		}
		hasValue = true
		value, valid = parseArgument(rest[1:])
	}
	d.apply(name, value, hasValue, valid)
}

// parseArgument reads a token or a quoted string that must fill arg entirely.
func parseArgument(arg string) (string, bool) {
	if arg == "" {
		return "", false
	}
	if arg[0] == '"' {
		v, n, ok := readQuoted(arg)
		return v, ok && n == len(arg)
	}
	if tokenPrefix(arg) != len(arg) {
		return "", false
	}
	return arg, true
}

func (d *Directives) apply(name, value string, hasValue, valid bool) {
	switch {
	case equalFold(name, "max-age"):
		if !d.HasMaxAge {
			d.HasMaxAge = true
			d.MaxAge, _ = deltaOrZero(value, hasValue && valid)
		}
	case equalFold(name, "s-maxage"):
		if !d.HasSMaxAge {
			d.HasSMaxAge = true
			d.SMaxAge, _ = deltaOrZero(value, hasValue && valid)
		}
	case equalFold(name, "max-stale"):
		if d.HasMaxStale || d.MaxStaleAny {
			return
		}
		if !hasValue {
			d.MaxStaleAny = true
			return
		}
		if v, ok := deltaOrZero(value, valid); ok {
			d.HasMaxStale, d.MaxStale = true, v
		}
	case equalFold(name, "min-fresh"):
		if v, ok := deltaOrZero(value, hasValue && valid); ok && !d.HasMinFresh {
			d.HasMinFresh, d.MinFresh = true, v
		}
	case equalFold(name, "stale-while-revalidate"):
		if v, ok := deltaOrZero(value, hasValue && valid); ok && !d.HasStaleWhileRevalidate {
			d.HasStaleWhileRevalidate, d.StaleWhileRevalidate = true, v
		}
	case equalFold(name, "stale-if-error"):
		if v, ok := deltaOrZero(value, hasValue && valid); ok && !d.HasStaleIfError {
			d.HasStaleIfError, d.StaleIfError = true, v
		}
	case equalFold(name, "no-cache"):
		d.NoCache, d.NoCacheFields = applyFieldList(d.NoCache, d.NoCacheFields, value, hasValue, valid)
	case equalFold(name, "private"):
		d.Private, d.PrivateFields = applyFieldList(d.Private, d.PrivateFields, value, hasValue, valid)
	case equalFold(name, "no-store"):
		d.NoStore = true
	case equalFold(name, "no-transform"):
		d.NoTransform = true
	case equalFold(name, "only-if-cached"):
		d.OnlyIfCached = true
	case equalFold(name, "must-revalidate"):
		d.MustRevalidate = true
	case equalFold(name, "proxy-revalidate"):
		d.ProxyRevalidate = true
	case equalFold(name, "must-understand"):
		d.MustUnderstand = true
	case equalFold(name, "public"):
		d.Public = true
	case equalFold(name, "immutable"):
		d.Immutable = true
	}
}

// applyFieldList handles no-cache and private: with a readable, non-empty list
// of field names only those fields are affected; in every other case the
// directive applies to the whole response, the most restrictive reading.
func applyFieldList(whole bool, fields []string, value string, hasValue, valid bool) (bool, []string) {
	if !hasValue || !valid {
		return true, fields
	}
	names := splitFieldNames(value)
	if len(names) == 0 {
		return true, fields
	}
	return whole, append(fields, names...)
}

// splitFieldNames splits a comma-separated list of field names, lower-cased.
// The list is already unquoted, so quotes in it are plain (invalid) bytes.
func splitFieldNames(s string) []string {
	var names []string
	for s != "" {
		var n string
		n, s, _ = strings.Cut(s, ",")
		if n = trimOWS(n); n != "" && tokenPrefix(n) == len(n) {
			names = append(names, strings.ToLower(n))
		}
	}
	return names
}

// deltaOrZero parses delta-seconds (RFC 9111 1.2.2). ok is false when the
// value is not a non-negative integer; the duration is then 0.
func deltaOrZero(v string, present bool) (time.Duration, bool) {
	if !present || v == "" {
		return 0, false
	}
	var n int64
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if n < maxDeltaSeconds {
			n = n*10 + int64(c-'0')
		}
	}
	if n > maxDeltaSeconds {
		n = maxDeltaSeconds
	}
	return time.Duration(n) * time.Second, true
}
