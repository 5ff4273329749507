package edge

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestNode_connectionListedFieldsAreNotKeyed: a field the client names in Connection is for
// that hop only (RFC 9110 section 7.6.1) and never reaches the origin, so it must not pick
// the object either: "Connection: X-Lang" with "X-Lang: fr" is answered as a request without
// X-Lang, and the answer stored under fr would be every later fr client's. Each row fills with
// the field named in Connection, then asks as a plain fr client, who must get the origin's
// answer for fr: under Vary: X-Lang, under cache_key.include_headers, and under
// cache_key.include_cookies with "Connection: Cookie". Failed before: the plain client got a
// hit with the origin's answer to no X-Lang ("lang=[]").
func TestNode_connectionListedFieldsAreNotKeyed(t *testing.T) {
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		if r.URL.Path == "/vary" {
			w.Header().Set("Vary", "X-Lang")
		}
		lang := r.Header.Get("X-Lang")
		if c, err := r.Cookie("lang"); err == nil {
			lang = c.Value
		}
		fmt.Fprintf(w, "lang=[%s]", lang)
	})
	n := policyNode(t, origin.URL, `  - match: {path_prefix: /header}
    origin: o
    cache: true
    cache_key: {include_headers: [X-Lang]}
  - match: {path_prefix: /cookie}
    origin: o
    cache: true
    cache_key: {include_cookies: [lang]}
  - match: {path_prefix: /}
    origin: o
    cache: true
`, "")
	for _, tc := range []struct {
		path, hop, plain string // the hop request's fields, the plain client's
	}{
		{"/vary", "Connection: X-Lang\r\nX-Lang: fr\r\n", "X-Lang: fr\r\n"},
		{"/header", "Connection: close, X-Lang\r\nX-Lang: fr\r\n", "X-Lang: fr\r\n"},
		{"/cookie", "Connection: Cookie\r\nCookie: lang=fr\r\n", "Cookie: lang=fr\r\n"},
	} {
		raw := func(fields string) string {
			out := rawResponse(t, n.HTTPAddr(), "GET "+tc.path+" HTTP/1.1\r\nHost: www.example.com\r\n"+fields+"Connection: close\r\n\r\n")
			return bodyOf(out)
		}
		if got := raw(tc.hop); got != "lang=[]" {
			t.Fatalf("%s with %q: %q, want the origin's answer without the field", tc.path, tc.hop, got)
		}
		n.settleFills()
		if got := raw(tc.plain); got != "lang=[fr]" {
			t.Fatalf("%s: a plain client with %q got %q after a request that named the field in Connection: the answer to another request",
				tc.path, strings.TrimSpace(tc.plain), got)
		}
		n.settleFills()
	}
}
