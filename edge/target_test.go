package edge

import (
	"bufio"
	"strings"
	"testing"

	"github.com/shoal-cdn/shoal/purge"
	"github.com/valyala/fasthttp"
)

// TestParseTarget_canonicalForm walks the folds RFC 3986 section 6.2.2 allows and the
// spellings that must stay distinct; each row's key is what the origin is sent.
func TestParseTarget_canonicalForm(t *testing.T) {
	tests := []struct {
		name, host, uri   string
		wantHost, wantURI string
	}{
		{"plain", "www.test", "/a/b.css", "www.test", "/a/b.css"},
		{"host case and default port", "WWW.Test:80", "/a", "www.test", "/a"},
		{"port leading zeros", "www.test:0080", "/a", "www.test", "/a"},
		{"other port kept", "www.test:8080", "/a", "www.test:8080", "/a"},
		{"trailing dot", "www.test.", "/a", "www.test", "/a"},
		{"ipv6", "[::1]:80", "/a", "[::1]", "/a"},
		{"ipv6 folded", "[0:0::1]:81", "/a", "[::1]:81", "/a"},
		{"unreserved decoded", "h", "/p/%7euser", "h", "/p/~user"},
		{"hex upper-cased", "h", "/p/a%2fb%c3%a9", "h", "/p/a%2Fb%C3%A9"},
		{"slashes kept", "h", "/p//c.css", "h", "/p//c.css"},
		{"encoded dots in a segment kept", "h", "/dyn/acct/..%2F..%2Fc/site.css", "h", "/dyn/acct/..%2F..%2Fc/site.css"},
		{"query order kept", "h", "/q?b=2&a=1", "h", "/q?b=2&a=1"},
		{"query folded", "h", "/q?x=%41%2b", "h", "/q?x=A%2B"},
		{"empty query kept (RFC 3986 6.2.3)", "h", "/q?", "h", "/q?"},
		{"empty query of an empty path", "h", "http://h?", "h", "/?"},
		{"empty query folded path", "h", "/%7eq?", "h", "/~q?"},
		{"absolute-form wins", "h", "http://Other.Test:80/x?y", "other.test", "/x?y"},
		{"absolute-form empty path", "h", "https://other.test", "other.test", "/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, bad := parseTarget("http", []byte(tt.uri), []byte(tt.host), 1, http11)
			if bad != nil {
				t.Fatalf("refused: %s", bad.msg)
			}
			if got.host != tt.wantHost || got.uri() != tt.wantURI {
				t.Errorf("got host %q target %q, want %q %q", got.host, got.uri(), tt.wantHost, tt.wantURI)
			}
			// The key is built from the same parts and adds nothing: it is the URL sent.
			if k := got.key("http"); k != "http://"+tt.wantHost+tt.wantURI {
				t.Errorf("key %q does not describe the request sent (%s%s)", k, tt.wantHost, tt.wantURI)
			}
		})
	}
}

func TestParseTarget_refusesClientMistakes(t *testing.T) {
	tests := []struct {
		name  string
		hosts []string
		uri   string
		want  string
	}{
		{"no Host", nil, "/a", "needs a Host"},
		{"two Host", []string{"a", "a"}, "/a", "more than one Host"},
		{"empty Host", []string{""}, "/a", "invalid Host"},
		{"userinfo Host", []string{"u:p@www.test"}, "/a", "invalid Host"},
		{"bad character", []string{"www.te$t"}, "/a", "invalid Host"},
		{"space in Host", []string{"www.te st"}, "/a", "invalid Host"},
		{"bad port", []string{"www.test:99999"}, "/a", "invalid Host"},
		{"port not digits", []string{"www.test:8a"}, "/a", "invalid Host"},
		{"two colons", []string{"www.test:80:80"}, "/a", "invalid Host"},
		{"open bracket", []string{"[::1"}, "/a", "invalid Host"},
		{"zone", []string{"[fe80::1%25eth0]"}, "/a", "invalid Host"},
		{"empty label", []string{"www..test"}, "/a", "invalid Host"},
		{"absolute-form userinfo", []string{"h"}, "http://u:p@www.test/a", "userinfo"},
		{"absolute-form bad authority", []string{"h"}, "http://www.te$t/a", "invalid authority"},
		{"fragment", []string{"h"}, "/a#b", "fragment"},
		{"dot-segment", []string{"h"}, "/p/../x", "dot-segment"},
		{"dot-segment single", []string{"h"}, "/p/./x", "dot-segment"},
		{"encoded dot-segment", []string{"h"}, "/p/%2e%2E/x", "dot-segment"},
		{"dot-segment at end", []string{"h"}, "/p/..", "dot-segment"},
		{"dot-segment with parameter", []string{"h"}, "/p/..;x=1/c.css", "dot-segment"},
		{"backslash", []string{"h"}, "/p\\..\\x", "backslash"},
		{"bad escape", []string{"h"}, "/p/%zz", "percent-encoding"},
		{"short escape", []string{"h"}, "/p/%4", "percent-encoding"},
		{"bad escape in query", []string{"h"}, "/p?a=%g1", "percent-encoding"},
		{"asterisk", []string{"h"}, "*", "origin-form"},
		{"authority-form", []string{"h"}, "www.test:443", "origin-form"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var first []byte
			if len(tt.hosts) > 0 {
				first = []byte(tt.hosts[0])
			}
			got, bad := parseTarget("http", []byte(tt.uri), first, len(tt.hosts), http11)
			if bad == nil {
				t.Fatalf("accepted as %q %q", got.host, got.uri())
			}
			if bad.status != 400 || !strings.Contains(bad.msg, tt.want) {
				t.Errorf("got %d %q, want 400 mentioning %q", bad.status, bad.msg, tt.want)
			}
		})
	}
}

