package edge

import (
	"bytes"
	"iter"
	"strconv"
)

// fieldList is a request or response head of the pipeline's own: a status or request line
// and header fields in order, names as given, matched case-insensitively (RFC 9110 section
// 5.1). It backs the heads of listeners that have no HTTP/1.1 parser behind them (HTTP/2,
// and an HTTP/3 one). Names and values live in one buffer, reused by the next exchange, so
// a head costs no allocation once the buffer has grown; the slices Peek and All return are
// valid until the list changes.
//
// Content-Length is not a field here: the listener writes it from the body (RFC 9110
// section 8.6), so Set("Content-Length") and SetContentLength only record the length.
type fieldList struct {
	buf    []byte
	fields []fieldRef
	status int
	// contentLength is the announced length: -1 unknown, -2 none.
	contentLength int

	// A request's line (unused by a response).
	method, uri, host, proto []byte
}

// fieldRef locates one field's name and value in buf.
type fieldRef struct{ name, value span }

type span struct{ start, end int32 }

func (l *fieldList) at(s span) []byte { return l.buf[s.start:s.end:s.end] }

// bytes is the span's bytes in l (valid until Reset; see keep).
func (s span) bytes(l *fieldList) []byte { return l.at(s) }

func (l *fieldList) put(b []byte) span {
	start := len(l.buf)
	l.buf = append(l.buf, b...)
	return span{int32(start), int32(len(l.buf))}
}

func (l *fieldList) putString(s string) span {
	start := len(l.buf)
	l.buf = append(l.buf, s...)
	return span{int32(start), int32(len(l.buf))}
}

// clone is a copy of l that shares nothing with it.
func (l *fieldList) clone() *fieldList {
	c := &fieldList{buf: make([]byte, 0, len(l.buf)), fields: make([]fieldRef, 0, len(l.fields))}
	c.status, c.contentLength = l.status, l.contentLength
	c.method, c.uri = c.put(l.method).bytes(c), c.put(l.uri).bytes(c)
	c.host, c.proto = c.put(l.host).bytes(c), c.put(l.proto).bytes(c)
	for _, f := range l.fields {
		c.fields = append(c.fields, fieldRef{c.put(l.at(f.name)), c.put(l.at(f.value))})
	}
	return c
}

// Reset empties the list: no status, no fields, no length.
func (l *fieldList) Reset() {
	l.buf, l.fields = l.buf[:0], l.fields[:0]
	l.status, l.contentLength = 0, -2
	l.method, l.uri, l.host, l.proto = nil, nil, nil, nil
}

func (l *fieldList) StatusCode() int          { return l.status }
func (l *fieldList) SetStatusCode(status int) { l.status = status }

func isContentLength(name []byte) bool {
	return len(name) == len("Content-Length") && bytes.EqualFold(name, []byte("Content-Length"))
}

// dropDate removes the Date a head already has before another is added: Date is one
// timestamp, never a list (RFC 9110 section 6.6.1), and a response head starts with the one
// it will send (startHead) before the stored or relayed fields are copied in, Date among
// them. fasthttp's head ignores that second Date; a fieldList sent it twice (HTTP/2 misses
// and first hits).
func (l *fieldList) dropDate(name []byte) {
	if len(name) == len("Date") && bytes.EqualFold(name, []byte("Date")) {
		l.DelBytes(name)
	}
}

// Peek is the first value of the field name, or nil.
func (l *fieldList) Peek(name string) []byte {
	for _, f := range l.fields {
		if n := l.at(f.name); len(n) == len(name) && bytes.EqualFold(n, []byte(name)) {
			return l.at(f.value)
		}
	}
	if isContentLength([]byte(name)) && l.contentLength >= 0 {
		return strconv.AppendInt(nil, int64(l.contentLength), 10)
	}
	return nil
}

// list is the field's value as one list (RFC 9110 section 5.3): its only line, or its lines
// joined with ", ".
func (l *fieldList) list(name string) string {
	var out []byte
	lines := 0
	for k, v := range l.All() {
		if len(k) != len(name) || !bytes.EqualFold(k, []byte(name)) {
			continue
		}
		if lines > 0 {
			out = append(out, ", "...)
		}
		out = append(out, v...)
		lines++
	}
	return string(out)
}

