package httpcache

import "strings"

// isTchar reports whether c may appear in an RFC 9110 5.6.2 token.
func isTchar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// tokenPrefix returns the length of the token at the start of s.
func tokenPrefix(s string) int {
	for i := 0; i < len(s); i++ {
		if !isTchar(s[i]) {
			return i
		}
	}
	return len(s)
}

// trimOWS removes optional whitespace (SP and HTAB) around s.
func trimOWS(s string) string {
	i, j := 0, len(s)
	for i < j && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	for j > i && (s[j-1] == ' ' || s[j-1] == '\t') {
		j--
	}
	return s[i:j]
}

// readQuoted reads an RFC 9110 5.6.4 quoted-string at the start of s and
// returns its unescaped content and the number of bytes consumed. It allocates
// only when the string holds quoted-pairs.
func readQuoted(s string) (string, int, bool) {
	if s == "" || s[0] != '"' {
		return "", 0, false
	}
	escaped := false
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			escaped = true
			i++
		case '"':
			if !escaped {
				return s[1:i], i + 1, true
			}
			return unescapeQuoted(s[1:i]), i + 1, true
		}
	}
	return "", 0, false
}

func unescapeQuoted(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// firstListMember returns the first member of a comma-separated field value;
// RFC 9111 5.1 and 5.3 tell a cache to read singleton fields sent as lists this way.
func firstListMember(s string) string {
	if i := strings.IndexByte(s, ','); i >= 0 {
		s = s[:i]
	}
	return trimOWS(s)
}
