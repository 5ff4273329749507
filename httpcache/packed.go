package httpcache

import "unsafe"

// PackedHeader is a Header frozen into one string: a table, then the field names and values
// back to back. A cache keeps one per stored response: one allocation that holds no pointers,
// where a Header of n fields is a slice of 2n strings (32 B a field, and two pointers for the
// collector to follow on every stored object). A well-known name (packednames.go) takes one
// byte of the table instead of its text. The zero value is the empty header. Names keep their
// case and fields their order, as in Header (RFC 9110 section 5.3). Only Pack makes one.
//
// Layout: byte 0 is the width w of each number (2, or 4 when the text is 64 KiB or more),
// then the field count in w bytes, then per field its name's code and the end of its value
// in the text (w bytes, little-endian), then the text. A field's bytes in the text start
// where the previous field's value ends: for a name of code 0 its length (w bytes) and the
// name, then the value.
type PackedHeader string

// Pack freezes h. It copies every name and value once, into the one string.
func Pack(h Header) PackedHeader {
	if len(h) == 0 {
		return ""
	}
	// Each name's code is looked up once (a map access hashes the name): kept here for
	// the first fields, the common case, so the second pass reads them back.
	var stack [32]byte
	codes := stack[:0]
	if len(h) > len(stack) {
		codes = make([]byte, 0, len(h))
	}
	names := 0 // bytes of the names stored as text
	text := 0
	for i := range h {
		c := packedCodes[h[i].Name]
		codes = append(codes, c)
		text += len(h[i].Value)
		if c == 0 {
			text += len(h[i].Name)
			names++
		}
	}
	w := 2
	if text+w*names >= 1<<16 || len(h) >= 1<<16 {
		w = 4
	}
	text += w * names
	entry := 1 + w
	table := 1 + w + entry*len(h)
	b := make([]byte, table, table+text)
	b[0] = byte(w)
	putNumber(b[1:], w, len(h))
	var zeros [4]byte
	for i := range h {
		e := 1 + w + entry*i
		if c := codes[i]; c != 0 {
			b[e] = c
		} else {
			b = append(b, zeros[:w]...)
			putNumber(b[len(b)-w:], w, len(h[i].Name))
			b = append(b, h[i].Name...)
		}
		b = append(b, h[i].Value...)
		putNumber(b[e+1:], w, len(b)-table)
	}
	return PackedHeader(unsafe.String(unsafe.SliceData(b), len(b))) // b is not written again: one allocation, not two
}

func putNumber(b []byte, w, v int) {
	for i := range w {
		b[i] = byte(v >> (8 * i))
	}
}

func (p PackedHeader) number(at int) int {
	if p[0] == 2 {
		return int(p[at]) | int(p[at+1])<<8
	}
	return int(p[at]) | int(p[at+1])<<8 | int(p[at+2])<<16 | int(p[at+3])<<24
}

// Len is the number of fields.
func (p PackedHeader) Len() int {
	if p == "" {
		return 0
	}
	return p.number(1)
}

// Field is field i (0 <= i < Len()), its strings slices of p or of the name table: it
// allocates nothing.
func (p PackedHeader) Field(i int) Field {
	w := int(p[0])
	e := 1 + w + (1+w)*i
	text := 1 + w + (1+w)*p.number(1)
	start := text
	if i > 0 {
		start += p.number(e - w) // the previous field's value end
	}
	end := text + p.number(e+1)
	if c := p[e]; c != 0 {
		return Field{Name: packedName(c), Value: string(p[start:end])}
	}
	nameEnd := start + w + p.number(start)
	return Field{Name: string(p[start+w : nameEnd]), Value: string(p[nameEnd:end])}
}

// Get is Header.Get: the value of the first field named name (ASCII case-insensitive), or "".
func (p PackedHeader) Get(name string) string {
	v, _ := p.firstLine(name)
	return v
}

