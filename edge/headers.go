package edge

import (
	"bytes"
	"strings"
	"sync"
	"unsafe"

	"github.com/shoal-cdn/shoal/httpcache"
)

// hopByHop are the connection-specific fields of RFC 9110 section 7.6.1 that a proxy never
// forwards, plus those named in Connection. HTTP2-Settings is the h2c upgrade's settings for
// the hop it came on (RFC 7540 section 3.2.1); a client that leaves it out of its Connection
// line would otherwise have it reach the origin, which could take it for an upgrade offer
// of the node's (the h2c smuggling shape).
var hopByHop = []string{"Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate", "Proxy-Authorization", "TE", "Trailer", "Transfer-Encoding", "Upgrade", "HTTP2-Settings"}

func isHopByHop(name []byte) bool {
	for _, h := range hopByHop {
		if len(h) == len(name) && strings.EqualFold(h, string(name)) {
			return true
		}
	}
	return false
}

// cutListItem splits a comma-separated field value (RFC 9110 section 5.6.1) at its first
// comma: the item before it, untrimmed, and the rest after it (nil after the last item).
// Small enough to be inlined into the loops that walk Connection values on every field.
func cutListItem(v []byte) (item, rest []byte) {
	if i := bytes.IndexByte(v, ','); i >= 0 {
		return v[:i], v[i+1:]
	}
	return v, nil
}

// connectionTokens lists the field names a Connection header marks as hop-by-hop.
func connectionTokens(v []byte) [][]byte {
	var out [][]byte
	for _, t := range bytes.Split(v, []byte(",")) {
		if t = trimOWS(t); len(t) > 0 {
			out = append(out, t)
		}
	}
	return out
}

// responseHeader copies an origin response's end-to-end fields, names as sent (see
// endToEndHeader).
func responseHeader(resp *fieldList) httpcache.Header {
	var fields rawFields
	for _, f := range resp.fields {
		fields.add(resp.at(f.name), resp.at(f.value))
	}
	h := endToEndHeader(fields.list())
	fields.release()
	return h
}

// rawField is one field of a parsed head, name and value slices of the buffer it was parsed
// in (fasthttp's or a fieldList's): valid while that buffer is.
type rawField struct{ name, value []byte }

// rawFieldsOnStack is how many fields rawFields holds in its array.
const rawFieldsOnStack = 32

// rawFields gathers a head's fields for endToEndHeader: in an array (on the caller's stack)
// up to rawFieldsOnStack, past that in a pooled slice, so that no head's copy costs more than
// its string and its Header. release gives the slice back.
type rawFields struct {
	array [rawFieldsOnStack]rawField
	n     int
	spill *[]rawField
}

var rawFieldSlices = sync.Pool{New: func() any { return new([]rawField) }}

func (r *rawFields) add(name, value []byte) {
	if r.spill == nil && r.n < len(r.array) {
		r.array[r.n] = rawField{name, value}
		r.n++
		return
	}
	if r.spill == nil {
		r.spill = rawFieldSlices.Get().(*[]rawField)
		*r.spill = append((*r.spill)[:0], r.array[:]...)
	}
	*r.spill = append(*r.spill, rawField{name, value})
}

func (r *rawFields) list() []rawField {
	if r.spill != nil {
		return *r.spill
	}
	return r.array[:r.n]
}

// release gives the pooled slice back, holding no buffer of the head.
func (r *rawFields) release() {
	if r.spill != nil {
		clear(*r.spill)
		*r.spill = (*r.spill)[:0]
		rawFieldSlices.Put(r.spill)
		r.spill = nil
	}
}

