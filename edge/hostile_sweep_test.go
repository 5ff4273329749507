package edge

import (
	"strings"
	"testing"
	"time"
)

// sweepCase is one hostile HTTP/1.1 stream: raw is written on a new connection, with
// "{P}" replaced by the case's own path and "{S}" by a request for that path plus
// "-SMUGGLED". A refused stream (status 4xx/5xx) must be answered once, closed, and reach
// the origin not at all; an accepted one must reach it as exactly the requests listed in
// origin, each framed by the node and without the client's hop-by-hop fields.
type sweepCase struct {
	name, raw, status string
	origin            []string // request lines the origin must receive, "{P}" replaced
	rfc               string   // the section of RFC 9112 the shape is about, unless another RFC is named
}

// TestNode_hostileSweepHTTP1 is the sweep recorded in the README's "Hostile clients"
// section, run against a node in front of an origin that logs every byte it receives. The
// cases already held by TestNode_refusedHeadClosesConnection are not repeated.
func TestNode_hostileSweepHTTP1(t *testing.T) {
	origin := startRawLogOrigin(t)
	n := startNode(t, hostileConfig(origin.URL, "limits: {max_header_bytes: 4KiB}\n"), Options{})
	const H = "Host: www.test\r\n"
	const chunked = "Transfer-Encoding: chunked\r\n"
	ok := func(method string) []string { return []string{method + " {P} HTTP/1.1"} }
	cases := []sweepCase{
		// Request line (RFC 9112 section 3).
		{"NUL in the target", "GET {P}\x00b HTTP/1.1\r\n" + H + "\r\n{S}", "400", nil, "3.2"},
		{"CR in the target", "GET {P}\rb HTTP/1.1\r\n" + H + "\r\n{S}", "400", nil, "2.2"},
		{"CR CR LF ending the request line", "GET {P} HTTP/1.1\r\r\n" + H + "\r\n{S}", "400", nil, "2.2"},
		{"bare CR ending the request line", "GET {P} HTTP/1.1\r" + H + "\r\n{S}", "400", nil, "2.2"},
		{"lower-case method", "get {P} HTTP/1.1\r\n" + H + "\r\n{S}", "400", nil, "3.1"},
		{"control byte in the method", "GE\x01T {P} HTTP/1.1\r\n" + H + "\r\n{S}", "400", nil, "3.1"},
		{"non-ASCII byte in the method", "G\xffT {P} HTTP/1.1\r\n" + H + "\r\n{S}", "400", nil, "3.1"},
		{"fragment in the target", "GET {P}#f HTTP/1.1\r\n" + H + "\r\n{S}", "400", nil, "3.2"},
		{"absolute-form, unknown scheme", "GET foo://www.test{P} HTTP/1.1\r\n" + H + "\r\n{S}", "400", nil, "3.2.2"},
		{"absolute-form with userinfo", "GET http://u@www.test{P} HTTP/1.1\r\n" + H + "\r\n{S}", "400", nil, "3.2.2"},
		{"absolute-form without a host", "GET http://{P} HTTP/1.1\r\n" + H + "\r\n{S}", "400", nil, "3.2.2"},
		{"authority-form on GET", "GET www.test:80 HTTP/1.1\r\n" + H + "\r\n{S}", "400", nil, "3.2.3"},
		{"asterisk-form on GET", "GET * HTTP/1.1\r\n" + H + "\r\n{S}", "400", nil, "3.2.4"},
		{"CONNECT", "CONNECT www.test:80 HTTP/1.1\r\n" + H + "\r\n{S}", "405", nil, "3.2.3"},
		{"HTTP/01.1", "GET {P} HTTP/01.1\r\n" + H + "\r\n{S}", "400", nil, "2.3"},
		{"HTTP/1.01", "GET {P} HTTP/1.01\r\n" + H + "\r\n{S}", "400", nil, "2.3"},
		{"NUL after the version", "GET {P} HTTP/1.1\x00\r\n" + H + "\r\n{S}", "400", nil, "2.3"},
		{"an empty line before the request line", "\r\nGET {P} HTTP/1.1\r\n" + H + "Connection: close\r\n\r\n", "200", ok("GET"), "2.2"},
		// Host (RFC 9112 section 3.2, RFC 9110 section 7.2).
		{"Host port not a number", "GET {P} HTTP/1.1\r\nHost: www.test:abc\r\n\r\n{S}", "400", nil, "3.2"},
		{"Host port above 65535", "GET {P} HTTP/1.1\r\nHost: www.test:99999\r\n\r\n{S}", "400", nil, "3.2"},
		{"Host with a path", "GET {P} HTTP/1.1\r\nHost: www.test/evil\r\n\r\n{S}", "400", nil, "3.2"},
		{"Host an open IPv6 literal", "GET {P} HTTP/1.1\r\nHost: [::1\r\n\r\n{S}", "400", nil, "3.2"},
		{"Host a list", "GET {P} HTTP/1.1\r\nHost: www.test, evil.test\r\n\r\n{S}", "400", nil, "3.2"},
		{"Host with a non-ASCII byte", "GET {P} HTTP/1.1\r\nHost: www.t\xffst\r\n\r\n{S}", "400", nil, "3.2"},
		{"HTTP/1.0 without Host", "GET {P} HTTP/1.0\r\n\r\n", "200", ok("GET"), "3.2"},
		// Field lines (RFC 9112 section 5, RFC 9110 section 5.5).
		{"non-ASCII byte in a name", "GET {P} HTTP/1.1\r\n" + H + "X-\xff: 1\r\n\r\n{S}", "400", nil, "5.1"},
		{"NUL in a name", "GET {P} HTTP/1.1\r\n" + H + "X-\x00A: 1\r\n\r\n{S}", "400", nil, "5.1"},
		{"obs-text in a value", "GET {P} HTTP/1.1\r\n" + H + "X-A: \xff\r\nConnection: close\r\n\r\n", "200", ok("GET"), "5.5"},
		// Transfer-Encoding (RFC 9112 sections 6.1 and 6.3).
		{"TE on HTTP/1.0", "POST {P} HTTP/1.0\r\n" + H + chunked + "\r\n5\r\nhello\r\n0\r\n\r\n{S}", "400", nil, "6.1"},
		{"TE on HTTP/1.0 with keep-alive", "POST {P} HTTP/1.0\r\n" + H + "Connection: keep-alive\r\n" + chunked + "\r\n5\r\nhello\r\n0\r\n\r\n{S}", "400", nil, "6.1"},
		{"TE identity with Content-Length", "POST {P} HTTP/1.1\r\n" + H + "Transfer-Encoding: identity\r\nContent-Length: 5\r\n\r\nhello{S}", "400", nil, "6.1"},
		{"TE identity alone", "POST {P} HTTP/1.1\r\n" + H + "Transfer-Encoding: identity\r\n\r\nhello{S}", "400", nil, "6.1"},
		{"TE empty", "POST {P} HTTP/1.1\r\n" + H + "Transfer-Encoding: \r\n\r\n{S}", "400", nil, "6.1"},
		{"TE with an empty member", "POST {P} HTTP/1.1\r\n" + H + "Transfer-Encoding: , chunked\r\n\r\n0\r\n\r\n{S}", "400", nil, "6.1"},
		{"TE gzip, chunked", "POST {P} HTTP/1.1\r\n" + H + "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n{S}", "400", nil, "6.1"},
		{"TE after a vertical tab", "POST {P} HTTP/1.1\r\n" + H + "Transfer-Encoding:\x0bchunked\r\n\r\n0\r\n\r\n{S}", "400", nil, "6.1"},
		{"TE in capitals", "POST {P} HTTP/1.1\r\n" + H + "Transfer-Encoding: CHUNKED\r\n\r\n5\r\nhello\r\n0\r\n\r\n{S}", "200", ok("POST"), "7"},
		{"TE between tabs", "POST {P} HTTP/1.1\r\n" + H + "Transfer-Encoding:\tchunked\t\r\n\r\n5\r\nhello\r\n0\r\n\r\n{S}", "200", ok("POST"), "5.5"},
		{"TE on GET", "GET {P} HTTP/1.1\r\n" + H + chunked + "\r\n5\r\nhello\r\n0\r\n\r\n{S}", "200", ok("GET"), "6.3"},
		// Content-Length (RFC 9112 section 6.3, RFC 9110 section 8.6).
		{"CL with leading zeros", "POST {P} HTTP/1.1\r\n" + H + "Content-Length: 005\r\nConnection: close\r\n\r\nhello", "200", ok("POST"), "8.6"},
		{"CL 5 and 005", "POST {P} HTTP/1.1\r\n" + H + "Content-Length: 5\r\nContent-Length: 005\r\n\r\nhello{S}", "400", nil, "6.3"},
		{"CL in hex", "POST {P} HTTP/1.1\r\n" + H + "Content-Length: 0x5\r\n\r\nhello{S}", "400", nil, "6.3"},
		{"CL with a trailing comma", "POST {P} HTTP/1.1\r\n" + H + "Content-Length: 5,\r\n\r\nhello{S}", "400", nil, "6.3"},
		{"CL on GET", "GET {P} HTTP/1.1\r\n" + H + "Content-Length: 5\r\nConnection: close\r\n\r\nhello", "200", ok("GET"), "6.3"},
		{"CL on HEAD", "HEAD {P} HTTP/1.1\r\n" + H + "Content-Length: 5\r\nConnection: close\r\n\r\nhello", "200", ok("HEAD"), "6.3"},
		// Chunked content (RFC 9112 section 7.1).
		{"chunk extension with a quoted CR LF", "POST {P} HTTP/1.1\r\n" + H + chunked + "\r\n5;a=\"b\r\nc\"\r\nhello\r\n0\r\n\r\n{S}", "400", nil, "7.1.1"},
		{"chunk extension quoted", "POST {P} HTTP/1.1\r\n" + H + chunked + "\r\n5;a=\"b c\"\r\nhello\r\n0\r\n\r\n{S}", "200", ok("POST"), "7.1.1"},
		{"chunk size with 20 leading zeros", "POST {P} HTTP/1.1\r\n" + H + chunked + "\r\n000000000000000000005\r\nhello\r\n0\r\n\r\n{S}", "200", ok("POST"), "7.1"},
		{"BWS before a chunk extension", "POST {P} HTTP/1.1\r\n" + H + chunked + "\r\n5 ;a=b\r\nhello\r\n0\r\n\r\n{S}", "200", ok("POST"), "7.1.1"},
		{"last chunk with an extension", "POST {P} HTTP/1.1\r\n" + H + chunked + "\r\n5\r\nhello\r\n0;x=y\r\n\r\n{S}", "200", ok("POST"), "7.1"},
		{"Content-Length in the trailer", "POST {P} HTTP/1.1\r\n" + H + chunked + "\r\n5\r\nhello\r\n0\r\nContent-Length: 50\r\n\r\n{S}", "400", nil, "7.1.2"},
		{"Host in the trailer", "POST {P} HTTP/1.1\r\n" + H + chunked + "\r\n5\r\nhello\r\n0\r\nHost: evil.test\r\n\r\n{S}", "200", ok("POST"), "7.1.2"},
		{"obs-fold in the trailer", "POST {P} HTTP/1.1\r\n" + H + chunked + "\r\n5\r\nhello\r\n0\r\nX-T: 1\r\n Content-Length: 4\r\n\r\n{S}", "400", nil, "7.1.2"},
		{"bytes after the last chunk", "POST {P} HTTP/1.1\r\n" + H + chunked + "\r\n5\r\nhello\r\n0\r\n\r\nXYZ{S}", "200", ok("POST"), "7.1"},
		{"last chunk without its CR LF", "POST {P} HTTP/1.1\r\n" + H + chunked + "\r\n5\r\nhello\r\n0\r\n{S}", "400", nil, "7.1"},
		{"chunk data without its CR LF", "POST {P} HTTP/1.1\r\n" + H + chunked + "\r\n5\r\nhelloXX0\r\n\r\n{S}", "400", nil, "7.1"},
		{"100-continue, then a bad chunk", "POST {P} HTTP/1.1\r\n" + H + "Expect: 100-continue\r\n" + chunked + "\r\nZZ\r\nhello\r\n0\r\n\r\n{S}", "400", nil, "7.1"},
		{"unknown expectation", "POST {P} HTTP/1.1\r\n" + H + "Expect: 100-continue, foo\r\nContent-Length: 5\r\n\r\nhello{S}", "417", nil, "RFC 9110 10.1.1"},
		{"TRACE", "TRACE {P} HTTP/1.1\r\n" + H + "\r\n{S}", "405", nil, "RFC 9110 9.3.8"},
		{"request too large", "POST {P} HTTP/1.1\r\n" + H + "Content-Length: 999999999\r\n\r\nhello{S}", "413", nil, "6.3"},
		// Hop-by-hop fields (RFC 9110 section 7.6.1, RFC 9113 section 3.2 of RFC 7540).
		{"Connection names Content-Length", "POST {P} HTTP/1.1\r\n" + H + "Connection: Content-Length\r\nContent-Length: 5\r\n\r\nhello{S}", "200", []string{"POST {P} HTTP/1.1", "GET {P}-SMUGGLED HTTP/1.1"}, "7.6.1"},
		{"Connection names Transfer-Encoding", "POST {P} HTTP/1.1\r\n" + H + "Connection: Transfer-Encoding\r\n" + chunked + "\r\n5\r\nhello\r\n0\r\n\r\n{S}", "200", ok("POST"), "7.6.1"},
		{"h2c upgrade", "GET {P} HTTP/1.1\r\n" + H + "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n{S}", "200", []string{"GET {P} HTTP/1.1", "GET {P}-SMUGGLED HTTP/1.1"}, "7.8"},
		{"h2c upgrade, HTTP2-Settings unlisted", "POST {P} HTTP/1.1\r\n" + H + "Connection: Upgrade\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\nContent-Length: 5\r\n\r\nhello{S}", "200", []string{"POST {P} HTTP/1.1", "GET {P}-SMUGGLED HTTP/1.1"}, "7.8"},
		{"Upgrade without Connection", "GET {P} HTTP/1.1\r\n" + H + "Upgrade: h2c\r\nConnection: close\r\n\r\n", "200", ok("GET"), "7.8"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // a refused or keep-alive stream is read until the wait ends
			path := "/dyn/sweep-" + string(rune('a'+i/26)) + string(rune('a'+i%26))
			raw := strings.ReplaceAll(tc.raw, "{S}", "GET {P}-SMUGGLED HTTP/1.1\r\n"+H+"\r\n")
			raw = strings.ReplaceAll(raw, "{P}", path)
			out, closed := converse(t, n.HTTPAddr(), raw, 2*time.Second)
			lines := statusLines(out)
			if len(lines) == 0 || !strings.Contains(lines[len(lines)-1], " "+tc.status+" ") && !strings.Contains(lines[0], " "+tc.status+" ") {
				t.Errorf("%s: answers %q, want %s", tc.rfc, lines, tc.status)
			}
			var got []rawLogged
			for _, r := range origin.requests() {
				if strings.HasPrefix(r.target(), path) {
					got = append(got, r)
				}
			}
			if tc.origin == nil {
				if !closed || len(lines) != 1 && !strings.Contains(lines[0], " 100 ") {
					t.Errorf("%s: refused with %q, closed %v: want one answer and the connection closed", tc.rfc, lines, closed)
				}
				if len(got) > 0 {
					t.Errorf("%s: the origin received %q", tc.rfc, got[0].line)
				}
				return
			}
			if len(got) != len(tc.origin) {
				t.Fatalf("%s: the origin received %d requests, want %d: %v", tc.rfc, len(got), len(tc.origin), got)
			}
			for j, r := range got {
				if want := strings.ReplaceAll(tc.origin[j], "{P}", path); r.line != want {
					t.Errorf("origin request %d: %q, want %q", j, r.line, want)
				}
				if hosts := r.values("Host"); !strings.Contains(raw, "HTTP/1.0") && (len(hosts) != 1 || hosts[0] != "www.test") {
					t.Errorf("origin request %d: Host %q, want the client's www.test (never a trailer's)", j, hosts)
				}
				if bad := hopFieldsIn(r.names()); len(bad) > 0 {
					t.Errorf("origin request %d carries %v: %q", j, bad, r.fields)
				}
				if strings.HasPrefix(r.line, "POST") && r.body != "hello" {
					t.Errorf("origin request %d: content %q, want hello", j, r.body)
				}
			}
		})
	}
}