// TestReadHTTP1Head_hostLines: the view reads the Host line as sent, in any case, and no
// other field passes for one; a head without one (HTTP/1.0 absolute-form, whose authority
// parseTarget takes from the target) counts none; a head built rather than read reports its
// parsed Host.
// (fasthttp refuses a second Host line before the handler runs: protocolError answers 400.)
func TestReadHTTP1Head_hostLines(t *testing.T) {
	read := func(raw string) *fasthttp.RequestHeader {
		var req fasthttp.Request
		if err := req.Read(bufio.NewReader(strings.NewReader(raw))); err != nil {
			t.Fatal(err)
		}
		return &req.Header
	}
	var l fieldList
	if first, n := readHTTP1Head(&l, read("GET / HTTP/1.1\r\nX-Host: b\r\nHOST: c\r\nHostile: d\r\n\r\n")); n != 1 || string(first) != "c" {
		t.Errorf("got %q, %d lines", first, n)
	}
	if first, n := readHTTP1Head(&l, read("GET http://abs.test/x HTTP/1.0\r\nX-Host: b\r\n\r\n")); n != 0 || first != nil {
		t.Errorf("absolute-form without Host: %q, %d", first, n)
	}
	var built fasthttp.Request // a head built, not read: no raw lines
	built.Header.SetHost("h.test")
	if first, n := readHTTP1Head(&l, &built.Header); n != 1 || string(first) != "h.test" {
		t.Errorf("a built head reports its parsed Host: %q, %d", first, n)
	}
}

func FuzzParseTarget(f *testing.F) {
	f.Add("www.test", "/p/%7e/a%2fb?x=%41")
	f.Add("u@h", "http://h:80/..%2F")
	f.Fuzz(func(t *testing.T, host, uri string) {
		got, bad := parseTarget("http", []byte(uri), []byte(host), 1, http11)
		if bad != nil {
			return
		}
		// Canonical means a fixed point: the accepted form parses to itself.
		again, bad := parseTarget("http", []byte(got.uri()), []byte(got.host), 1, http11)
		if bad != nil || again != got {
			t.Errorf("%q %q -> %+v -> %+v (%v)", host, uri, got, again, bad)
		}
		if hasDotSegment(got.path) || strings.Contains(got.host, "@") {
			t.Errorf("accepted %+v", got)
		}
	})
}

// TestParseTarget_agreesWithPurgeKeys: a purge of the URL a client requested finds the object
// the request stored (purge.KeyForURL parses with net/url, the edge with parseTarget).
func TestParseTarget_agreesWithPurgeKeys(t *testing.T) {
	for _, uri := range []string{
		"/a.css", "/p/%7euser", "/p/a%2fb", "/p//c", "/p/é.css", "/p/%C3%A9.css", "/p/{x}|y^`z",
		"/p/\"q\"<a>", "/p/!$&'()*+,;=:@", "/p/[x]", "/q?b=2&a=1", "/q?x=%7e&y=%2f", "/q?é=1",
		"/dyn/acct/..%2F..%2Fc/site.css", "/%41%42c",
	} {
		got, bad := parseTarget("http", []byte(uri), []byte("WWW.Example.com:80"), 1, http11)
		if bad != nil {
			t.Errorf("%q refused: %s", uri, bad.msg)
			continue
		}
		want, err := purge.KeyForURL("http://www.example.com" + uri)
		if err != nil {
			t.Errorf("KeyForURL(%q): %v", uri, err)
			continue
		}
		if k := got.key("http"); k != want {
			t.Errorf("%q: request key %q, purge key %q", uri, k, want)
		}
	}
}

// http11 is the protocol of the HTTP/1.1 requests these tests parse targets of.
var http11 = []byte("HTTP/1.1")
