package edge

import (
	"strings"
	"testing"
	"time"
)

// RFC 9110 section 5.5: the whitespace around a field value is spaces and tabs (OWS), and
// only that is the recipient's to remove. The bytes of a value ending in another space (UTF-8
// NBSP C2 A0, NEL C2 85, U+2000) are the value.

// TestNode_fieldValuesKeepUnicodeSpaces: the origin receives such values byte for byte, with
// spaces and tabs around them removed. Failed before: the HTTP/1.1 listener's walk of the raw
// head trimmed them with bytes.TrimSpace, and "X-N: <NBSP>v<NBSP>" reached the origin as "v".
func TestNode_fieldValuesKeepUnicodeSpaces(t *testing.T) {
	o := startRawLogOrigin(t)
	n := startNode(t, hostileConfig(o.URL, ""), Options{})
	fields := "X-N: \xc2\xa0v\xc2\xa0\r\nX-M: \tv\xc2\x85 \t\r\nX-O: \xe2\x80\x80\r\nX-L: caf\xe9\xa0\r\n"
	if status := oneResponse(t, n.HTTPAddr(), "GET /dyn/ows HTTP/1.1\r\nHost: www.example.com\r\n"+fields+"\r\n"); status != 200 {
		t.Fatalf("status %d", status)
	}
	got := o.requests()
	if len(got) != 1 {
		t.Fatalf("the origin received %d requests", len(got))
	}
	for name, want := range map[string]string{"X-N": "\xc2\xa0v\xc2\xa0", "X-M": "v\xc2\x85", "X-O": "\xe2\x80\x80", "X-L": "caf\xe9\xa0"} {
		var sent []string
		for _, f := range got[0].fields {
			if k, v, _ := strings.Cut(f, ":"); strings.EqualFold(k, name) {
				sent = append(sent, strings.Trim(v, " \t"))
			}
		}
		if len(sent) != 1 || sent[0] != want {
			t.Errorf("%s: the origin received %q, want %q", name, sent, want)
		}
	}
}

// TestNode_hostWithUnicodeSpaceIsRefused: a Host that ends in a Unicode space is not the
// host without it: 400, like any other character a host may not hold. Failed before: the
// value was trimmed, and the request was served (and keyed) as www.example.com.
func TestNode_hostWithUnicodeSpaceIsRefused(t *testing.T) {
	o := startRawLogOrigin(t)
	n := startNode(t, hostileConfig(o.URL, ""), Options{})
	for _, host := range []string{"www.example.com\xc2\xa0", "\xc2\xa0www.example.com", "www.example.com\xe2\x80\x80"} {
		out, _ := converse(t, n.HTTPAddr(), "GET /h.css HTTP/1.1\r\nHost: "+host+"\r\nConnection: close\r\n\r\n", 5*time.Second)
		if lines := statusLines(out); len(lines) != 1 || !strings.Contains(lines[0], " 400 ") {
			t.Errorf("Host %q: %q, want 400", host, lines)
		}
	}
	if got := o.requests(); len(got) != 0 {
		t.Errorf("the origin was asked %d times", len(got))
	}
}

// TestNode_cookieWithUnicodeSpaceIsAnotherKey: under cache_key.include_cookies, a cookie
// value ending in a Unicode space is another value, so another object: the client who sent
// it does not choose the object every "lang=en" client gets. Failed before: the pipeline's
// cookie walk trimmed it, and the second request was a hit on the first one's object.
func TestNode_cookieWithUnicodeSpaceIsAnotherKey(t *testing.T) {
	o := startRawLogOrigin(t)
	n := startNode(t, strings.Replace(hostileConfig(o.URL, ""), "routes:\n",
		"routes:\n  - {match: {path_prefix: /lang/}, origin: o, cache: true, cache_key: {include_cookies: [lang]}}\n", 1), Options{})
	for _, cookie := range []string{"lang=en\xc2\xa0", "lang=en"} {
		out, _ := converse(t, n.HTTPAddr(), "GET /lang/page HTTP/1.1\r\nHost: www.example.com\r\nCookie: "+cookie+"\r\nConnection: close\r\n\r\n", 5*time.Second)
		if !strings.Contains(out, " 200 ") || strings.Contains(out, "Cache-Status: shoal; hit") {
			t.Errorf("Cookie %q: want a miss, got %q", cookie, out)
		}
	}
	if got := o.asked("/lang/page"); len(got) != 2 {
		t.Errorf("the origin was asked %d times, want one per cookie value", len(got))
	}
}