// endToEndHeader copies the end-to-end fields of a response head, names as sent. Every name
// and value shares one backing string: a stored object's header then costs two allocations
// instead of two per field, which is most of a small object's overhead.
//
// Each field is decided once (kept fields of the first 64 are remembered in a bit set), and
// up to maxConnectionLines Connection lines are honoured without splitting them into a
// list: nginx's "Connection: keep-alive" on every response cost a miss two allocations and
// three more passes over the fields (issue 15's miss profile).
func endToEndHeader(fields []rawField) httpcache.Header {
	var conn [maxConnectionLines][]byte
	lines := 0
	var more [][]byte // Connection names past maxConnectionLines lines
	for _, f := range fields {
		if k := f.name; len(k) == len("Connection") && bytes.EqualFold(k, []byte("Connection")) {
			if lines < len(conn) {
				conn[lines] = f.value
				lines++
			} else {
				more = append(more, connectionTokens(f.value)...)
			}
		}
	}
	keep := func(k []byte) bool {
		return !isHopByHop(k) && !isContentLength(k) && !listsName(conn[:lines], k) && !containsFold(more, k)
	}
	var kept uint64 // bit i: field i is kept (i < 64)
	size, n := 0, 0
	for i, f := range fields {
		if keep(f.name) {
			size += len(f.name) + len(f.value)
			n++
			if i < 64 {
				kept |= 1 << i
			}
		}
	}
	b := make([]byte, 0, size)
	for i, f := range fields {
		if i < 64 && kept&(1<<i) == 0 || i >= 64 && !keep(f.name) {
			continue
		}
		b = append(b, f.name...)
		b = append(b, f.value...)
	}
	all := unsafe.String(unsafe.SliceData(b), len(b)) // b is not written again
	out := make(httpcache.Header, 0, n)
	at := 0
	for i, f := range fields {
		if i < 64 && kept&(1<<i) == 0 || i >= 64 && !keep(f.name) {
			continue
		}
		k, v := len(f.name), len(f.value)
		out = append(out, httpcache.Field{Name: all[at : at+k], Value: all[at+k : at+k+v]})
		at += k + v
	}
	return out
}

func containsFold(list [][]byte, s []byte) bool {
	for _, l := range list {
		if bytes.EqualFold(l, s) {
			return true
		}
	}
	return false
}

// requestFields are the request fields the cache rules consult; copying only these keeps the
// hit path free of a full header copy.
var requestFields = []string{"Cache-Control", "Pragma", "Authorization", "If-None-Match", "If-Modified-Since", "If-Match", "If-Unmodified-Since", "If-Range", "Range", "Accept-Encoding", "CDN-Cache-Control"}

// requestView builds the httpcache view of a request: the cache-relevant fields plus extra
// (the names a stored response varies on). Names match case-insensitively, since the listener
// keeps them as the client sent them, and every line of a field is kept.
func requestView(h *fieldList, extra []string) httpcache.Header {
	return requestViewIn(nil, h, extra)
}

// requestViewIn is requestView with the values and the slice borrowed from sc (see
// requestScratch; nil allocates them): a hit's lookup copies nothing.
func requestViewIn(sc *requestScratch, h *fieldList, extra []string) httpcache.Header {
	var out httpcache.Header
	if sc != nil {
		out = sc.fields[:0]
	}
	for k, v := range h.All() {
		name, ok := listedFold(requestFields, k)
		if !ok {
			name, ok = listedFold(extra, k)
		}
		if ok && len(v) > 0 {
			out = append(out, httpcache.Field{Name: name, Value: sc.str(v)})
		}
	}
	if sc != nil {
		sc.fields = out[:0]
	}
	return out
}

// listedFold returns the entry of list equal to name ignoring case.
func listedFold(list []string, name []byte) (string, bool) {
	for _, l := range list {
		if len(l) == len(name) && strings.EqualFold(l, string(name)) {
			return l, true
		}
	}
	return "", false
}

// delResponseFold deletes every line of a response field whatever the case of its name: the
// HTTP/1.1 listener's head keeps names as the origin spelled them ("vary", "x-powered-by"),
// and fasthttp's Del matches them exactly.
func delResponseFold(h responseHead, name string) {
	if h1, ok := h.(http1Head); ok {
		h1.delFold(name)
		return
	}
	h.Del(name) // a fieldList matches names case-insensitively already
}

// trimOWS removes the optional whitespace around a field value: spaces and tabs only (RFC
// 9110 section 5.5), as fasthttp's parser does. bytes.TrimSpace would also take Unicode
// spaces (NBSP, U+2000...) off the ends of a value, so the origin would not receive the bytes
// the client sent, and "Host: h.example<NBSP>" would pass for h.example.
// It runs on every field of every request: a loop, where bytes.Trim built a set of the two
// bytes per call.
func trimOWS(v []byte) []byte {
	for len(v) > 0 && (v[0] == ' ' || v[0] == '\t') {
		v = v[1:]
	}
	for len(v) > 0 && (v[len(v)-1] == ' ' || v[len(v)-1] == '\t') {
		v = v[:len(v)-1]
	}
	if len(v) == 0 {
		return nil // as bytes.Trim: nothing left is no value
	}
	return v
}

// trimOWSString is trimOWS for a value already held as a string.
func trimOWSString(v string) string {
	for len(v) > 0 && (v[0] == ' ' || v[0] == '\t') {
		v = v[1:]
	}
	for len(v) > 0 && (v[len(v)-1] == ' ' || v[len(v)-1] == '\t') {
		v = v[:len(v)-1]
	}
	return v
}
