package httpcache

import "strings"

// Content-coding buckets, most preferred first when the client ranks them equally.
var encodingBuckets = [...]string{"zstd", "br", "gzip"}

// NormalizeAcceptEncoding maps an Accept-Encoding value to the variant bucket of the
// cache's key: "zstd", "br", "gzip", or "" for identity, for the coding with the highest
// qvalue among those three (RFC 9110 12.5.3), q=0 meaning "not acceptable", "*" standing
// for unlisted codings and "x-gzip" for gzip; ties go to zstd, then br, then gzip, and an
// explicitly listed identity with a higher qvalue than all of them wins. A bucket also
// shares what an origin answers in the codings ranked after its own (the gzip of an origin
// without zstd for a browser's "gzip, deflate, br, zstd"), so each of those the client does
// not accept is named after a "-": "zstd, br, gzip;q=0" is "zstd-gzip", a lone "zstd" is
// "zstd-br-gzip" (BucketAccepts reads them). So the many Accept-Encoding strings browsers
// send collapse into a few variants, and no variant holds a coding one of its clients
// refuses.
func NormalizeAcceptEncoding(v string) string {
	var q [len(encodingBuckets)]int // in thousandths; -1 = not mentioned
	for i := range q {
		q[i] = -1
	}
	star, identity := -1, -1
	for len(v) > 0 {
		var elem string
		elem, v = nextListElement(v)
		coding, weight, ok := ParseCodingWeight(elem)
		if !ok {
			continue
		}
		if coding == "*" {
			star = max(star, weight)
			continue
		}
		if equalFold(coding, "identity") {
			identity = max(identity, weight)
			continue
		}
		if equalFold(coding, "x-gzip") {
			coding = "gzip"
		}
		for i, name := range encodingBuckets {
			if equalFold(coding, name) {
				q[i] = max(q[i], weight)
			}
		}
	}
	best, bestQ := -1, 0
	refused := 0 // bit i: encodingBuckets[i] is not acceptable
	for i := range encodingBuckets {
		w := q[i]
		if w < 0 {
			w = star
		}
		if w <= 0 {
			refused |= 1 << i
		}
		if w > bestQ {
			best, bestQ = i, w
		}
	}
	if best < 0 || identity > bestQ {
		return "" // nothing acceptable, or identity explicitly ranked above every coding
	}
	return bucketNames[best][refused>>(best+1)]
}

// bucketNames[i][m] is the bucket of encodingBuckets[i] whose clients refuse the codings
// after it that bit j of m names (bit 0: the next one): constants, so a key allocates none.
var bucketNames = [len(encodingBuckets)][4]string{
	{"zstd", "zstd-br", "zstd-gzip", "zstd-br-gzip"},
	{"br", "br-gzip"},
	{"gzip"},
}

// BucketAccepts reports whether every request of the NormalizeAcceptEncoding bucket accepts
// a response in coding: its own coding and those ranked after it that it does not name
// after a "-". Identity ("" or "identity") is always accepted; the identity bucket accepts
// nothing else. A coding is matched case-insensitively, "x-gzip" as gzip.
func BucketAccepts(bucket, coding string) bool {
	if coding == "" || equalFold(coding, "identity") {
		return true
	}
	if equalFold(coding, "x-gzip") {
		coding = "gzip"
	}
	own, refused, _ := strings.Cut(bucket, "-")
	later := false
	for _, name := range encodingBuckets {
		if name == own {
			later = true
		}
		if later && equalFold(coding, name) {
			return !containsRefusal(refused, name)
		}
	}
	return false
}

// containsRefusal reports whether name is one of the "-"-separated codings of refused.
func containsRefusal(refused, name string) bool {
	for refused != "" {
		var r string
		r, refused, _ = strings.Cut(refused, "-")
		if r == name {
			return true
		}
	}
	return false
}

// ParseCodingWeight reads one Accept-Encoding list element, `coding [ OWS ";" OWS
// "q=" qvalue ]` (RFC 9110 12.5.3): the coding as sent, its weight in thousandths
// (default 1000), and false for an element a recipient must ignore (no token, a
// malformed qvalue). Only SP and HTAB are whitespace; other parameters are ignored.
// The cache's variant key (NormalizeAcceptEncoding) and the edge's compression
// (compress.Negotiate) both read elements with it, so they never disagree on what a
// client accepts.
func ParseCodingWeight(elem string) (string, int, bool) {
	coding, params, _ := strings.Cut(elem, ";")
	coding = trimOWS(coding)
	if coding == "" || tokenPrefix(coding) != len(coding) {
		return "", 0, false
	}
	weight := 1000
	for params != "" {
		var p string
		p, params, _ = strings.Cut(params, ";")
		p = trimOWS(p)
		if len(p) >= 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=' {
			w, ok := parseQValue(p[2:])
			if !ok {
				return "", 0, false
			}
			weight = w
		}
	}
	return coding, weight, true
}

// parseQValue reads an RFC 9110 12.4.2 qvalue into thousandths.
func parseQValue(s string) (int, bool) {
	if s == "" || len(s) > 5 || (s[0] != '0' && s[0] != '1') {
		return 0, false
	}
	w := int(s[0]-'0') * 1000
	if len(s) == 1 {
		return w, true
	}
	if s[1] != '.' {
		return 0, false
	}
	scale := 100
	for i := 2; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		w += int(s[i]-'0') * scale
		scale /= 10
	}
	if w > 1000 {
		return 0, false
	}
	return w, true
}
