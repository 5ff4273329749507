package edge

import (
	"strings"
	"sync"
	"unsafe"

	"github.com/shoal-cdn/shoal/httpcache"
)

// requestScratch holds the bytes a request's canonical target, host and primary key are
// made of while handle runs, so that a hit allocates nothing for them (they were three
// strings per request). The strings that point into it are borrowed: they are valid until
// handle returns the scratch, and whatever keeps one longer (a fill, a coalesced call, a
// background revalidation, a forward, the disk tier) keeps a copy (lookup.own,
// forwardToOwner). Tests overwrite a returned scratch (poisonScratch), so a borrowed string
// kept by mistake shows up as a wrong key instead of passing unnoticed.
type requestScratch struct {
	buf []byte
	// fields backs the lookup's view of the request fields (requestViewIn).
	fields httpcache.Header
	// rulesDone: the route's response field rules are already in the head (a hit's
	// template carried them), so responsePolicy must not apply them a second time.
	rulesDone bool
}

// maxScratch is the largest buffer a pooled scratch keeps: an odd request with a long target
// does not pin its buffer in the pool for good.
const maxScratch = 16 << 10

// poisonScratch makes putScratch overwrite what the scratch held (set by the package's tests).
var poisonScratch = false

var scratches = sync.Pool{New: func() any {
	return &requestScratch{buf: make([]byte, 0, 512), fields: make(httpcache.Header, 0, 8)}
}}

func getScratch() *requestScratch { return scratches.Get().(*requestScratch) }

func putScratch(s *requestScratch) {
	if poisonScratch {
		b := s.buf[:cap(s.buf)]
		for i := range b {
			b[i] = '#'
		}
	}
	if cap(s.buf) > maxScratch {
		s.buf = make([]byte, 0, 512)
	}
	clear(s.fields[:cap(s.fields)]) // no borrowed string outlives its request in here
	if cap(s.fields) > 64 {
		s.fields = make(httpcache.Header, 0, 8)
	}
	s.buf, s.fields, s.rulesDone = s.buf[:0], s.fields[:0], false
	scratches.Put(s)
}

// str copies b into the scratch and returns it as a borrowed string. A nil scratch (callers
// outside handle) returns an ordinary copy.
func (s *requestScratch) str(b []byte) string {
	if s == nil {
		return string(b)
	}
	if len(b) == 0 {
		return ""
	}
	start := len(s.buf)
	s.buf = append(s.buf, b...)
	// A grown buf moves to a new array; strings into the old one stay valid (they keep it
	// alive) and are never overwritten, since only the current array is reused.
	return unsafe.String(&s.buf[start], len(b))
}

// join concatenates parts into the scratch and returns them as one borrowed string; with a
// nil scratch, as an ordinary string.
func (s *requestScratch) join(parts ...string) string {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	if s == nil {
		var b strings.Builder
		b.Grow(n)
		for _, p := range parts {
			b.WriteString(p)
		}
		return b.String()
	}
	if n == 0 {
		return ""
	}
	start := len(s.buf)
	for _, p := range parts {
		s.buf = append(s.buf, p...)
	}
	return unsafe.String(&s.buf[start], n)
}
