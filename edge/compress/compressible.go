package compress

import "strings"

// Compressible reports whether a response is worth compressing: its media type is in types,
// it is at least minSize bytes, the origin did not code it already and did not forbid it.
//
// types holds media types ("application/json"), type wildcards ("text/*") or "*/*"; matching
// ignores case and parameters such as charset. An origin Content-Encoding other than identity
// means never: compressing twice wastes CPU and breaks clients that decode once. length < 0
// means unknown (a streamed response); it is compressed, since a body too small to be worth it
// almost always comes with a Content-Length. noTransform is Cache-Control: no-transform on the
// response (RFC 9110 section 7.7), which a proxy must honour.
func Compressible(contentType string, types []string, contentEncoding string, length int64, minSize int64, noTransform bool) bool {
	if noTransform {
		return false
	}
	if ce := strings.Trim(contentEncoding, " \t"); ce != "" && !strings.EqualFold(ce, "identity") {
		return false
	}
	if length >= 0 && length < minSize {
		return false
	}
	mediaType, _, _ := strings.Cut(contentType, ";")
	mediaType = strings.TrimSpace(mediaType)
	major, minor, ok := strings.Cut(mediaType, "/")
	if !ok || major == "" || minor == "" {
		return false
	}
	for _, t := range types {
		tMajor, tMinor, ok := strings.Cut(strings.TrimSpace(t), "/")
		if !ok {
			continue
		}
		if tMajor != "*" && !strings.EqualFold(tMajor, major) {
			continue
		}
		if tMinor == "*" || strings.EqualFold(tMinor, minor) {
			return true
		}
	}
	return false
}
