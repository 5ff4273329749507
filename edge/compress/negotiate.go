package compress

import "strings"

// Encoding is an HTTP content-coding Shoal can produce. The empty Encoding is identity.
type Encoding string

// The codings Shoal produces.
const (
	Identity Encoding = ""
	Gzip     Encoding = "gzip"
	Zstd     Encoding = "zstd"
	Brotli   Encoding = "br" // RFC 7932; "br" is its registered content-coding name
)

// ParseEncoding maps a configured name (compression.encodings) to its Encoding.
func ParseEncoding(name string) (Encoding, bool) {
	switch strings.ToLower(name) {
	case "gzip":
		return Gzip, true
	case "zstd":
		return Zstd, true
	case "br":
		return Brotli, true
	case "identity", "":
		return Identity, true
	}
	return Identity, false
}

// Negotiate picks the coding to send a client with the given Accept-Encoding among offered,
// the configured codings in order of preference (RFC 9110 section 12.5.3).
//
// The coding with the highest qvalue wins; q=0 means "not acceptable"; "*" stands for every
// coding the client does not name; "x-gzip" is gzip. Ties go to the earlier offered coding, so
// the answer depends only on which offered codings the client accepts and how it ranks them:
// the thousands of Accept-Encoding strings in the wild collapse into len(offered)+1 buckets,
// which is what keeps the number of stored variants small. Identity is the fallback: when
// nothing offered is acceptable, when the header is empty or absent (clients that send none
// are usually tools that cannot decode), or when the client ranks identity explicitly above
// every offered coding. Even "identity;q=0" with nothing acceptable yields identity: an
// uncompressed body is better than a 406 from a cache.
func Negotiate(acceptEncoding string, offered []Encoding) Encoding {
	if len(offered) == 0 || acceptEncoding == "" {
		return Identity
	}
	// weight of each offered coding in thousandths; -1 while the client has not named it.
	var small [4]int
	weights := small[:0]
	for range offered {
		weights = append(weights, -1)
	}
	star, identity := -1, -1
	for elem := range strings.SplitSeq(acceptEncoding, ",") {
		coding, weight, ok := parseElement(elem)
		if !ok {
			continue
		}
		switch {
		case coding == "*":
			star = max(star, weight)
			continue
		case strings.EqualFold(coding, "identity"):
			identity = max(identity, weight)
			continue
		case strings.EqualFold(coding, "x-gzip"):
			coding = string(Gzip)
		}
		for i, enc := range offered {
			if enc != Identity && strings.EqualFold(coding, string(enc)) {
				weights[i] = max(weights[i], weight)
			}
		}
	}
	best, bestWeight := Identity, 0
	for i, enc := range offered {
		w := weights[i]
		if w < 0 {
			w = star
		}
		if enc != Identity && w > bestWeight {
			best, bestWeight = enc, w
		}
	}
	if identity > bestWeight {
		return Identity
	}
	return best
}

// parseElement reads one list element, `coding [ OWS ";" OWS "q=" qvalue ]`, with the weight
// in thousandths (default 1000). A malformed qvalue makes the whole element unusable, as if
// the client had not sent it; other parameters are ignored.
func parseElement(elem string) (coding string, weight int, ok bool) {
	coding, params, _ := strings.Cut(elem, ";")
	coding = strings.TrimSpace(coding)
	if coding == "" || strings.ContainsAny(coding, " \t\"") {
		return "", 0, false
	}
	weight = 1000
	for params != "" {
		var p string
		p, params, _ = strings.Cut(params, ";")
		p = strings.TrimSpace(p)
		if len(p) < 2 || p[0] != 'q' && p[0] != 'Q' || p[1] != '=' {
			continue
		}
		if weight, ok = parseQValue(p[2:]); !ok {
			return "", 0, false
		}
	}
	return coding, weight, true
}

// parseQValue reads an RFC 9110 section 12.4.2 qvalue ("0", "0.5", "1.000") in thousandths.
func parseQValue(s string) (int, bool) {
	if s == "" || len(s) > 5 || s[0] != '0' && s[0] != '1' {
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
	for _, c := range []byte(s[2:]) {
		if c < '0' || c > '9' {
			return 0, false
		}
		w += int(c-'0') * scale
		scale /= 10
	}
	return w, w <= 1000
}
