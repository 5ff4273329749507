package httpcache

import (
	"strconv"
)

// MultipartByteranges builds a multipart/byteranges body (RFC 9110 14.6) for
// several ranges of body, returning the Content-Type to send and the body.
// Each part carries Content-Type (when contentType is not empty) and
// Content-Range. boundary must be a valid RFC 2046 boundary that does not
// occur in body; the caller picks it (a random token), keeping this function
// deterministic. Ranges outside body are clamped or skipped, never a panic.
func MultipartByteranges(ranges []ByteRange, body []byte, contentType string, boundary string) (ctype string, out []byte) {
	size := int64(len(body))
	kept := make([]ByteRange, 0, len(ranges))
	for _, r := range ranges {
		if r.Start < 0 || r.Start >= size || r.End < r.Start {
			continue
		}
		r.End = min(r.End, size-1)
		kept = append(kept, r)
	}
	ctype, heads := MultipartHeads(kept, size, contentType, boundary)
	grow := 0
	for i, h := range heads {
		grow += len(h)
		if i < len(kept) {
			grow += int(kept[i].Length())
		}
	}
	out = make([]byte, 0, grow)
	for i, r := range kept {
		out = append(out, heads[i]...)
		out = append(out, body[r.Start:r.End+1]...)
	}
	return ctype, append(out, heads[len(kept)]...)
}

// MultipartHeads returns the Content-Type of a multipart/byteranges body (RFC 9110 14.6)
// for ranges of a representation of size bytes, and the bytes around its parts: heads[i]
// goes before range i (its delimiter, Content-Type and Content-Range), heads[len(ranges)]
// after the last (the close delimiter). The ranges must lie within size. A caller that
// streams the ranges (a body not in memory) knows the body's length from these before
// reading a byte.
func MultipartHeads(ranges []ByteRange, size int64, contentType string, boundary string) (ctype string, heads [][]byte) {
	heads = make([][]byte, 0, len(ranges)+1)
	for i, r := range ranges {
		var h []byte
		if i > 0 {
			h = append(h, "\r\n"...)
		}
		h = append(h, "--"...)
		h = append(h, boundary...)
		h = append(h, "\r\n"...)
		if contentType != "" {
			h = append(h, "Content-Type: "...)
			h = append(h, contentType...)
			h = append(h, "\r\n"...)
		}
		h = append(h, "Content-Range: "...)
		h = append(h, ContentRange(r, size)...)
		h = append(h, "\r\n\r\n"...)
		heads = append(heads, h)
	}
	var end []byte
	if len(ranges) > 0 {
		end = append(end, "\r\n"...)
	}
	end = append(end, "--"...)
	end = append(end, boundary...)
	end = append(end, "--\r\n"...)
	return "multipart/byteranges; boundary=" + quoteBoundaryIfNeeded(boundary), append(heads, end)
}

// quoteBoundaryIfNeeded quotes a boundary that is not a token (RFC 2046
// allows spaces and some separators in boundaries).
func quoteBoundaryIfNeeded(b string) string {
	if b != "" && tokenPrefix(b) == len(b) {
		return b
	}
	return strconv.Quote(b)
}
