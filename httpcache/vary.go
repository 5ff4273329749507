package httpcache

import (
	"slices"
	"strconv"
	"strings"
)

// VaryNames returns the field names listed in every Vary line of resp,
// lower-cased, sorted and deduplicated; "*" is kept as a name. Elements that
// are not tokens are dropped.
func VaryNames(resp Header) []string {
	var names []string
	for i := range resp {
		if !equalFold(resp[i].Name, "Vary") {
			continue
		}
		v := resp[i].Value
		for len(v) > 0 {
			var n string
			n, v = nextListElement(v)
			if n == "" || tokenPrefix(n) != len(n) {
				continue
			}
			names = append(names, strings.ToLower(n))
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// SecondaryKey builds the part of the cache key that selects a variant (RFC
// 9111 4.1): for each name, in the given order, the request's field value
// after normalisation. Two requests get the same key exactly when a response
// stored for one may answer the other. ok is false for Vary: *, which never
// matches. varyNames is normally VaryNames(storedResponse.Header).
//
// Normalisation (allowed by 4.1): lines of the same field are combined with
// ", ", whitespace around list commas and at the ends is dropped, and fields
// whose values are case-insensitive (Accept-Language, Accept-Charset) are
// lower-cased. Accept-Encoding becomes its NormalizeAcceptEncoding bucket.
// An absent field and an empty one stay different, as 4.1 requires.
func SecondaryKey(varyNames []string, req Header) (key string, ok bool) {
	if len(varyNames) == 0 {
		return "", true
	}
	var b strings.Builder
	for _, name := range varyNames {
		if name == "*" {
			return "", false
		}
		b.WriteString(strings.ToLower(name))
		value, present := varyValue(name, req)
		if !present {
			b.WriteString("!\n")
			continue
		}
		// The length prefix keeps the key unambiguous whatever the value holds.
		b.WriteByte('=')
		b.WriteString(strconv.Itoa(len(value)))
		b.WriteByte(':')
		b.WriteString(value)
		b.WriteByte('\n')
	}
	return b.String(), true
}

func varyValue(name string, req Header) (string, bool) {
	var b strings.Builder
	present := false
	for i := range req {
		if !equalFold(req[i].Name, name) {
			continue
		}
		if present {
			b.WriteString(",")
		}
		present = true
		b.WriteString(req[i].Value)
	}
	if !present {
		return "", false
	}
	if equalFold(name, "accept-encoding") {
		return NormalizeAcceptEncoding(b.String()), true
	}
	v := normalizeListSpacing(b.String())
	if equalFold(name, "accept-language") || equalFold(name, "accept-charset") {
		v = strings.ToLower(v)
	}
	return v, true
}

// normalizeListSpacing drops OWS around commas outside quoted strings and at
// the ends, and empty list elements, so "a,b" and "a , b" agree.
func normalizeListSpacing(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for len(s) > 0 {
		var e string
		e, s = nextListElement(s)
		if e == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		b.WriteString(e)
	}
	return b.String()
}
