package edge

import (
	"strings"
	"testing"
	"time"
)

// smuggled is what an attacker hides after a head the node refuses: if anything after the bad
// head is read as a request, the origin receives GET /dyn/SMUGGLED.
const smuggled = "GET /dyn/SMUGGLED HTTP/1.1\r\nHost: www.test\r\n\r\n"

// TestNode_refusedHeadClosesConnection: every answer to a head the node could not trust
// (RFC 9112 sections 6.1, 11.2; 400, 414, 417, 431, 505) is the last thing on the connection, and
// nothing after the bad head reaches the origin.
func TestNode_refusedHeadClosesConnection(t *testing.T) {
	origin := startRawLogOrigin(t)
	n := startNode(t, hostileConfig(origin.URL, "limits: {max_header_bytes: 4KiB}\n"), Options{})
	cases := []struct {
		name, raw, status string
	}{
		{"CL and TE", "POST /dyn/x HTTP/1.1\r\nHost: www.test\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled, "400"},
		{"TE twice", "POST /dyn/x HTTP/1.1\r\nHost: www.test\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled, "400"},
		{"TE by obs-fold", "POST /dyn/x HTTP/1.1\r\nHost: www.test\r\nContent-Length: 4\r\nX-A: b\r\n Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled, "400"},
		{"space before colon", "POST /dyn/x HTTP/1.1\r\nHost: www.test\r\nContent-Length : 5\r\n\r\nhello" + smuggled, "400"},
		{"obs-fold", "GET /dyn/x HTTP/1.1\r\nHost: www.test\r\nX-Folded: a\r\n b\r\n\r\n" + smuggled, "400"},
		{"NUL in value", "GET /dyn/x HTTP/1.1\r\nHost: www.test\r\nX-A: a\x00b\r\n\r\n" + smuggled, "400"},
		{"CR in value", "GET /dyn/x HTTP/1.1\r\nHost: www.test\r\nX-A: a\rb\r\n\r\n" + smuggled, "400"},
		{"bad name", "GET /dyn/x HTTP/1.1\r\nHost: www.test\r\nX(A): b\r\n\r\n" + smuggled, "400"},
		{"chunk size not hex", "POST /dyn/x HTTP/1.1\r\nHost: www.test\r\nTransfer-Encoding: chunked\r\n\r\n5g\r\nhello\r\n0\r\n\r\n" + smuggled, "400"},
		{"chunk size 0x5", "POST /dyn/x HTTP/1.1\r\nHost: www.test\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n" + smuggled, "400"},
		{"chunk size overflows", "POST /dyn/x HTTP/1.1\r\nHost: www.test\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000005\r\nhello\r\n0\r\n\r\n" + smuggled, "400"},
		{"chunk size with LF in extension", "POST /dyn/x HTTP/1.1\r\nHost: www.test\r\nTransfer-Encoding: chunked\r\n\r\n5;a\nb\r\nhello\r\n0\r\n\r\n" + smuggled, "400"},
		{"Content-Length with sign", "POST /dyn/x HTTP/1.1\r\nHost: www.test\r\nContent-Length: +5\r\n\r\nhello" + smuggled, "400"},
		{"lower-case version", "GET /dyn/x http/1.1\r\nHost: www.test\r\n\r\n" + smuggled, "400"},
		{"two spaces in request line", "GET  /dyn/x HTTP/1.1\r\nHost: www.test\r\n\r\n" + smuggled, "400"},
		{"missing Host", "GET /dyn/x HTTP/1.1\r\n\r\n" + smuggled, "400"},
		{"two Host", "GET /dyn/x HTTP/1.1\r\nHost: www.test\r\nHost: evil.test\r\n\r\n" + smuggled, "400"},
		{"userinfo Host", "GET /dyn/x HTTP/1.1\r\nHost: u:p@www.test\r\n\r\n" + smuggled, "400"},
		{"dot-segment", "GET /c/%2e%2e/dyn/x HTTP/1.1\r\nHost: www.test\r\n\r\n" + smuggled, "400"},
		{"HTTP/2.0 request line", "GET /dyn/x HTTP/2.0\r\nHost: www.test\r\n\r\n" + smuggled, "505"},
		{"HTTP/9.9 request line", "GET /dyn/x HTTP/9.9\r\nHost: www.test\r\n\r\n" + smuggled, "505"},
		{"head too large", "GET /dyn/x HTTP/1.1\r\nHost: www.test\r\nX-Big: " + strings.Repeat("x", 8<<10) + "\r\n\r\n" + smuggled, "431"},
		// Neighbours, each already refused when first tried (revproto3's review).
		{"two equal Content-Lengths", "POST /dyn/x HTTP/1.1\r\nHost: www.test\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello" + smuggled, "400"},
		{"Content-Length negative", "POST /dyn/x HTTP/1.1\r\nHost: www.test\r\nContent-Length: -5\r\n\r\nhello" + smuggled, "400"},
		{"Content-Length list", "POST /dyn/x HTTP/1.1\r\nHost: www.test\r\nContent-Length: 5, 5\r\n\r\nhello" + smuggled, "400"},
		{"Content-Length with inner space", "POST /dyn/x HTTP/1.1\r\nHost: www.test\r\nContent-Length: 5 5\r\n\r\nhello" + smuggled, "400"},
		{"Content-Length overflows", "POST /dyn/x HTTP/1.1\r\nHost: www.test\r\nContent-Length: 99999999999999999999999\r\n\r\nhello" + smuggled, "400"},
		{"TE chunked, identity", "POST /dyn/x HTTP/1.1\r\nHost: www.test\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n" + smuggled, "400"},
		{"TE xchunked", "POST /dyn/x HTTP/1.1\r\nHost: www.test\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n" + smuggled, "400"},
		{"chunk data longer than its size", "POST /dyn/x HTTP/1.1\r\nHost: www.test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloEXTRA\r\n0\r\n\r\n" + smuggled, "400"},
		{"chunk data shorter than its size", "POST /dyn/x HTTP/1.1\r\nHost: www.test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel\r\n0\r\n\r\n" + smuggled, "400"},
		{"chunk size line bare LF", "POST /dyn/x HTTP/1.1\r\nHost: www.test\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n" + smuggled, "400"},
		{"trailer Transfer-Encoding", "POST /dyn/x HTTP/1.1\r\nHost: www.test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nTransfer-Encoding: chunked\r\n\r\n" + smuggled, "400"},
		{"Host with inner space", "GET /dyn/x HTTP/1.1\r\nHost: www .test\r\n\r\n" + smuggled, "400"},
		{"empty Host", "GET /dyn/x HTTP/1.1\r\nHost:\r\n\r\n" + smuggled, "400"},
		{"request line too long", "GET /dyn/" + strings.Repeat("a", 8<<10) + " HTTP/1.1\r\nHost: www.test\r\n\r\n" + smuggled, "414"},
		{"DEL in value", "GET /dyn/x HTTP/1.1\r\nHost: www.test\r\nX-A: a\x7fb\r\n\r\n" + smuggled, "400"},
		{"empty field name", "GET /dyn/x HTTP/1.1\r\nHost: www.test\r\n: v\r\n\r\n" + smuggled, "400"},
		{"method not a token", "G(T /dyn/x HTTP/1.1\r\nHost: www.test\r\n\r\n" + smuggled, "400"},
		{"tab after the method", "GET\t/dyn/x HTTP/1.1\r\nHost: www.test\r\n\r\n" + smuggled, "400"},
		{"space after the version", "GET /dyn/x HTTP/1.1 \r\nHost: www.test\r\n\r\n" + smuggled, "400"},
		{"space in the target", "GET /dyn/x y HTTP/1.1\r\nHost: www.test\r\n\r\n" + smuggled, "400"},
		{"HTTP/0.9 request line", "GET /dyn/x\r\n\r\n" + smuggled, "400"},
		{"HTTP/1.10", "GET /dyn/x HTTP/1.10\r\nHost: www.test\r\n\r\n" + smuggled, "400"},
		{"pipelined after a 417", "POST /dyn/x HTTP/1.1\r\nHost: www.test\r\nExpect: 101-bogus\r\nContent-Length: 5\r\n\r\nhello" + smuggled, "417"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, closed := converse(t, n.HTTPAddr(), tc.raw, 3*time.Second)
			lines := statusLines(out)
			if len(lines) == 0 || !strings.Contains(lines[0], " "+tc.status+" ") {
				t.Errorf("answer %q, want %s", lines, tc.status)
			}
			if len(lines) > 1 {
				t.Errorf("the bytes after the refused head were read as a request: %q", lines)
			}
			if !closed {
				t.Error("the connection stayed open after the refusal")
			}
		})
	}
	if got := origin.requests(); len(got) > 0 {
		t.Errorf("the origin received %d requests, first %q", len(got), got[0].line)
	}
}

// TestNode_hostIsValidated: RFC 9112 section 3.2 and RFC 9110 section 7.2. A client's Host
// mistakes are 400s that never reach the origin, so they never count against its health;
// userinfo never becomes credentials; the authority of an absolute-form target wins over
// Host; a trailing dot, case and the default port are one host.
func TestNode_hostIsValidated(t *testing.T) {
	origin := startRawLogOrigin(t)
	n := startNode(t, hostileConfig(origin.URL, ""), Options{})
	addr := n.HTTPAddr()
	bad := []string{
		"GET /dyn/h HTTP/1.1\r\n\r\n",
		"GET /dyn/h HTTP/1.1\r\nHost: www.test\r\nhost: evil.test\r\n\r\n",
		"GET /dyn/h HTTP/1.1\r\nHost: u:p@www.test\r\n\r\n",
		"GET http://u:p@www.test/dyn/h HTTP/1.1\r\nHost: www.test\r\n\r\n",
		"GET /dyn/h HTTP/1.1\r\nHost: www.te$t\r\n\r\n",
		"GET /dyn/h HTTP/1.1\r\nHost: www.test:99999\r\n\r\n",
		"GET /dyn/h HTTP/1.1\r\nHost: www.test:8a\r\n\r\n",
		"GET /dyn/h HTTP/1.1\r\nHost: \r\n\r\n",
		"GET /dyn/h HTTP/1.0\r\nHost: \r\n\r\n",
	}
	// More than the pool's passive-ejection threshold (5 errors by default): today's 502s
	// would eject the only server and every later client would get 503.
	for i := 0; i < 2; i++ {
		for _, raw := range bad {
			if line := rawRequest(t, addr, raw); !strings.Contains(line, " 400 ") {
				t.Errorf("%q: got %q, want 400", raw, line)
			}
		}
	}
	if got := origin.requests(); len(got) > 0 {
		t.Fatalf("the origin received %d requests with a bad Host, first %q %q", len(got), got[0].line, got[0].fields)
	}
	if line := rawRequest(t, addr, "GET /dyn/ok HTTP/1.1\r\nHost: www.test\r\n\r\n"); !strings.Contains(line, " 200 ") {
		t.Fatalf("a good request after the bad ones: %q (a client mistake counted against the origin?)", line)
	}

	// Absolute-form: its authority wins, and the origin gets origin-form with that Host.
	out, _ := converse(t, addr, "GET http://Other.Test:80/c/abs.css HTTP/1.1\r\nHost: www.test\r\nConnection: close\r\n\r\n", 3*time.Second)
	if !strings.Contains(out, " 200 ") {
		t.Fatalf("absolute-form: %q", out)
	}
	last := origin.requests()[len(origin.requests())-1]
	if last.target() != "/c/abs.css" || strings.Join(last.values("Host"), ",") != "other.test" {
		t.Errorf("absolute-form reached the origin as %q with Host %q", last.line, last.values("Host"))
	}
	for _, r := range origin.requests() {
		if len(r.values("Authorization")) > 0 {
			t.Errorf("the node sent Authorization to the origin: %q", r.line)
		}
	}
	// The object is keyed under other.test: the same URL by Host is a hit, and a trailing
	// dot or upper case is the same host.
	for _, host := range []string{"other.test", "OTHER.test.", "other.test:80"} {
		n.settleFills()
		_, h, _ := get(t, "http://"+addr+"/c/abs.css", "Host", host)
		if !strings.Contains(h.Get("Cache-Status"), "hit") {
			t.Errorf("Host %q: %q, want a hit on the absolute-form object", host, h.Get("Cache-Status"))
		}
	}
	if got := origin.asked("/c/abs.css"); len(got) != 1 {
		t.Errorf("origin asked %d times for /c/abs.css", len(got))
	}
}

// TestNode_forwardingFieldsAreOurs: field names are case-insensitive (RFC 9110 section 5.1).
// Whatever case and however many lines a client used, the origin receives one
// X-Forwarded-For (the client's list, then the address the node saw), one X-Forwarded-Proto
// (ours), one Forwarded (RFC 7239: the client's elements, then ours), and none of the fields
// only a front proxy may set, unless the client is in trusted_proxies (reloaded by SIGHUP).
func TestNode_forwardingFieldsAreOurs(t *testing.T) {
	origin := startRawLogOrigin(t)
	n := startNode(t, hostileConfig(origin.URL, ""), Options{})
	spoof := "x-forwarded-for: evil\r\nX-FORWARDED-FOR: evil2\r\nx-forwarded-proto: evil\r\nforwarded: for=evil\r\n" +
		"x-forwarded-host: evil.test\r\nX-Original-URL: /admin\r\nx-rewrite-url: /admin\r\nX-HTTP-Method-Override: DELETE\r\n" +
		"X-Forwarded-Port: 1\r\nx-real-ip: 6.6.6.6\r\n"
	proxyOnly := []string{"X-Forwarded-Host", "X-Original-URL", "X-Rewrite-URL", "X-HTTP-Method-Override", "X-Forwarded-Port", "X-Real-IP"}
	check := func(path string, trusted bool) {
		t.Helper()
		if line := rawRequest(t, n.HTTPAddr(), "GET "+path+" HTTP/1.1\r\nHost: www.test\r\n"+spoof+"\r\n"); !strings.Contains(line, " 200 ") {
			t.Fatalf("%s: %q", path, line)
		}
		var r rawLogged
		for _, got := range origin.requests() {
			if got.target() == path {
				r = got
			}
		}
		want := map[string]string{
			"X-Forwarded-For":   "evil, evil2, 127.0.0.1",
			"X-Forwarded-Proto": "http",
			"Forwarded":         "for=evil, for=127.0.0.1;proto=http",
		}
		for name, v := range want {
			if got := r.values(name); len(got) != 1 || got[0] != v {
				t.Errorf("%s: origin received %s %q, want one line %q", path, name, got, v)
			}
		}
		for _, name := range proxyOnly {
			if got := r.values(name); trusted != (len(got) == 1) {
				t.Errorf("%s (trusted %v): origin received %s %q", path, trusted, name, got)
			}
		}
	}
	check("/c/fwd.css", false) // cache route
	check("/dyn/fwd", false)   // pass route
	if err := reloadConfig(t, n, hostileConfig(origin.URL, "trusted_proxies: [127.0.0.0/8]\n")); err != nil {
		t.Fatal(err)
	}
	check("/c/fwd-trusted.css", true)
	check("/dyn/fwd-trusted", true)
}

// TestNode_keyIsWhatTheOriginWasAsked: route, key and origin request come from one canonical
// target (issue 13 item 2, issue 18 item 4). Spellings an origin may tell apart are separate
// objects and the origin is asked for each; RFC 3986 section 6.2.2 equivalences are one object
// and the origin receives the folded form.
func TestNode_keyIsWhatTheOriginWasAsked(t *testing.T) {
	origin := startRawLogOrigin(t)
	n := startNode(t, hostileConfig(origin.URL, "purge: {allow: [127.0.0.0/8]}\n"), Options{})
	base := "http://" + n.HTTPAddr()
	fetch := func(path string) (cacheStatus, body string) {
		t.Helper()
		n.settleFills()
		_, h, b := get(t, base+path, "Host", "www.test")
		return h.Get("Cache-Status"), b
	}
	distinct := [][2]string{
		{"/p//c.css", "/p/c.css"},
		{"/p/a%2Fb.css", "/p/a/b.css"},
		{"/p/q.css?a=1&b=2", "/p/q.css?b=2&a=1"}, // query order: two objects by default
	}
	for _, pair := range distinct {
		for _, p := range pair {
			if status, body := fetch(p); strings.Contains(status, "hit") || body != p {
				t.Errorf("GET %s: %q with body %q, want a miss answered for %s", p, status, body, p)
			}
		}
		for _, p := range pair {
			if got := origin.asked(p); len(got) != 1 || got[0] != p {
				t.Errorf("origin asked %q for %s", got, p)
			}
		}
	}
	// One object for equivalent spellings; the origin receives the folded one.
	for i, p := range []string{"/p/%7euser", "/p/~user", "/p/%7Euser"} {
		status, body := fetch(p)
		if body != "/p/~user" || (i > 0) != strings.Contains(status, "hit") {
			t.Errorf("GET %s: %q with body %q", p, status, body)
		}
	}
	if got := origin.asked("/p/"); strings.Count(strings.Join(got, " "), "user") != 1 {
		t.Errorf("origin asked %q", got)
	}
	// Raw UTF-8 is sent, keyed and purged in its only valid spelling, percent-encoded.
	out, _ := converse(t, n.HTTPAddr(), "GET /p/\xc3\xa9.css HTTP/1.1\r\nHost: www.test\r\nConnection: close\r\n\r\n", 3*time.Second)
	if !strings.HasSuffix(out, "/p/%C3%A9.css") {
		t.Errorf("raw UTF-8 path: %q", out)
	}
	if status, body := fetch("/p/%c3%a9.css"); !strings.Contains(status, "hit") || body != "/p/%C3%A9.css" {
		t.Errorf("encoded UTF-8 path: %q %q, want a hit on the raw request's object", status, body)
	}
	// A target whose decoded form would route elsewhere is routed and keyed as sent.
	if status, body := fetch("/dyn/acct/..%2F..%2Fc/site.css"); !strings.Contains(status, "bypass") || body != "/dyn/acct/..%2F..%2Fc/site.css" {
		t.Errorf("encoded dot-segments: %q %q, want a pass of the target as sent", status, body)
	}
	if status, body := fetch("/c/site.css"); strings.Contains(status, "hit") || body != "/c/site.css" {
		t.Errorf("/c/site.css served %q from %q: the pass-route answer was stored under it", body, status)
	}
	// sort_params: the origin receives the sorted query it is keyed by.
	if _, body := fetch("/s/q?b=2&a=1&&c=3"); body != "/s/q?a=1&b=2&c=3" {
		t.Errorf("sorted route: origin was asked %q", body)
	}
	if status, _ := fetch("/s/q?a=1&c=3&b=2"); !strings.Contains(status, "hit") {
		t.Errorf("sorted route, another order: %q, want a hit", status)
	}
	// PURGE keys the URL the same way as a request: an unfolded spelling purges the object.
	out, _ = converse(t, n.HTTPAddr(), "PURGE /p/%7Euser HTTP/1.1\r\nHost: WWW.test\r\nConnection: close\r\n\r\n", 3*time.Second)
	if !strings.Contains(out, `"purged":1`) {
		t.Errorf("PURGE of an unfolded spelling: %q", out)
	}
	if status, _ := fetch("/p/~user"); strings.Contains(status, "hit") {
		t.Errorf("after PURGE: %q", status)
	}
}

// TestNode_versionAndBodies: the origin always gets HTTP/1.1 (RFC 9110 section 6.2) and
// HTTP/1.0 clients work; a GET or HEAD with content on a cache route is passed uncached, so
// an answer to a body the key does not describe is never shared.
func TestNode_versionAndBodies(t *testing.T) {
	origin := startRawLogOrigin(t)
	n := startNode(t, hostileConfig(origin.URL, ""), Options{})
	out, _ := converse(t, n.HTTPAddr(), "GET /c/v10.css HTTP/1.0\r\nHost: www.test\r\n\r\n", 3*time.Second)
	if !strings.Contains(out, " 200 ") || !strings.HasSuffix(out, "/c/v10.css") {
		t.Errorf("HTTP/1.0: %q", out)
	}
	if r := origin.requests(); len(r) != 1 || !strings.HasSuffix(r[0].line, " HTTP/1.1") {
		t.Errorf("origin request lines: %+v", r)
	}
	for _, raw := range []string{
		"GET /c/body.css HTTP/1.1\r\nHost: www.test\r\nContent-Length: 5\r\n\r\nhello",
		"GET /c/body.css HTTP/1.1\r\nHost: www.test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
		"HEAD /c/body.css HTTP/1.1\r\nHost: www.test\r\nContent-Length: 5\r\n\r\nhello",
	} {
		out, _ := converse(t, n.HTTPAddr(), strings.Replace(raw, "\r\n\r\n", "\r\nConnection: close\r\n\r\n", 1), 3*time.Second)
		if !strings.Contains(out, " 200 ") || !strings.Contains(out, "fwd=bypass") {
			t.Errorf("%q: %q, want a pass", raw, out)
		}
	}
	// Content-Length: 0 is no content: such a GET is cached like any other.
	for i := 0; i < 2; i++ {
		n.settleFills()
		out, _ := converse(t, n.HTTPAddr(), "GET /c/empty.css HTTP/1.1\r\nHost: www.test\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", 3*time.Second)
		if want := []string{"stored", "hit"}[i]; !strings.Contains(out, want) {
			t.Errorf("GET with Content-Length: 0, round %d: %q, want %s", i, out, want)
		}
	}
	_, h, _ := get(t, "http://"+n.HTTPAddr()+"/c/body.css", "Host", "www.test")
	if strings.Contains(h.Get("Cache-Status"), "hit") {
		t.Errorf("a GET without a body got the answer to one with a body: %q", h.Get("Cache-Status"))
	}
	bodies := 0
	for _, r := range origin.requests() {
		if r.body == "hello" {
			bodies++
		}
	}
	if bodies != 3 {
		t.Errorf("origin received %d of the 3 request bodies", bodies)
	}
	// OPTIONS * is about the server: answered here, never routed.
	if out, _ := converse(t, n.HTTPAddr(), "OPTIONS * HTTP/1.1\r\nHost: www.test\r\nConnection: close\r\n\r\n", 3*time.Second); !strings.Contains(out, " 200 ") || !strings.Contains(out, "Allow: ") {
		t.Errorf("OPTIONS *: %q", out)
	}
	// CONNECT and TRACE are not served.
	for _, raw := range []string{"CONNECT www.test:443 HTTP/1.1\r\nHost: www.test:443\r\n\r\n", "TRACE /dyn/t HTTP/1.1\r\nHost: www.test\r\n\r\n"} {
		if line := rawRequest(t, n.HTTPAddr(), raw); !strings.Contains(line, " 405 ") {
			t.Errorf("%q: %q, want 405", raw, line)
		}
	}
}

// TestCluster_canonicalTargetAcrossThePeerHop: a request that a non-owner forwards reaches
// the owner, and from it the origin, in the canonical form the non-owner keyed, with the
// forwarding fields of the original client and without the fields only a proxy may set.
func TestCluster_canonicalTargetAcrossThePeerHop(t *testing.T) {
	origin := startRawLogOrigin(t)
	nodes := startCluster(t, 3, origin.URL)
	spellings := []string{"/p/%7euser.css", "/p/~user.css", "/p/%7Euser.css"}
	owner, _ := nodes[0].Ring().Owner(cacheKey("http", "www.test", "/p/~user.css", ""))
	for i, n := range nodes {
		n.settleFills()
		out, _ := converse(t, n.HTTPAddr(), "GET "+spellings[i]+" HTTP/1.1\r\nHost: WWW.test\r\nx-forwarded-host: evil.test\r\nConnection: close\r\n\r\n", 5*time.Second)
		if !strings.Contains(out, " 200 ") || !strings.HasSuffix(out, "/p/~user.css") {
			t.Errorf("%s (owner %s) answered %q for %s", n.name, owner.Name, out, spellings[i])
		}
	}
	got := origin.requests()
	if len(got) != 1 {
		t.Fatalf("origin received %d requests, want one fill: %+v", len(got), got)
	}
	r := got[0]
	if r.target() != "/p/~user.css" || strings.Join(r.values("Host"), ",") != "www.test" {
		t.Errorf("origin received %q Host %q", r.line, r.values("Host"))
	}
	if xff := r.values("X-Forwarded-For"); len(xff) != 1 || xff[0] != "127.0.0.1" {
		t.Errorf("origin received X-Forwarded-For %q, want the client's address once", xff)
	}
	if h := r.values("X-Forwarded-Host"); len(h) > 0 {
		t.Errorf("a client's X-Forwarded-Host crossed the peer hop: %q", h)
	}
}

// TestNode_bareLFHeadIsRefused: a head with a bare LF line end that fasthttp parses (a CR LF
// CR LF comes after it, in the content or a pipelined request) is refused 400 with the
// connection closed, and nothing after it reaches the origin: a front proxy that does not
// take a bare LF as a line end reads those lines as one field and frames the stream
// differently (RFC 9112 section 2.2 allows either reading; the two must not meet on one
// stream). Before, the request and the smuggled one behind it were both forwarded.
func TestNode_bareLFHeadIsRefused(t *testing.T) {
	origin := startRawLogOrigin(t)
	n := startNode(t, hostileConfig(origin.URL, ""), Options{})
	cases := []struct{ name, raw string }{
		{"every line bare, request behind", "GET /dyn/a HTTP/1.1\nHost: www.test\nX-A: b\n\n" + smuggled},
		{"bare LF before Content-Length", "POST /dyn/b HTTP/1.1\r\nHost: www.test\r\nX-A: b\nContent-Length: 5\r\n\r\nhello" + smuggled},
		{"bare blank line", "GET /dyn/c HTTP/1.1\r\nHost: www.test\r\n\n" + smuggled},
		{"bare LF in the content's CRLFCRLF", "POST /dyn/d HTTP/1.1\nHost: www.test\nContent-Length: 4\n\n\r\n\r\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, closed := converse(t, n.HTTPAddr(), tc.raw, 3*time.Second)
			if lines := statusLines(out); len(lines) != 1 || !strings.Contains(lines[0], " 400 ") {
				t.Errorf("answers %q, want one 400", lines)
			}
			if !closed {
				t.Error("the connection stayed open after the 400")
			}
		})
	}
	if got := origin.requests(); len(got) > 0 {
		t.Errorf("the origin received %d requests, first %q", len(got), got[0].line)
	}
}
