package httpcache

import "strings"

// packedNames are the field names a PackedHeader stores as one byte instead of their text:
// the names of HPACK's static table (RFC 7541 Appendix A) as HTTP/1.1 servers spell them,
// and a few a CDN's origins send often. Code i (1 to 127) is packedNames[i] spelled exactly
// so; code 128+i is the same name in lower case (HTTP/2 origins and some HTTP/1.1 servers).
// No two names are the same in lower case, so two codes name the same field exactly when they
// are equal below 128 (TestPackedNames_oneCodePerName).
// A name spelled any other way is stored as text: a stored header gives back its names as
// they were sent. Codes are only in memory, never on disk: the table may grow.
var packedNames = [...]string{"",
	"Accept", "Accept-Charset", "Accept-Encoding", "Accept-Language", "Accept-Ranges",
	"Access-Control-Allow-Origin", "Age", "Allow", "Alt-Svc", "Authorization",
	"Cache-Control", "Cache-Tag", "Connection", "Content-Disposition", "Content-Encoding",
	"Content-Language", "Content-Length", "Content-Location", "Content-Range",
	"Content-Security-Policy", "Content-Type", "Cookie", "Date", "ETag", "Expect", "Expires",
	"From", "Host", "If-Match", "If-Modified-Since", "If-None-Match", "If-Range",
	"If-Unmodified-Since", "Keep-Alive", "Last-Modified", "Link", "Location", "Max-Forwards",
	"Proxy-Authenticate", "Proxy-Authorization", "Range", "Referer", "Refresh", "Retry-After",
	"Server", "Set-Cookie", "Strict-Transport-Security", "Surrogate-Control", "Surrogate-Key",
	"Timing-Allow-Origin", "Transfer-Encoding", "User-Agent", "Vary", "Via", "WWW-Authenticate",
	"X-Content-Type-Options", "X-Frame-Options", "X-XSS-Protection", "Pragma",
}

// lowerPackedNames is packedNames in lower case, for codes 128 and above.
var lowerPackedNames = func() (out [len(packedNames)]string) {
	for i, n := range packedNames {
		out[i] = strings.ToLower(n)
	}
	return out
}()

// packedCodes maps each spelling in packedNames and lowerPackedNames to its code.
var packedCodes = func() map[string]byte {
	m := make(map[string]byte, 2*len(packedNames))
	for i := 1; i < len(packedNames); i++ {
		m[lowerPackedNames[i]] = byte(128 + i)
		m[packedNames[i]] = byte(i)
	}
	return m
}()

// packedName is the name code c stands for.
func packedName(c byte) string {
	if c >= 128 {
		return lowerPackedNames[c-128]
	}
	return packedNames[c]
}
