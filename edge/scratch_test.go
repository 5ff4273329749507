package edge

import (
	"strings"
	"testing"

	"github.com/shoal-cdn/shoal/cachestore"
)

// Every test of the package runs with returned scratches overwritten: a borrowed target or
// key that some path keeps past its request (a fill, a revalidation, a forward) then reads
// "####" and the test that exercises that path fails on a wrong key or URL.
func init() { poisonScratch = true }

// TestRequestScratch_keyIsCacheKey: the key handle builds in its scratch is the one
// cachestore.Key (and so purge) computes for the same target, host and scheme, for every
// fold parseTarget makes and for a route's ignore_host and rewritten path.
func TestRequestScratch_keyIsCacheKey(t *testing.T) {
	targets := []struct{ host, uri string }{
		{"www.test", "/a/b.css"},
		{"WWW.Test:80", "/a"},
		{"www.test:0080", "/a"},
		{"www.test:8080", "/a"},
		{"www.test:443", "/a"},
		{"www.test.", "/a"},
		{"[::1]:80", "/a"},
		{"[0:0::1]:81", "/a"},
		{"h", "/p/%7euser"},
		{"h", "/p/a%2fb%c3%a9"},
		{"h", "/p//c.css"},
		{"h", "/q?b=2&a=1"},
		{"h", "/q?x=%41%2b"},
		{"h", "/q?"},
		{"h", "http://Other.Test:80/x?y"},
		{"h", "https://other.test"},
		{"h", "/caf\xc3\xa9/{x}"},
	}
	for _, scheme := range []string{"http", "https"} {
		for _, tt := range targets {
			sc := getScratch()
			got, bad := parseTargetIn(sc, scheme, []byte(tt.uri), []byte(tt.host), 1, http11)
			if bad != nil {
				t.Fatalf("%s %q %q refused: %s", scheme, tt.host, tt.uri, bad.msg)
			}
			want, _ := parseTarget(scheme, []byte(tt.uri), []byte(tt.host), 1, http11)
			if got != want {
				t.Errorf("%s %q %q: borrowed target %+v, want %+v", scheme, tt.host, tt.uri, got, want)
			}
			for _, c := range []struct{ host, path string }{
				{got.host, got.path},
				{ignoredHost, got.path},
				{got.host, "/rewritten/%7e" + got.path},
				{got.host, ""},
			} {
				if k, want := sc.key(scheme, c.host, c.path, got.query), cachestore.Key(scheme, c.host, c.path, got.query); k != want {
					t.Errorf("scratch key %q, cachestore.Key %q", k, want)
				}
			}
			putScratch(sc)
		}
	}
}

// TestRequestScratch_borrowedStringsSurviveGrowth: a target longer than the scratch's buffer
// moves it to a larger array; the strings borrowed before stay what they were.
func TestRequestScratch_borrowedStringsSurviveGrowth(t *testing.T) {
	sc := getScratch()
	defer putScratch(sc)
	first := sc.str([]byte("www.test"))
	long := "/" + strings.Repeat("a", 4*cap(sc.buf))
	second := sc.str([]byte(long))
	key := sc.key("http", first, second, "q=1")
	if first != "www.test" || second != long || key != "http://www.test"+long+"?q=1" {
		t.Fatalf("borrowed strings changed: %q, %d bytes, key %d bytes", first, len(second), len(key))
	}
}

// TestRequestScratch_nilCopies: outside handle (tests, the HTTP/2 probe) a nil scratch gives
// ordinary strings.
func TestRequestScratch_nilCopies(t *testing.T) {
	var sc *requestScratch
	b := []byte("www.test")
	s := sc.str(b)
	b[0] = 'X'
	if s != "www.test" {
		t.Fatalf("a nil scratch borrowed: %q", s)
	}
	if k := sc.key("http", "h", "/a", ""); k != "http://h/a" {
		t.Fatalf("nil scratch key %q", k)
	}
}
