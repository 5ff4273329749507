package httpcache

// EvaluateConditional answers a client's preconditions from a stored response
// that is usable for the request (fresh, or just validated), in the order of
// RFC 9110 13.2.2. It returns 0 to serve normally, 304, or 412.
//
//  1. If-Match (strong comparison): no match gives 412.
//  2. Otherwise If-Unmodified-Since: a Last-Modified later than it gives 412.
//  3. If-None-Match (weak comparison): a match gives 304 for GET and HEAD.
//  4. Otherwise, for GET and HEAD, If-Modified-Since: a Last-Modified (or,
//     lacking one, Date, then the time of receipt; RFC 9111 4.3.2) not later
//     than it gives 304.
//
// Only GET and HEAD are evaluated: for other methods the preconditions are
// meant for the origin (RFC 9111 4.3.2) and 0 is returned. RFC 9111 4.3.2
// calls If-Match and If-Unmodified-Since "not applicable to a cache"; we
// still answer them for GET and HEAD because a usable stored response is the
// representation the origin would select, so the 412 is the origin's answer.
// Preconditions are ignored when the stored status is not 2xx (RFC 9110
// 13.2.1). Invalid dates and lists in date fields are ignored (13.1.3, 13.1.4).
// If-Range is evaluated separately with IfRangeMatches.
func EvaluateConditional(reqMethod string, req Header, stored Response) int {
	if reqMethod != "GET" && reqMethod != "HEAD" {
		return 0
	}
	if stored.Status < 200 || stored.Status > 299 {
		return 0
	}
	current, haveCurrent := parseETag(stored.get("ETag"))
	lm, haveLM := parseHTTPDate(stored.get("Last-Modified"))

	if ifMatch, ok := joinedField(req, "If-Match"); ok {
		if !etagListMatches(ifMatch, current, haveCurrent, true) {
			return 412
		}
	} else if v, ok := req.firstLine("If-Unmodified-Since"); ok && haveLM {
		if since, valid := parseHTTPDate(v); valid && lm.After(since) {
			return 412
		}
	}

	if ifNoneMatch, ok := joinedField(req, "If-None-Match"); ok {
		if etagListMatches(ifNoneMatch, current, haveCurrent, false) {
			return 304
		}
		return 0
	}
	if v, ok := req.firstLine("If-Modified-Since"); ok {
		since, valid := parseHTTPDate(v)
		if !valid {
			return 0
		}
		modified := lm
		if !haveLM {
			modified = responseDate(stored)
		}
		if !modified.After(since) {
			return 304
		}
	}
	return 0
}

// joinedField returns every line of a list field joined with ", ".
func joinedField(h Header, name string) (string, bool) {
	out, found := "", false
	for i := range h {
		if equalFold(h[i].Name, name) {
			if found {
				out += ", " + h[i].Value
			} else {
				out, found = h[i].Value, true
			}
		}
	}
	return out, found
}

// NotModifiedHeader picks from a stored response the fields a 304 must carry
// (RFC 9110 15.4.5): those a 200 would have sent among Cache-Control,
// Content-Location, Date, ETag, Expires and Vary. The caller adds Age and
// Cache-Status as for any cached answer.
func NotModifiedHeader(stored HeaderView) Header {
	var out Header
	for i := range stored.Len() {
		f := stored.Field(i)
		for _, n := range [...]string{"Cache-Control", "Content-Location", "Date", "ETag", "Expires", "Vary"} {
			if equalFold(f.Name, n) {
				out = append(out, f)
				break
			}
		}
	}
	return out
}
