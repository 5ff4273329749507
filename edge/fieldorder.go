package edge

import (
	"bytes"
	"strings"

	"github.com/valyala/fasthttp"
)

// Deleting fields without reordering the others. fasthttp's Del fills each hole with the
// header's last line, so removing one field could move the second line of another above its
// first: "X-Forwarded-For: a", "X-Forwarded-For: b" would leave as b, a. RFC 9110 section
// 5.3 gives the order of a field's lines the meaning of its list's order (proxies, Link,
// Cache-Control). Lines of different names may change places; lines of one name may not. So
// when a deletion leaves a name with more than one line, those lines are deleted too and
// added again in their order.
//
// The names and values are copied while walking (fasthttp's slices are not valid once the
// header changes) into arrays on the stack: nothing is allocated below 32 lines and 1 KiB.
// Requests no longer need it: the node edits what it sends as a fieldList (originreq.go).

// fieldLine locates one line copied into a lines buffer: name b[start:nameEnd], value
// b[nameEnd:end].
type fieldLine struct {
	start, nameEnd, end int
	drop                bool // its name is to be deleted
	again               bool // kept, but its name has several lines: deleted and added again
}

// delResponseFields deletes every line of the listed names (any case) from fasthttp's
// response head, the other fields keeping their order (a fieldList, the other listeners'
// head and every request the node sends, matches names case-insensitively itself and keeps
// the order).
func delResponseFields(h *fasthttp.ResponseHeader, names []string) {
	for k := range h.All() {
		if listedFoldString(names, k) {
			rebuildResponseFields(h, names)
			return
		}
	}
}

func rebuildResponseFields(h *fasthttp.ResponseHeader, names []string) {
	var buf [1024]byte
	var at [32]fieldLine
	b, lines := buf[:0], at[:0]
	dropped := false
	for k, v := range h.All() {
		start := len(b)
		b = append(b, k...)
		nameEnd := len(b)
		b = append(b, v...)
		drop := listedFoldString(names, k)
		dropped = dropped || drop
		lines = append(lines, fieldLine{start: start, nameEnd: nameEnd, end: len(b), drop: drop})
	}
	if !dropped {
		return
	}
	markRepeated(b, lines)
	for i, l := range lines {
		if (l.drop || l.again) && !deletedBefore(b, lines[:i], l) {
			h.DelBytes(b[l.start:l.nameEnd])
		}
	}
	for _, l := range lines {
		if l.again {
			h.AddBytesKV(b[l.start:l.nameEnd], b[l.nameEnd:l.end])
		}
	}
}

// markRepeated marks the kept lines whose name has another kept line.
func markRepeated(b []byte, lines []fieldLine) {
	for i := range lines {
		if lines[i].drop {
			continue
		}
		for j := 0; j < i; j++ {
			if !lines[j].drop && sameName(b, lines[i], lines[j]) {
				lines[i].again, lines[j].again = true, true
			}
		}
	}
}

// deletedBefore reports whether an earlier line has l's name spelled the same and was
// deleted with it: fasthttp's DelBytes matches one spelling (names are kept as sent), so
// each spelling is deleted once.
func deletedBefore(b []byte, earlier []fieldLine, l fieldLine) bool {
	for _, e := range earlier {
		if (e.drop || e.again) && bytes.Equal(b[e.start:e.nameEnd], b[l.start:l.nameEnd]) {
			return true
		}
	}
	return false
}

func sameName(b []byte, x, y fieldLine) bool {
	return x.nameEnd-x.start == y.nameEnd-y.start &&
		strings.EqualFold(string(b[x.start:x.nameEnd]), string(b[y.start:y.nameEnd]))
}
