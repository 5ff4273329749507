package httpcache

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ByteRange is a satisfiable byte range, both ends inclusive (RFC 9110 14.1.2
// first-pos and last-pos), already clamped to the representation.
type ByteRange struct{ Start, End int64 }

// Length is the number of bytes in r.
func (r ByteRange) Length() int64 { return r.End - r.Start + 1 }

var (
	// ErrRangeInvalid marks a Range field the cache ignores: bad syntax, an
	// unknown unit, or too many ranges. Serve 200 with the full content.
	ErrRangeInvalid = errors.New("httpcache: invalid range")
	// ErrRangeNotSatisfiable marks a valid Range field none of whose ranges
	// overlaps the content. Answer 416 with ContentRangeUnsatisfied.
	ErrRangeNotSatisfiable = errors.New("httpcache: range not satisfiable")
)

// maxRanges bounds the ranges honoured in one request; RFC 9110 14.2 lets a
// server ignore a Range that asks for many small pieces, a known way to make
// a server do a lot of work for a small request.
const maxRanges = 64

// ParseRange reads a Range field value (RFC 9110 14.1.2, 14.2) for content of
// size bytes: "bytes=0-99", "bytes=100-", "bytes=-500" and lists of these.
// Unsatisfiable ranges are dropped; if none is left the error is
// ErrRangeNotSatisfiable. Bad syntax gives ErrRangeInvalid. Overlapping or
// adjacent ranges are coalesced into ascending order (14.2 allows it), so the
// ranges returned never overlap.
func ParseRange(value string, size int64) ([]ByteRange, error) {
	unit, set, ok := strings.Cut(trimOWS(value), "=")
	if !ok || !equalFold(trimOWS(unit), "bytes") {
		return nil, ErrRangeInvalid
	}
	var out []ByteRange
	specs := 0
	for set != "" {
		var spec string
		spec, set = nextListElement(set)
		if spec == "" {
			continue // RFC 9110 5.6.1: empty list elements are tolerated
		}
		specs++
		if specs > maxRanges {
			return nil, ErrRangeInvalid
		}
		r, satisfiable, ok := parseRangeSpec(spec, size)
		if !ok {
			return nil, ErrRangeInvalid
		}
		if satisfiable {
			out = append(out, r)
		}
	}
	if specs == 0 {
		return nil, ErrRangeInvalid
	}
	if len(out) == 0 {
		return nil, ErrRangeNotSatisfiable
	}
	return coalesce(out), nil
}

// parseRangeSpec reads "first-last", "first-" or "-suffix".
func parseRangeSpec(spec string, size int64) (r ByteRange, satisfiable, ok bool) {
	first, last, found := strings.Cut(spec, "-")
	if !found {
		return ByteRange{}, false, false
	}
	if first == "" {
		n, ok := parseRangeInt(last)
		if !ok {
			return ByteRange{}, false, false
		}
		if n == 0 || size <= 0 {
			return ByteRange{}, false, true
		}
		return ByteRange{Start: max(size-n, 0), End: size - 1}, true, true
	}
	start, ok := parseRangeInt(first)
	if !ok {
		return ByteRange{}, false, false
	}
	end := int64(-1)
	if last != "" {
		if end, ok = parseRangeInt(last); !ok || end < start {
			return ByteRange{}, false, false
		}
	}
	if start >= size {
		return ByteRange{}, false, true
	}
	if end < 0 || end >= size {
		end = size - 1
	}
	return ByteRange{Start: start, End: end}, true, true
}

// parseRangeInt reads 1*DIGIT; values beyond int64 are not ranges we can serve.
func parseRangeInt(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// coalesce merges overlapping and adjacent ranges; a single range or an
// already ordered disjoint list is returned as is.
func coalesce(rs []ByteRange) []ByteRange {
	ordered := slices.IsSortedFunc(rs, func(a, b ByteRange) int { return compareInt64(a.Start, b.Start) })
	if ordered {
		disjoint := true
		for i := 1; i < len(rs); i++ {
			if rs[i].Start <= rs[i-1].End+1 {
				disjoint = false
				break
			}
		}
		if disjoint {
			return rs
		}
	}
	// Out of order but disjoint lists keep the client's order; only overlap
	// forces a rewrite.
	if !ordered && !overlapping(rs) {
		return rs
	}
	slices.SortFunc(rs, func(a, b ByteRange) int { return compareInt64(a.Start, b.Start) })
	out := rs[:1]
	for _, r := range rs[1:] {
		last := &out[len(out)-1]
		if r.Start <= last.End+1 {
			last.End = max(last.End, r.End)
			continue
		}
		out = append(out, r)
	}
	return out
}

func overlapping(rs []ByteRange) bool {
	sorted := slices.Clone(rs)
	slices.SortFunc(sorted, func(a, b ByteRange) int { return compareInt64(a.Start, b.Start) })
	for i := 1; i < len(sorted); i++ {
		if sorted[i].Start <= sorted[i-1].End+1 {
			return true
		}
	}
	return false
}

func compareInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// ContentRange formats the Content-Range of a 206 part: "bytes 0-99/1234".
func ContentRange(r ByteRange, size int64) string {
	return "bytes " + strconv.FormatInt(r.Start, 10) + "-" + strconv.FormatInt(r.End, 10) +
		"/" + strconv.FormatInt(size, 10)
}

// ContentRangeUnsatisfied formats the Content-Range of a 416: "bytes */1234".
func ContentRangeUnsatisfied(size int64) string {
	return "bytes */" + strconv.FormatInt(size, 10)
}

// IfRangeMatches evaluates If-Range against the stored response (RFC 9110
// 13.1.5): an entity tag must strongly match the stored ETag (a weak tag never
// matches); a date must equal the stored Last-Modified exactly, and that
// Last-Modified must be strong: at least one second before the stored Date
// (8.8.2.2), for within its second the content may have changed again under the
// same date, and a range of the new content would complete a client's part of the
// old. When it is false the caller ignores Range and serves the whole content with 200.
func IfRangeMatches(ifRange string, stored Response) bool {
	v := trimOWS(ifRange)
	if v == "" {
		return false
	}
	if v[0] == '"' || strings.HasPrefix(v, "W/") {
		got, ok := parseETag(v)
		have, ok2 := parseETag(stored.get("ETag"))
		return ok && ok2 && strongMatch(got, have)
	}
	lm, ok := parseHTTPDate(stored.get("Last-Modified"))
	if !ok || responseDate(stored).Sub(lm) < time.Second {
		return false
	}
	return sameDate(v, stored.get("Last-Modified"))
}
