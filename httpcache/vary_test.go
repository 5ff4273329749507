package httpcache

import (
	"reflect"
	"testing"
)

func TestVaryNames(t *testing.T) {
	tests := []struct {
		name string
		h    Header
		want []string
	}{
		{"9111 4.1 lower-cased, sorted, deduplicated", hdr("Vary", "Accept-Encoding, User-Agent", "vary", "accept-encoding"), []string{"accept-encoding", "user-agent"}},
		{"9111 4.1 star kept", hdr("Vary", "*, Accept"), []string{"*", "accept"}},
		{"9110 5.6.1 empty elements and junk dropped", hdr("Vary", " , a b ,Origin,"), []string{"origin"}},
		{"9111 4.1 no Vary", hdr(), nil},
	}
	for _, tt := range tests {
		if got := VaryNames(tt.h); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestSecondaryKey(t *testing.T) {
	tests := []struct {
		name  string
		vary  []string
		a, b  Header
		equal bool
	}{
		{"9111 4.1 same value matches", []string{"accept-language"}, hdr("Accept-Language", "en"), hdr("accept-language", "en"), true},
		{"9111 4.1 different value misses", []string{"accept-language"}, hdr("Accept-Language", "en"), hdr("Accept-Language", "de"), false},
		{"9111 4.1 whitespace normalised", []string{"accept"}, hdr("Accept", "text/html,application/json"), hdr("Accept", "text/html , application/json"), true},
		{"9111 4.1 lines combined", []string{"accept"}, hdr("Accept", "a, b"), hdr("Accept", "a", "Accept", "b"), true},
		{"9111 4.1 case-insensitive field lower-cased", []string{"accept-language"}, hdr("Accept-Language", "EN-us"), hdr("Accept-Language", "en-US"), true},
		{"9111 4.1 case-sensitive field kept", []string{"x-token"}, hdr("X-Token", "A"), hdr("X-Token", "a"), false},
		{"9111 4.1 absent differs from empty", []string{"origin"}, hdr(), hdr("Origin", ""), false},
		{"9111 4.1 both absent match", []string{"origin"}, hdr(), hdr("X", "y"), true},
		{"9111 4.1 Accept-Encoding bucketed", []string{"accept-encoding"}, hdr("Accept-Encoding", "gzip, deflate, br"), hdr("Accept-Encoding", "br;q=1, gzip;q=0.8"), true},
		{"9111 4.1 Accept-Encoding buckets differ", []string{"accept-encoding"}, hdr("Accept-Encoding", "gzip"), hdr("Accept-Encoding", "br"), false},
		{"9111 4.1 values cannot forge a second field", []string{"a", "b"}, hdr("A", "1\nb=1:x"), hdr("A", "1", "B", "x"), false},
	}
	for _, tt := range tests {
		ka, oka := SecondaryKey(tt.vary, tt.a)
		kb, okb := SecondaryKey(tt.vary, tt.b)
		if !oka || !okb || (ka == kb) != tt.equal {
			t.Errorf("%s: keys %q / %q, equal want %v", tt.name, ka, kb, tt.equal)
		}
	}
	if _, ok := SecondaryKey([]string{"*"}, hdr()); ok {
		t.Error("9111 4.1 Vary * must never match")
	}
	if k, ok := SecondaryKey(nil, hdr("A", "b")); !ok || k != "" {
		t.Errorf("no Vary: %q %v", k, ok)
	}
}

func TestNormalizeAcceptEncoding(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"9110 12.5.3 chrome", "gzip, deflate, br, zstd", "zstd"},
		{"9110 12.5.3 firefox", "gzip, deflate, br", "br"},
		{"9110 12.5.3 curl default", "", ""},
		{"9110 12.5.3 gzip only", "gzip", "gzip"},
		{"9110 12.5.3 x-gzip alias", "x-gzip", "gzip"},
		{"9110 12.5.3 q=0 excludes", "br;q=0, gzip", "gzip"},
		{"9110 12.5.3 higher q wins", "br;q=0.5, gzip;q=0.9", "gzip"},
		{"9110 12.5.3 star covers unlisted codings", "*", "zstd"},
		{"9110 12.5.3 star with exclusions", "*;q=0.5, zstd;q=0, br;q=0", "gzip"},
		{"9110 12.5.3 identity only", "identity", ""},
		{"9110 12.5.3 explicit identity preferred", "identity;q=1, gzip;q=0.5", ""},
		{"9110 12.5.3 case-insensitive codings", "GZIP;Q=1", "gzip"},
		{"9110 12.4.2 invalid qvalue drops the element", "br;q=2, gzip", "gzip"},
		{"9110 12.5.3 unknown codings", "deflate, compress", ""},
		{"9110 12.5.3 q=0 alone is identity", "gzip;q=0", ""},
		{"9110 12.5.3 q=0.000 alone is identity", "gzip;q=0.000", ""},
		{"9110 12.5.3 a later coding refused is named", "zstd, br, gzip;q=0", "zstd-gzip"},
		{"9110 12.5.3 a later coding refused, spaced", "zstd, br, gzip ; q=0", "zstd-gzip"},
		{"9110 12.5.3 later codings not listed are refused", "zstd", "zstd-br-gzip"},
		{"9110 12.5.3 br alone refuses gzip", "br", "br-gzip"},
		{"9110 12.5.3 refused br, accepted gzip", "zstd, br;q=0, gzip", "zstd-br"},
		{"9110 12.5.3 star accepts the later codings", "zstd, *;q=0.1", "zstd"},
	}
	for _, tt := range tests {
		if got := NormalizeAcceptEncoding(tt.in); got != tt.want {
			t.Errorf("%s: NormalizeAcceptEncoding(%q) = %q, want %q", tt.name, tt.in, got, tt.want)
		}
	}
}

// TestBucketAccepts: a variant bucket shares only codings every request in it accepts (RFC
// 9110 12.5.3). "zstd, gzip;q=0" shared the zstd bucket of "gzip, deflate, br, zstd" and got
// the gzip an origin without zstd stored for it.
func TestBucketAccepts(t *testing.T) {
	tests := []struct {
		accept, coding string
		want           bool
	}{
		{"gzip, deflate, br, zstd", "gzip", true},
		{"gzip, deflate, br, zstd", "br", true},
		{"gzip, deflate, br, zstd", "zstd", true},
		{"gzip, deflate, br, zstd", "deflate", false},
		{"zstd, gzip;q=0", "gzip", false},
		{"zstd, gzip;q=0", "x-gzip", false},
		{"zstd, gzip;q=0", "br", false}, // not named, no "*"
		{"zstd, br, gzip;q=0", "br", true},
		{"zstd", "br", false},
		{"zstd", "zstd", true},
		{"zstd, br;q=0, gzip", "br", false},
		{"zstd, br;q=0, gzip", "GZIP", true},
		{"gzip, deflate, br", "gzip", true},
		{"gzip, deflate, br", "zstd", false},
		{"br", "gzip", false},
		{"gzip", "br", false},
		{"gzip;q=0", "gzip", false},
		{"gzip;q=0", "identity", true},
		{"deflate", "deflate", false},
	}
	for _, tt := range tests {
		bucket := NormalizeAcceptEncoding(tt.accept)
		if got := BucketAccepts(bucket, tt.coding); got != tt.want {
			t.Errorf("BucketAccepts(%q (from %q), %q) = %v, want %v", bucket, tt.accept, tt.coding, got, tt.want)
		}
	}
}
