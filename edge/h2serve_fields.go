package edge

import (
	"hash/maphash"
	"strings"
	"sync/atomic"
)

// fieldStrings turns response field names and values into the strings HTTP/2 fields are
// made of (hpack keeps them in its dynamic table, so they must be real strings, not views of
// a pooled buffer) without allocating one per field per response. A hit's fields repeat:
// the stored object's own, and Age, Date, Via and Cache-Status, which change at most once
// a second. It is a two-way table: a value has two slots (two parts of one hash), and a
// new value takes an empty one of them before it replaces anything, so two values of one
// response that share a slot both stay (direct-mapped, such a pair replaced each other on
// every hit: two allocations each, for about one table seed in twenty-five with a dozen
// fields). A value whose slots both hold others replaces the second, which costs an
// allocation, never a wrong string. Safe for concurrent use.
type fieldStrings struct {
	seed  maphash.Seed
	slots [fieldSlots]atomic.Pointer[string]
}

const (
	fieldSlots    = 1024 // power of two
	maxFieldCache = 256  // longer values are converted each time
)

func newFieldStrings() *fieldStrings { return &fieldStrings{seed: maphash.MakeSeed()} }

// value is string(b), from the table when it holds it.
func (t *fieldStrings) value(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) > maxFieldCache {
		return string(b)
	}
	h := maphash.Bytes(t.seed, b)
	first, second := &t.slots[h&(fieldSlots-1)], &t.slots[(h>>32)&(fieldSlots-1)]
	p := first.Load()
	if p != nil && *p == string(b) {
		return *p
	}
	q := second.Load()
	if q != nil && *q == string(b) {
		return *q
	}
	s := string(b)
	if p == nil {
		first.Store(&s)
	} else {
		second.Store(&s)
	}
	return s
}

// name is the field name b in lowercase, as HTTP/2 writes names (RFC 9113 section 8.2.1).
func (t *fieldStrings) name(b []byte) string {
	if slot := &nameTable[nameHash(b)]; slot.raw == string(b) && len(b) > 0 {
		return slot.lower
	}
	if s, ok := lowerNames[string(b)]; ok {
		return s
	}
	var buf [64]byte
	if len(b) > len(buf) {
		return strings.ToLower(string(b))
	}
	lower := buf[:len(b)]
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		lower[i] = c
	}
	return t.value(lower)
}

// lowerNames maps the response field names the pipeline commonly writes, as spelled by
// origins or by the node (canonical case) and in lowercase, to their HTTP/2 spelling.
var lowerNames = func() map[string]string {
	names := []string{"Accept-Ranges", "Access-Control-Allow-Origin", "Age", "Cache-Control",
		"Cache-Status", "Content-Disposition", "Content-Encoding", "Content-Language",
		"Content-Location", "Content-Range", "Content-Security-Policy", "Content-Type", "Date",
		"ETag", "Etag", "Expires", "Last-Modified", "Link", "Location", "Retry-After", "Server",
		"Set-Cookie", "Strict-Transport-Security", "Surrogate-Key", "Cache-Tag", "Vary", "Via",
		"WWW-Authenticate", "X-Content-Type-Options", "X-Frame-Options", "Allow",
		"Alt-Svc", "Timing-Allow-Origin", "Cross-Origin-Resource-Policy", "Referrer-Policy",
		"Permissions-Policy", "X-Request-Id", "X-Cache", "X-Served-By"}
	m := make(map[string]string, 2*len(names))
	for _, n := range names {
		lower := strings.ToLower(n)
		m[n], m[lower] = lower, lower
	}
	return m
}()

// nameTable holds lowerNames direct-mapped on nameHash: a common name is found with a few
// loads and one comparison, where the map hashed all of it (the map lookup was 3% of an
// HTTP/2 hit's CPU, a dozen names per response). Its multiplier is the first, from a fixed
// sequence, that gives every listed spelling a slot of its own; a name not listed is found
// in the map or folded.
var nameTable, nameMul = func() (t [nameTableSize]nameSlot, mul uint64) {
	for mul = 0x9e3779b97f4a7c15; ; mul += 2 {
		t = [nameTableSize]nameSlot{}
		clash := false
		for raw, lower := range lowerNames {
			slot := &t[nameHashMul([]byte(raw), mul)]
			if slot.raw != "" {
				clash = true
				break
			}
			*slot = nameSlot{raw: raw, lower: lower}
		}
		if !clash {
			return t, mul
		}
	}
}()

type nameSlot struct{ raw, lower string }

const nameTableSize = 1024 // power of two

func nameHash(b []byte) uint64 { return nameHashMul(b, nameMul) }

// nameHashMul mixes the length and five bytes of a name, as spelled (the canonical and the
// lowercase spelling take different slots).
func nameHashMul(b []byte, mul uint64) uint64 {
	n := len(b)
	if n == 0 {
		return 0
	}
	x := uint64(n) | uint64(b[0])<<8 | uint64(b[min(1, n-1)])<<16 | uint64(b[n/2])<<24 |
		uint64(b[max(n-2, 0)])<<32 | uint64(b[n-1])<<40
	return (x * mul) >> (64 - 10)
}
