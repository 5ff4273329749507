package httpcache

import "strings"

// sfKind is the type of a structured-field value (RFC 8941 3.3).
type sfKind uint8

const (
	sfBoolean sfKind = iota
	sfInteger
	sfDecimal
	sfString
	sfToken
	sfBytes
	sfInnerList
)

// sfMember is one dictionary member with the parts a targeted cache-control
// field can use: integers, booleans, and strings or inner lists of names.
type sfMember struct {
	key   string
	kind  sfKind
	num   int64
	flag  bool
	str   string   // sfString or sfToken
	names []string // strings and tokens of an inner list
}

// parseSFDictionary parses an RFC 8941 3.2 Dictionary. ok is false on any
// syntax error, in which case RFC 9213 2.1 has the whole field ignored.
// Parameters are parsed and dropped: no cache directive defines any. The members are
// appended to out (a caller's array: a targeted field allocates no list).
func parseSFDictionary(out []sfMember, s string) ([]sfMember, bool) {
	p := sfParser{s: strings.TrimLeft(s, " ")}
	p.s = strings.TrimRight(p.s, " ")
	if p.s == "" {
		return nil, false
	}
	for {
		m, ok := p.member()
		if !ok {
			return nil, false
		}
		out = setMember(out, m)
		p.skipOWS()
		if p.done() {
			return out, true
		}
		if !p.eat(',') {
			return nil, false
		}
		p.skipOWS()
		if p.done() {
			return nil, false // trailing comma
		}
	}
}

// setMember keeps the last value of a repeated key, as RFC 8941 4.2.2 says.
func setMember(list []sfMember, m sfMember) []sfMember {
	for i := range list {
		if list[i].key == m.key {
			list[i] = m
			return list
		}
	}
	return append(list, m)
}

type sfParser struct {
	s string
	i int
}

func (p *sfParser) done() bool { return p.i >= len(p.s) }

func (p *sfParser) peek() byte {
	if p.done() {
		return 0
	}
	return p.s[p.i]
}

func (p *sfParser) eat(c byte) bool {
	if p.peek() == c && !p.done() {
		p.i++
		return true
	}
	return false
}

func (p *sfParser) skipSP() {
	for p.peek() == ' ' && !p.done() {
		p.i++
	}
}

func (p *sfParser) skipOWS() {
	for !p.done() && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

func (p *sfParser) member() (sfMember, bool) {
	key, ok := p.key()
	if !ok {
		return sfMember{}, false
	}
	m := sfMember{key: key, kind: sfBoolean, flag: true}
	if p.eat('=') {
		if p.peek() == '(' {
			m.kind = sfInnerList
			if m.names, ok = p.innerList(); !ok {
				return sfMember{}, false
			}
		} else if !p.bareItem(&m) {
			return sfMember{}, false
		}
	}
	return m, p.params()
}

func (p *sfParser) key() (string, bool) {
	start := p.i
	if c := p.peek(); !(c >= 'a' && c <= 'z' || c == '*') || p.done() {
		return "", false
	}
	for !p.done() {
		c := p.s[p.i]
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.' || c == '*' {
			p.i++
			continue
		}
		break
	}
	return p.s[start:p.i], true
}

func (p *sfParser) params() bool {
	for p.eat(';') {
		p.skipSP()
		if _, ok := p.key(); !ok {
			return false
		}
		if p.eat('=') {
			var ignored sfMember
			if !p.bareItem(&ignored) {
				return false
			}
		}
	}
	return true
}

func (p *sfParser) innerList() ([]string, bool) {
	p.i++ // '('
	var names []string
	for {
		p.skipSP()
		if p.eat(')') {
			return names, p.params()
		}
		var item sfMember
		if !p.bareItem(&item) || !p.params() {
			return nil, false
		}
		if item.kind == sfString || item.kind == sfToken {
			names = append(names, item.str)
		}
		if c := p.peek(); c != ' ' && c != ')' {
			return nil, false
		}
	}
}

func (p *sfParser) bareItem(m *sfMember) bool {
	switch c := p.peek(); {
	case p.done():
		return false
	case c == '-' || c >= '0' && c <= '9':
		return p.number(m)
	case c == '"':
		return p.sfString(m)
	case c == '*' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		start := p.i
		p.i++
		for !p.done() && (isTchar(p.s[p.i]) || p.s[p.i] == ':' || p.s[p.i] == '/') {
			p.i++
		}
		m.kind, m.str = sfToken, p.s[start:p.i]
		return true
	case c == ':':
		end := strings.IndexByte(p.s[p.i+1:], ':')
		if end < 0 {
			return false
		}
		for _, b := range []byte(p.s[p.i+1 : p.i+1+end]) {
			if !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '+' || b == '/' || b == '=') {
				return false
			}
		}
		p.i += end + 2
		m.kind = sfBytes
		return true
	case c == '?':
		if p.i+1 >= len(p.s) || (p.s[p.i+1] != '0' && p.s[p.i+1] != '1') {
			return false
		}
		m.kind, m.flag = sfBoolean, p.s[p.i+1] == '1'
		p.i += 2
		return true
	}
	return false
}

// number reads an Integer (at most 15 digits) or a Decimal (RFC 8941 4.2.4).
func (p *sfParser) number(m *sfMember) bool {
	neg := p.eat('-')
	var n int64
	intDigits, fracDigits, dot := 0, 0, false
	for !p.done() {
		c := p.s[p.i]
		switch {
		case c >= '0' && c <= '9':
			if dot {
				fracDigits++
			} else {
				intDigits++
				n = n*10 + int64(c-'0')
			}
		case c == '.' && !dot:
			if intDigits > 12 {
				return false
			}
			dot = true
		default:
			goto end
		}
		p.i++
	}
end:
	if intDigits == 0 || intDigits > 15 || dot && (fracDigits == 0 || fracDigits > 3) {
		return false
	}
	if neg {
		n = -n
	}
	m.kind, m.num = sfInteger, n
	if dot {
		m.kind = sfDecimal
	}
	return true
}

func (p *sfParser) sfString(m *sfMember) bool {
	var b strings.Builder
	for p.i++; !p.done(); p.i++ {
		c := p.s[p.i]
		switch {
		case c == '\\':
			p.i++
			if p.done() || (p.s[p.i] != '"' && p.s[p.i] != '\\') {
				return false
			}
			b.WriteByte(p.s[p.i])
		case c == '"':
			p.i++
			m.kind, m.str = sfString, b.String()
			return true
		case c < 0x20 || c > 0x7e:
			return false
		default:
			b.WriteByte(c)
		}
	}
	return false
}
