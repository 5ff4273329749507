package httpcache

import "strings"

// Field is one header line; Name keeps the case it was sent with.
type Field struct{ Name, Value string }

// Header is an ordered list of header lines. Order and name case are preserved
// because a cache must forward what the origin sent (RFC 9110 5.3 lets the order
// of same-named lines carry meaning).
type Header []Field

// Get returns the value of the first line named name (case-insensitive), or "".
func (h Header) Get(name string) string {
	for i := range h {
		if equalFold(h[i].Name, name) {
			return h[i].Value
		}
	}
	return ""
}

// Values returns the value of every line named name, in order.
// List is the field's value as one list: the value of its only line, or its lines joined
// with ", " (RFC 9110 section 5.3: a recipient may combine them so). Joining allocates, only
// for a field sent on more than one line.
func (h Header) List(name string) string {
	first, n := -1, 0
	for i := range h {
		if equalFold(h[i].Name, name) {
			if first < 0 {
				first = i
			}
			n++
		}
	}
	switch n {
	case 0:
		return ""
	case 1:
		return h[first].Value
	}
	return strings.Join(h.Values(name), ", ")
}

func (h Header) Values(name string) []string {
	var out []string
	for i := range h {
		if equalFold(h[i].Name, name) {
			out = append(out, h[i].Value)
		}
	}
	return out
}

// Has reports whether a line named name is present.
func (h Header) Has(name string) bool {
	for i := range h {
		if equalFold(h[i].Name, name) {
			return true
		}
	}
	return false
}

// Add appends a line.
func (h *Header) Add(name, value string) {
	*h = append(*h, Field{Name: name, Value: value})
}

// Set replaces every line named name with one line holding value, kept at the
// position of the first such line (appended when there was none).
func (h *Header) Set(name, value string) {
	old := *h
	out := old[:0]
	done := false
	for _, f := range old {
		if !equalFold(f.Name, name) {
			out = append(out, f)
			continue
		}
		if !done {
			out = append(out, Field{Name: f.Name, Value: value})
			done = true
		}
	}
	clear(old[len(out):])
	if !done {
		out = append(out, Field{Name: name, Value: value})
	}
	*h = out
}

// Del removes every line named name.
func (h *Header) Del(name string) {
	old := *h
	out := old[:0]
	for _, f := range old {
		if !equalFold(f.Name, name) {
			out = append(out, f)
		}
	}
	clear(old[len(out):])
	*h = out
}

// Clone returns a copy that shares no backing array with h.
func (h Header) Clone() Header {
	if h == nil {
		return nil
	}
	out := make(Header, len(h))
	copy(out, h)
	return out
}

// Size is the store cost of the header: names and values plus 4 bytes per line
// for ": " and CRLF.
func (h Header) Size() int {
	n := 0
	for i := range h {
		n += len(h[i].Name) + len(h[i].Value) + 4
	}
	return n
}

// equalFold is an ASCII-only case-insensitive comparison; header names are
// tokens, so Unicode folding would only let bogus names match.
func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		ca, cb := a[i], b[i]
		if ca == cb {
			continue
		}
		if lower(ca) != lower(cb) {
			return false
		}
	}
	return true
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