// All yields every field in order.
func (l *fieldList) All() iter.Seq2[[]byte, []byte] {
	return func(yield func([]byte, []byte) bool) {
		for i := 0; i < len(l.fields); i++ {
			f := l.fields[i]
			if !yield(l.at(f.name), l.at(f.value)) {
				return
			}
		}
	}
}

func (l *fieldList) Add(name, value string) {
	if isContentLength([]byte(name)) {
		l.setLength([]byte(value))
		return
	}
	l.dropDate([]byte(name))
	l.fields = append(l.fields, fieldRef{l.putString(name), l.putString(value)})
}

func (l *fieldList) AddBytesV(name string, value []byte) {
	if isContentLength([]byte(name)) {
		l.setLength(value)
		return
	}
	l.dropDate([]byte(name))
	l.fields = append(l.fields, fieldRef{l.putString(name), l.put(value)})
}

func (l *fieldList) AddBytesKV(name, value []byte) {
	if isContentLength(name) {
		l.setLength(value)
		return
	}
	l.dropDate(name)
	l.fields = append(l.fields, fieldRef{l.put(name), l.put(value)})
}

func (l *fieldList) Set(name, value string) {
	l.Del(name)
	l.Add(name, value)
}

func (l *fieldList) SetBytesV(name string, value []byte) {
	l.Del(name)
	l.AddBytesV(name, value)
}

// Del removes every field named name; the others keep their order. The bytes stay in buf
// until Reset.
func (l *fieldList) Del(name string) { l.DelBytes([]byte(name)) }

func (l *fieldList) DelBytes(name []byte) {
	if isContentLength(name) {
		l.contentLength = -2
		return
	}
	kept := l.fields[:0]
	for _, f := range l.fields {
		if n := l.at(f.name); len(n) == len(name) && bytes.EqualFold(n, name) {
			continue
		}
		kept = append(kept, f)
	}
	clear(l.fields[len(kept):])
	l.fields = kept
}

func (l *fieldList) setLength(v []byte) {
	if k, err := strconv.ParseInt(string(trimOWS(v)), 10, 64); err == nil && k >= 0 {
		l.contentLength = int(k)
	}
}

func (l *fieldList) ContentLength() int          { return l.contentLength }
func (l *fieldList) SetContentLength(length int) { l.contentLength = length }
func (l *fieldList) ContentType() []byte         { return l.Peek("Content-Type") }
func (l *fieldList) SetContentType(value string) { l.Set("Content-Type", value) }
func (l *fieldList) Method() []byte              { return l.method }
func (l *fieldList) RequestURI() []byte          { return l.uri }
func (l *fieldList) Host() []byte                { return l.host }
func (l *fieldList) Protocol() []byte            { return l.proto }
func (l *fieldList) SetHost(host string)         { l.host = l.keep(host) }
func (l *fieldList) SetRequestURI(uri string)    { l.uri = l.keep(uri) }

func (l *fieldList) setMethod(m string)   { l.method = l.keep(m) }
func (l *fieldList) setProtocol(p string) { l.proto = l.keep(p) }

// keep copies s into buf. buf is only ever appended to until Reset, so slices of it stay
// valid (and unchanged) when it grows.
func (l *fieldList) keep(s string) []byte { return l.at(l.putString(s)) }

// Cookie is the value of the first cookie named name in the Cookie fields (RFC 6265 section
// 5.4; HTTP/2 may split them into several fields, RFC 9113 section 8.2.3).
func (l *fieldList) Cookie(name string) []byte {
	for k, v := range l.Cookies() {
		if string(k) == name {
			return v
		}
	}
	return nil
}

// Cookies yields every cookie's name and value, in order, without the spaces and tabs
// around them (trimOWS: a value ending in a Unicode space is another value, and another key
// under include_cookies).
func (l *fieldList) Cookies() iter.Seq2[[]byte, []byte] {
	return func(yield func([]byte, []byte) bool) {
		for k, v := range l.All() {
			if !bytes.EqualFold(k, []byte("Cookie")) {
				continue
			}
			for len(v) > 0 {
				pair := cutMember(&v, ';')
				if len(pair) == 0 {
					continue
				}
				name, value, _ := bytes.Cut(pair, []byte("="))
				if !yield(trimOWS(name), trimOWS(value)) {
					return
				}
			}
		}
	}
}
