package httpcache

// ConditionalHeaders returns the fields that turn a request for stored into a
// validation request (RFC 9111 4.3.1): If-None-Match with its ETag and
// If-Modified-Since with its Last-Modified. It is empty when stored has
// neither, and the caller then refetches unconditionally.
func ConditionalHeaders(stored Response) Header {
	var h Header
	if etag := stored.get("ETag"); etag != "" {
		h.Add("If-None-Match", etag)
	}
	if lm := stored.get("Last-Modified"); lm != "" {
		h.Add("If-Modified-Since", lm)
	}
	return h
}

// NotModifiedMatches reports whether a 304 answers for stored (RFC 9111
// 4.3.4): a strong ETag in the 304 must strongly match; a weak one, or a
// Last-Modified without ETag, must match the stored value. A 304 without any
// validator is accepted, because the caller validated exactly this stored
// response (RFC 9111 4.3.4 selects the single stored response in that case;
// we extend it to a stored response with validators, as Squid and ATS do).
// When it returns false the caller should refetch without conditions.
func NotModifiedMatches(stored HeaderView, notModified Header) bool {
	if v := notModified.Get("ETag"); v != "" {
		got, ok := parseETag(v)
		have, ok2 := parseETag(stored.Get("ETag"))
		if !ok || !ok2 {
			return false
		}
		if got.weak {
			return weakMatch(got, have)
		}
		return strongMatch(got, have)
	}
	if v := notModified.Get("Last-Modified"); v != "" {
		return sameDate(v, stored.Get("Last-Modified"))
	}
	return true
}

// Freshen returns the stored header updated with a 304 or HEAD response (RFC
// 9111 3.2 and 4.3.4): every field in notModified replaces all stored lines of
// that name, in place, and new fields are appended. Not taken over are the
// fields that describe the stored content's bytes: Content-Length (the 304 has no
// content and a HEAD's length was checked by HeadFreshens), Content-Encoding and
// Content-Range (the stored body stays in the coding and extent the 200 brought;
// 3.2 names a changed Content-Encoding as the field a cache keeps for the
// integrity of what it stored, and Varnish drops it from a 304 too); and the
// hop-by-hop and Connection-listed fields and the proxy authentication fields
// (3.1). stored is not modified.
//
// The stored Age goes, replaced by the validation's own when it has one: Age is the
// age of one message (RFC 9111 5.1), and the freshened response's age is computed from
// the validation exchange (4.2.3, with FreshenResponse's times). Kept, the Age: 3500 a
// parent cache put on the 200 was added to every age after a 304 that carried none (the
// origin's own), so a max-age=3600 object came back from its revalidation nearly stale
// and was revalidated again 100 s later. Varnish never stores Age for the same reason.
//
// After freshening, the caller must also move the stored RequestTime and
// ResponseTime to those of the validation exchange (see FreshenResponse) and
// call Storable again: the new Cache-Control, Expires or Date decide the new
// lifetime.
func Freshen(stored Header, notModified Header) Header {
	out := stored.Clone()
	out.Del("Age")
	listed := connectionListed(notModified)
	for i, f := range notModified {
		if describesContent(f.Name) || hopByHop(f.Name) || containsFold(listed, f.Name) {
			continue
		}
		if notModified[:i].Has(f.Name) {
			continue // already copied with the first line of that name
		}
		values := notModified.Values(f.Name)
		out.Set(f.Name, values[0])
		for _, v := range values[1:] {
			out.insertAfterLast(f.Name, v)
		}
	}
	return out
}

// describesContent names the fields a 304 or HEAD must not change in a stored
// response, as they describe the stored body itself (Freshen).
func describesContent(name string) bool {
	return equalFold(name, "Content-Length") || equalFold(name, "Content-Encoding") || equalFold(name, "Content-Range")
}

// insertAfterLast adds a line right after the last line named name, keeping
// same-named lines together.
func (h *Header) insertAfterLast(name, value string) {
	last := -1
	for i := range *h {
		if equalFold((*h)[i].Name, name) {
			last = i
		}
	}
	if last < 0 {
		h.Add(name, value)
		return
	}
	*h = append(*h, Field{})
	copy((*h)[last+2:], (*h)[last+1:])
	(*h)[last+1] = Field{Name: name, Value: value}
}

// FreshenResponse applies Freshen and takes the request and response times of
// the validation exchange, so that CurrentAge starts again from the new Date
// and Age (RFC 9111 4.3.4). The status stays that of stored.
func FreshenResponse(stored Response, validation Response) Response {
	return Response{
		Status:       stored.Status,
		Header:       Freshen(stored.Fields(), validation.Fields()),
		RequestTime:  validation.RequestTime,
		ResponseTime: validation.ResponseTime,
	}
}

// HeadFreshens reports whether a 200 answer to an inbound HEAD may update the
// stored GET response (RFC 9111 4.3.5): every validator the HEAD carries
// (ETag, Last-Modified) must equal the stored one, at least one must be
// present, and a Content-Length in the HEAD must equal the stored length.
// When it is false, RFC 9111 4.3.5 asks the cache to treat stored as stale.
func HeadFreshens(stored Response, head Response) bool {
	if head.Status != 200 {
		return false
	}
	etag, hasETag := head.firstLine("ETag")
	lm, hasLM := head.firstLine("Last-Modified")
	if !hasETag && !hasLM {
		return false
	}
	if hasETag && trimOWS(etag) != trimOWS(stored.get("ETag")) {
		return false
	}
	if hasLM && !sameDate(lm, stored.get("Last-Modified")) {
		return false
	}
	if cl, ok := head.firstLine("Content-Length"); ok {
		return trimOWS(cl) == trimOWS(stored.get("Content-Length"))
	}
	return true
}

// sameDate compares two HTTP-dates as instants, so equivalent spellings match.
func sameDate(a, b string) bool {
	ta, ok1 := parseHTTPDate(a)
	tb, ok2 := parseHTTPDate(b)
	return ok1 && ok2 && ta.Equal(tb)
}