// TestNode_hostileSweepHTTP2 is the HTTP/2 half of the sweep (RFC 9113 sections 8.2 and 8.3),
// beside TestAttack_http2MalformedNeverReachesTheOrigin: each malformed request is reset or
// answered 4xx and reaches the origin not at all; each accepted one reaches it once, as an
// HTTP/1.1 request the node framed, without connection-specific fields.
func TestNode_hostileSweepHTTP2(t *testing.T) {
	origin := startRawLogOrigin(t)
	n, _, _ := tlsNode(t, origin.URL, "")
	req := h2Req
	cases := []struct {
		name   string
		fields [][2]string
		data   []string
		status string // "" a reset
	}{
		{"proxy-connection", req("GET", "/h2s/a", [2]string{"proxy-connection", "keep-alive"}), nil, ""},
		{"te: Trailers", req("GET", "/h2s/b", [2]string{"te", "Trailers"}), nil, ""},
		{"te: trailers, gzip", req("GET", "/h2s/c", [2]string{"te", "trailers, gzip"}), nil, ""},
		{"NUL in a value", req("GET", "/h2s/d", [2]string{"x-a", "a\x00b"}), nil, ""},
		{"LF in a value", req("GET", "/h2s/e", [2]string{"x-a", "a\nb"}), nil, ""},
		{"CR in a value", req("GET", "/h2s/f", [2]string{"x-a", "a\rb"}), nil, ""},
		{"value starting with a space", req("GET", "/h2s/g", [2]string{"x-a", " ab"}), nil, ""},
		{"LF in a name", req("GET", "/h2s/h", [2]string{"x-a\nx-b", "1"}), nil, ""},
		{"colon in a name", req("GET", "/h2s/i", [2]string{"x-a:b", "1"}), nil, ""},
		{"space in a name", req("GET", "/h2s/j", [2]string{"x a", "1"}), nil, ""},
		{"empty name", req("GET", "/h2s/k", [2]string{"", "1"}), nil, ""},
		{"unknown pseudo-field", req("GET", "/h2s/l", [2]string{":foo", "1"}), nil, ""},
		{"response pseudo-field", req("GET", "/h2s/m", [2]string{":status", "200"}), nil, ""},
		{"no :scheme", [][2]string{{":method", "GET"}, {":authority", "www.test"}, {":path", "/h2s/n"}}, nil, ""},
		{"CONNECT with :path", [][2]string{{":method", "CONNECT"}, {":authority", "www.test:443"}, {":path", "/h2s/o"}, {":scheme", "https"}}, nil, ""},
		{"extended CONNECT, not offered", [][2]string{{":method", "CONNECT"}, {":protocol", "websocket"}, {":scheme", "https"}, {":authority", "www.test"}, {":path", "/h2s/p"}}, nil, ""},
		{"content-length +5", req("POST", "/h2s/q", [2]string{"content-length", "+5"}), []string{"hello"}, ""},
		{"content-length twice, equal", req("POST", "/h2s/r", [2]string{"content-length", "5"}, [2]string{"content-length", "5"}), []string{"hello"}, ""},
		{"content-length list", req("POST", "/h2s/s", [2]string{"content-length", "5, 5"}), []string{"hello"}, ""},
		{"upgrade: h2c", req("GET", "/h2s/t", [2]string{"upgrade", "h2c"}), nil, ""},
		{"host other than :authority", req("GET", "/h2s/u", [2]string{"host", "evil.test"}), nil, "400"},
		{"no :authority, no host", [][2]string{{":method", "GET"}, {":scheme", "https"}, {":path", "/h2s/v"}}, nil, "400"},
		{":authority with userinfo", [][2]string{{":method", "GET"}, {":scheme", "https"}, {":authority", "u@www.test"}, {":path", "/h2s/w"}}, nil, "400"},
		{":path with a space", req("GET", "/h2s/x y"), nil, "400"},
		{":path in absolute-form", req("GET", "http://evil.test/h2s/y"), nil, "400"},
		{":method with a space", req("GE T", "/h2s/z"), nil, "400"},
		{":scheme javascript", [][2]string{{":method", "GET"}, {":scheme", "javascript"}, {":authority", "www.test"}, {":path", "/h2s/za"}}, nil, "400"},
		{"CONNECT", [][2]string{{":method", "CONNECT"}, {":authority", "www.test:443"}}, nil, "405"},
		// Accepted: what reaches the origin is checked below.
		{"http2-settings", req("GET", "/h2s/ok-a", [2]string{"http2-settings", "AAMAAABkAAQAAP__"}), nil, "200"},
		{"te: trailers", req("GET", "/h2s/ok-b", [2]string{"te", "trailers"}), nil, "200"},
		{"host equal to :authority", req("GET", "/h2s/ok-c", [2]string{"host", "www.test"}), nil, "200"},
		{"host without :authority", [][2]string{{":method", "GET"}, {":scheme", "https"}, {":path", "/h2s/ok-d"}, {"host", "www.test"}}, nil, "200"},
		{"GET with DATA", req("GET", "/h2s/ok-e"), []string{"hello"}, "200"},
	}
	for _, tc := range cases {
		before := len(origin.requests())
		status := h2Send(t, n.HTTPSAddr(), tc.fields, tc.data)
		got := origin.requests()[before:]
		if status != tc.status {
			t.Errorf("%s: status %q, want %q (\"\" a reset)", tc.name, status, tc.status)
		}
		if tc.status != "200" {
			if len(got) > 0 {
				t.Errorf("%s: the origin received %q", tc.name, got[0].line)
			}
			continue
		}
		if len(got) != 1 {
			t.Errorf("%s: the origin received %d requests, want 1", tc.name, len(got))
			continue
		}
		if bad := hopFieldsIn(got[0].names()); len(bad) > 0 {
			t.Errorf("%s: the origin received %v: %q", tc.name, bad, got[0].fields)
		}
		if tc.data != nil && got[0].body != "hello" {
			t.Errorf("%s: content %q, want hello", tc.name, got[0].body)
		}
	}
}