// firstLine is the first field named name and whether there is one. A coded name is compared
// from the name table, without reading the field's text: a hit asks a stored header for a
// few fields (Age, Content-Type, validators), most of them absent or coded.
func (p PackedHeader) firstLine(name string) (string, bool) {
	n := p.Len()
	if n == 0 {
		return "", false
	}
	w := int(p[0])
	entry := 1 + w
	table := p[1+w : 1+w+entry*n]
	for i := 0; i < n; i++ {
		if c := table[i*entry]; c != 0 {
			// The length first: most fields asked for are absent, and equalFold is a call.
			if coded := packedName(c); len(coded) == len(name) && equalFold(coded, name) {
				return p.Field(i).Value, true
			}
			continue
		}
		if f := p.Field(i); len(f.Name) == len(name) && equalFold(f.Name, name) {
			return f.Value, true
		}
	}
	return "", false
}

// Has reports whether a field named name is present.
func (p PackedHeader) Has(name string) bool {
	_, ok := p.firstLine(name)
	return ok
}

// Header is p as a Header, for the code that changes a stored header (a 304's freshening,
// RFC 9111 section 4.3.4) or walks it outside the hit path. It allocates the slice; the
// strings are slices of p.
func (p PackedHeader) Header() Header {
	n := p.Len()
	if n == 0 {
		return nil
	}
	h := make(Header, n)
	for i := range n {
		h[i] = p.Field(i)
	}
	return h
}

// Size is Header.Size of the same fields: names and values plus 4 bytes per field for ": "
// and CRLF.
func (p PackedHeader) Size() int {
	n := 0
	for i := range p.Len() {
		f := p.Field(i)
		n += len(f.Name) + len(f.Value) + 4
	}
	return n
}

// HeaderView reads a Header or a PackedHeader alike, copying neither: the code that writes
// a response head from a response in flight and from a stored one is the same code. The
// zero value is the empty header.
type HeaderView struct {
	h Header
	p PackedHeader
}

// ViewOf is a view of h.
func ViewOf(h Header) HeaderView { return HeaderView{h: h} }

// View is a view of p.
func (p PackedHeader) View() HeaderView { return HeaderView{p: p} }

// Len is the number of fields.
func (v HeaderView) Len() int {
	if v.h != nil {
		return len(v.h)
	}
	return v.p.Len()
}

// Field is field i (0 <= i < Len()); it allocates nothing.
func (v HeaderView) Field(i int) Field {
	if v.h != nil {
		return v.h[i]
	}
	return v.p.Field(i)
}

// Get is the value of the first field named name (ASCII case-insensitive), or "".
func (v HeaderView) Get(name string) string {
	s, _ := v.firstLine(name)
	return s
}

// Has reports whether a field named name is present.
func (v HeaderView) Has(name string) bool {
	_, ok := v.firstLine(name)
	return ok
}

func (v HeaderView) firstLine(name string) (string, bool) {
	if v.h != nil {
		return v.h.firstLine(name)
	}
	return v.p.firstLine(name)
}

// Header is the viewed fields as a Header: the viewed Header itself (not a copy), or the
// PackedHeader unpacked (which allocates).
func (v HeaderView) Header() Header {
	if v.h != nil {
		return v.h
	}
	return v.p.Header()
}

// Clone is the viewed fields as a Header that shares no backing array with the viewed one:
// a Header's Clone, or the PackedHeader unpacked. One allocation either way.
func (v HeaderView) Clone() Header {
	if v.h != nil {
		return v.h.Clone()
	}
	return v.p.Header()
}

// View is r's header, Header or Packed.
func (r Response) View() HeaderView {
	if r.Header == nil {
		return r.Packed.View()
	}
	return ViewOf(r.Header)
}

// get is the value of r's first field named name, from Header or, when it is nil, Packed.
func (r Response) get(name string) string { return r.View().Get(name) }

// firstLine is r's first field named name and whether there is one.
func (r Response) firstLine(name string) (string, bool) { return r.View().firstLine(name) }

// Fields is r's header as a Header: Header itself, or Packed unpacked (which allocates).
func (r Response) Fields() Header { return r.View().Header() }
