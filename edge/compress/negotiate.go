package compress

import (
	"strings"

	"github.com/shoal-cdn/shoal/httpcache"
)

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
		coding, weight, ok := httpcache.ParseCodingWeight(elem)
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
