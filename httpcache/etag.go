package httpcache

// entityTag is a parsed RFC 9110 8.8.3 entity-tag.
type entityTag struct {
	opaque string // including the quotes
	weak   bool
}

// parseETag reads one entity-tag filling s (after OWS trimming).
func parseETag(s string) (entityTag, bool) {
	t, n, ok := readETag(trimOWS(s))
	return t, ok && n == len(trimOWS(s))
}

// readETag reads an entity-tag at the start of s and returns the bytes used.
func readETag(s string) (entityTag, int, bool) {
	var t entityTag
	i := 0
	if len(s) >= 2 && s[0] == 'W' && s[1] == '/' {
		t.weak, i = true, 2
	}
	if i >= len(s) || s[i] != '"' {
		return entityTag{}, 0, false
	}
	for j := i + 1; j < len(s); j++ {
		c := s[j]
		if c == '"' {
			t.opaque = s[i : j+1]
			return t, j + 1, true
		}
		// etagc = %x21 / %x23-7E / obs-text
		if c < 0x21 || c == 0x7f {
			return entityTag{}, 0, false
		}
	}
	return entityTag{}, 0, false
}

// strongMatch is the strong comparison of RFC 9110 8.8.3.2.
func strongMatch(a, b entityTag) bool { return !a.weak && !b.weak && a.opaque == b.opaque }

// weakMatch is the weak comparison of RFC 9110 8.8.3.2.
func weakMatch(a, b entityTag) bool { return a.opaque == b.opaque }

// etagListMatches evaluates an If-Match or If-None-Match value against the
// current entity tag. "*" matches any current representation. A malformed
// list matches nothing.
func etagListMatches(list string, current entityTag, haveCurrent bool, strong bool) bool {
	if trimOWS(list) == "*" {
		return true
	}
	if !haveCurrent {
		return false
	}
	s := list
	for {
		s = trimLeftListSeparators(s)
		if s == "" {
			return false
		}
		t, n, ok := readETag(s)
		if !ok {
			return false
		}
		if strong && strongMatch(t, current) || !strong && weakMatch(t, current) {
			return true
		}
		s = s[n:]
		s = trimOWS(s)
		if s != "" && s[0] != ',' {
			return false
		}
	}
}

func trimLeftListSeparators(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t' || s[0] == ',') {
		s = s[1:]
	}
	return s
}
