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
	grow := len(boundary) + 8
	for _, r := range ranges {
		grow += len(boundary) + len(contentType) + 80 + int(max(min(r.End, size-1)-r.Start+1, 0))
	}
	out = make([]byte, 0, grow)
	for _, r := range ranges {
		if r.Start < 0 || r.Start >= size || r.End < r.Start {
			continue
		}
		r.End = min(r.End, size-1)
		if len(out) > 0 {
			out = append(out, "\r\n"...)
		}
		out = append(out, "--"...)
		out = append(out, boundary...)
		out = append(out, "\r\n"...)
		if contentType != "" {
			out = append(out, "Content-Type: "...)
			out = append(out, contentType...)
			out = append(out, "\r\n"...)
		}
		out = append(out, "Content-Range: "...)
		out = append(out, ContentRange(r, size)...)
		out = append(out, "\r\n\r\n"...)
		out = append(out, body[r.Start:r.End+1]...)
	}
	if len(out) > 0 {
		out = append(out, "\r\n"...)
	}
	out = append(out, "--"...)
	out = append(out, boundary...)
	out = append(out, "--\r\n"...)
	return "multipart/byteranges; boundary=" + quoteBoundaryIfNeeded(boundary), out
}

// quoteBoundaryIfNeeded quotes a boundary that is not a token (RFC 2046
// allows spaces and some separators in boundaries).
func quoteBoundaryIfNeeded(b string) string {
	if b != "" && tokenPrefix(b) == len(b) {
		return b
	}
	return strconv.Quote(b)
}
