package edge

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/internal/testenv"
)

// Tests from an outside attack on the fixes of issues 13 and 18: the neighbours of the
// issues' inputs that still got through. Each failed before its fix.

// TestAttack_proxyFieldSpellingsNeverReachTheOrigin: CGI, FastCGI, WSGI and Rack turn a field
// name into an HTTP_* variable with '-' and '_' alike, so X_Forwarded_Host is X-Forwarded-Host
// to many origins; and Forwarded's host= and proto= (RFC 7239 sections 5.3-5.4) are what
// X-Forwarded-Host and X-Forwarded-Proto say (Spring reads the first element). None is in the
// cache key: from a client not in trusted_proxies none may reach the origin, or one client
// poisons the object everyone gets (its for= stays, as X-Forwarded-For's members do). The
// node's own Shoal-* peer fields never leave the cluster.
func TestAttack_proxyFieldSpellingsNeverReachTheOrigin(t *testing.T) {
	origin := startRawLogOrigin(t)
	n := startNode(t, hostileConfig(origin.URL, ""), Options{})
	raw := "GET /c/spell HTTP/1.1\r\nHost: www.test\r\n" +
		"X_Forwarded_Host: evil.test\r\nx_original_url: /evil\r\nX_HTTP_Method_Override: DELETE\r\n" +
		"X_Forwarded_Proto: evil\r\nx_forwarded_for: 6.6.6.6\r\n" +
		"forwarded: for=6.6.6.6;host=evil.test;proto=https\r\n" +
		"shoal-client-ip: 10.9.9.9\r\nShoal-Scheme: https\r\nShoal-Forwarded: x\r\nshoal-peer-secret: guess\r\nConnection: close\r\n\r\n"
	out, _ := converse(t, n.HTTPAddr(), raw, 2*time.Second)
	if lines := statusLines(out); len(lines) != 1 || !strings.Contains(lines[0], " 200 ") {
		t.Fatalf("answer %q", lines)
	}
	got := origin.requests()
	if len(got) != 1 {
		t.Fatalf("origin received %d requests", len(got))
	}
	for _, f := range got[0].fields {
		name, v, _ := strings.Cut(f, ":")
		if strings.Contains(name, "_") || strings.HasPrefix(strings.ToLower(name), "shoal-") {
			t.Errorf("origin received %q", f)
		}
		if strings.EqualFold(name, "Forwarded") && strings.Contains(v, "evil") {
			t.Errorf("origin received the client's Forwarded element: %q", f)
		}
	}
	if v := got[0].values("Forwarded"); len(v) != 1 || v[0] != "for=6.6.6.6, for=127.0.0.1;proto=http" {
		t.Errorf("Forwarded %q, want the client's for= then the node's element", v)
	}
}

// TestAttack_trustedProxyKeepsForwarded: a front proxy in trusted_proxies keeps its Forwarded
// elements, the node's own coming last; the node's internal fields are dropped even then.
func TestAttack_trustedProxyKeepsForwarded(t *testing.T) {
	origin := startRawLogOrigin(t)
	n := startNode(t, hostileConfig(origin.URL, "trusted_proxies: [\"127.0.0.1/32\"]\n"), Options{})
	raw := "GET /c/trusted HTTP/1.1\r\nHost: www.test\r\nForwarded: for=192.0.2.1;host=www.test;proto=https\r\n" +
		"X-Forwarded-Host: www.test\r\nShoal-Scheme: https\r\nConnection: close\r\n\r\n"
	converse(t, n.HTTPAddr(), raw, 2*time.Second)
	got := origin.requests()
	if len(got) != 1 {
		t.Fatalf("origin received %d requests", len(got))
	}
	if v := got[0].values("Forwarded"); len(v) != 1 || v[0] != "for=192.0.2.1;host=www.test;proto=https, for=127.0.0.1;proto=http" {
		t.Errorf("Forwarded %q", v)
	}
	if v := got[0].values("X-Forwarded-Host"); len(v) != 1 {
		t.Errorf("X-Forwarded-Host %q, want the trusted proxy's", v)
	}
	if v := got[0].values("Shoal-Scheme"); len(v) != 0 {
		t.Errorf("Shoal-Scheme %q reached the origin", v)
	}
}

// TestAttack_maxForwardsZeroIsAnsweredByTheNode: RFC 9110 section 7.6.2. An intermediary
// that receives OPTIONS with Max-Forwards: 0 answers as the final recipient; a larger value
// is forwarded decremented.
func TestAttack_maxForwardsZeroIsAnsweredByTheNode(t *testing.T) {
	origin := startRawLogOrigin(t)
	n := startNode(t, hostileConfig(origin.URL, ""), Options{})
	out, _ := converse(t, n.HTTPAddr(), "OPTIONS /dyn/mf HTTP/1.1\r\nHost: www.test\r\nmax-forwards: 0\r\nConnection: close\r\n\r\n", 2*time.Second)
	if lines := statusLines(out); len(lines) != 1 || !strings.Contains(lines[0], " 200 ") || !strings.Contains(out, "Allow: ") {
		t.Errorf("answer %q, want the node's own 200 with Allow", out)
	}
	if got := origin.requests(); len(got) != 0 {
		t.Fatalf("OPTIONS with Max-Forwards: 0 was forwarded: %q", got[0].line)
	}
	converse(t, n.HTTPAddr(), "OPTIONS /dyn/mf HTTP/1.1\r\nHost: www.test\r\nMax-Forwards: 3\r\nConnection: close\r\n\r\n", 2*time.Second)
	got := origin.requests()
	if len(got) != 1 {
		t.Fatalf("origin received %d requests, want 1", len(got))
	}
	if v := got[0].values("Max-Forwards"); len(v) != 1 || v[0] != "2" {
		t.Errorf("Max-Forwards %q at the origin, want 2", v)
	}
}

// TestAttack_hostNeighbours: RFC 9112 section 3.2 and RFC 3986 section 3.2.2: a Host whose
// name has an empty label is invalid (400, connection closed, never forwarded); the one
// trailing dot of a fully qualified name, an empty port and a port with leading zeros are
// valid spellings of the same authority.
func TestAttack_hostNeighbours(t *testing.T) {
	origin := startRawLogOrigin(t)
	n := startNode(t, hostileConfig(origin.URL, ""), Options{})
	cases := []struct{ host, status, sent string }{
		{"www.test..", "400", ""},
		{"www.test..:80", "400", ""},
		{"WWW.Test.:00080", "200", "www.test"},
		{"www.test:", "200", "www.test"},
		{"[::1]:8080", "200", "[::1]:8080"},
		{"[fe80::1%25eth0]", "400", ""},
		{"[::1]x", "400", ""},
		{"www.test:80:81", "400", ""},
	}
	for _, tc := range cases {
		t.Run(tc.host, func(t *testing.T) {
			before := len(origin.requests())
			raw := "GET /dyn/h HTTP/1.1\r\nHost: " + tc.host + "\r\nConnection: close\r\n\r\n"
			if tc.status == "400" {
				raw = "GET /dyn/h HTTP/1.1\r\nHost: " + tc.host + "\r\n\r\n" + smuggled
			}
			out, closed := converse(t, n.HTTPAddr(), raw, 2*time.Second)
			lines := statusLines(out)
			if len(lines) == 0 || !strings.Contains(lines[0], " "+tc.status+" ") {
				t.Fatalf("answer %q, want %s", lines, tc.status)
			}
			got := origin.requests()[before:]
			if tc.status == "400" {
				if !closed || len(lines) > 1 || len(got) > 0 {
					t.Errorf("closed %v, answers %q, origin got %d requests", closed, lines, len(got))
				}
				return
			}
			if len(got) == 0 || got[0].values("Host")[0] != tc.sent {
				t.Errorf("origin got %v, want Host %q", got, tc.sent)
			}
		})
	}
}

// TestForOnly: quoted strings keep their ',' ';' and '=' (RFC 7239 section 4).
func TestForOnly(t *testing.T) {
	cases := map[string]string{
		"for=a;host=evil;proto=https":                          "for=a",
		`for="[2001:db8::1]:80";by=x, host="a,b;for=c", For=d`: `for="[2001:db8::1]:80", For=d`,
		`proto=https;host="x\"y,for=z"`:                        "",
		"for=a, for=b":                                         "for=a, for=b",
	}
	for in, want := range cases {
		if got := forOnly(in); got != want {
			t.Errorf("forOnly(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestAttack_http2HostComesFromAuthority: RFC 9113 section 8.3.1. Over HTTP/2 the host is
// :authority's: a host field that differs from it, two host fields, or an absolute-form :path
// naming another host are malformed (400, never forwarded), as two Host fields are over
// HTTP/1.1 (issue 18 item 2). Before, the last host field or the :path's authority routed,
// keyed and went to the origin.
func TestAttack_http2HostComesFromAuthority(t *testing.T) {
	origin := startRawLogOrigin(t)
	n, _, _ := tlsNode(t, origin.URL, "")
	req := func(path string, fields ...[2]string) [][2]string {
		return append([][2]string{{":method", "GET"}, {":scheme", "https"}, {":path", path}}, fields...)
	}
	cases := []struct {
		name   string
		fields [][2]string
		status string // "" when the stream is reset
		host   string // Host the origin must see; "" when it must see nothing
	}{
		{"host differs from :authority", req("/h2/a", [2]string{":authority", "www.test"}, [2]string{"host", "evil.test"}), "400", ""},
		{"two host fields", req("/h2/b", [2]string{"host", "www.test"}, [2]string{"host", "evil.test"}), "400", ""},
		{"absolute-form :path", req("http://evil.test/h2/c", [2]string{":authority", "www.test"}), "400", ""},
		{"host equal to :authority", req("/h2/d", [2]string{":authority", "www.test"}, [2]string{"host", "WWW.test"}), "200", "www.test"},
		{"host without :authority", req("/h2/e", [2]string{"host", "www.test"}), "200", "www.test"},
		{"underscore X_Forwarded_Host", req("/h2/f", [2]string{":authority", "www.test"}, [2]string{"x_forwarded_host", "evil"}), "200", "www.test"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := len(origin.requests())
			status := h2Status(t, n.HTTPSAddr(), tc.fields)
			if status != tc.status {
				t.Errorf("status %q, want %q", status, tc.status)
			}
			got := origin.requests()[before:]
			switch {
			case tc.host == "" && len(got) > 0:
				t.Errorf("forwarded: %q %q", got[0].line, got[0].fields)
			case tc.host != "" && (len(got) != 1 || len(got[0].values("Host")) != 1 || got[0].values("Host")[0] != tc.host):
				t.Errorf("origin got %v, want one request with Host %q", got, tc.host)
			case tc.host != "":
				for _, f := range got[0].fields {
					if strings.Contains(f, "_") {
						t.Errorf("origin received %q", f)
					}
				}
			}
		})
	}
}

// h2Status sends one HEADERS frame with fields (end of stream) over TLS and returns the
// response's :status, or "" if the stream or connection was reset.
func h2Status(t *testing.T, addr string, fields [][2]string) string {
	t.Helper()
	return h2Send(t, addr, fields, nil)
}

// TestAttack_forbiddenTrailerFieldDoesNotTruncate: an origin that sends Content-Length or
// Set-Cookie in a chunked response's trailer section breaks RFC 9110 section 6.5.1, but its
// content is complete (RFC 9112 section 7.1.2: a recipient may discard trailer fields). The
// node must neither cut the client's response short nor refuse to store it.
func TestAttack_forbiddenTrailerFieldDoesNotTruncate(t *testing.T) {
	o := testenv.StartBadOrigin(t)
	n := startNode(t, hostileConfig(o.URL, ""), Options{})
	for _, trailer := range []string{"Content-Length: 9", "Set-Cookie: s=1"} {
		path := "/c/trailer-" + strings.Fields(trailer)[0]
		o.Script(path, testenv.Script{Raw: []byte("HTTP/1.1 200 OK\r\nCache-Control: max-age=60\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n" + trailer + "\r\n\r\n"), Close: true})
		for i, want := range []string{"stored", "hit"} {
			out, _ := converse(t, n.HTTPAddr(), "GET "+path+" HTTP/1.1\r\nHost: www.test\r\nConnection: close\r\n\r\n", 2*time.Second)
			if !strings.Contains(out, want) || !(strings.HasSuffix(out, "0\r\n\r\n") || strings.HasSuffix(out, "\r\n\r\nhello")) {
				t.Errorf("%s request %d: %q, want a complete response, %s", trailer, i, out, want)
			}
		}
	}
}

// TestAttack_http10ClientGetsWhatItCanRead: RFC 9112 section 6.1 and RFC 9110 section 15.2.
// An HTTP/1.0 client cannot decode chunked framing and must get no 1xx, so a streamed body of
// unknown length reaches it with a Content-Length (pass and cache miss alike) or, past
// http10Hold, delimited by the end of the connection; a body the origin cut short becomes a
// 502 rather than a body with chunk framing in it; an HTTP/1.1 client still gets the interim
// response and the stream.
func TestAttack_http10ClientGetsWhatItCanRead(t *testing.T) {
	o := testenv.StartBadOrigin(t)
	n := startNode(t, hostileConfig(o.URL, ""), Options{})
	chunked := testenv.Script{Header: testenv.Fields("Cache-Control", "max-age=60"), Body: []byte("hello world"), Framing: testenv.Chunked, Chunk: 4}
	hinted := chunked
	hinted.Interim = []testenv.Interim{{Status: 103, Header: testenv.Fields("Link", "</a.css>; rel=preload")}}
	cut := chunked
	cut.Cut = testenv.ChunkBoundary
	o.Script("/dyn/chunked", chunked)
	o.Script("/c/chunked", chunked)
	o.Script("/dyn/hinted", hinted)
	o.Script("/dyn/cut", cut)
	o.Script("/c/cut", cut)
	large := chunked
	large.Body = []byte(strings.Repeat("0123456789abcdef", 20<<10)) // 320 KiB: streamed, not held
	large.Chunk = 8 << 10
	o.Script("/dyn/large", large)
	cases := []struct{ path, proto, status, body string }{
		{"/dyn/chunked", "HTTP/1.0", "200", "hello world"},
		{"/c/chunked", "HTTP/1.0", "200", "hello world"},
		{"/dyn/hinted", "HTTP/1.0", "200", "hello world"},
		{"/dyn/cut", "HTTP/1.0", "502", ""},
		{"/c/cut", "HTTP/1.0", "502", ""},
		{"/dyn/hinted", "HTTP/1.1", "103", ""},
		{"/dyn/large", "HTTP/1.0", "200", string(large.Body)},
	}
	for _, tc := range cases {
		t.Run(tc.proto+tc.path, func(t *testing.T) {
			out, _ := converse(t, n.HTTPAddr(), "GET "+tc.path+" "+tc.proto+"\r\nHost: www.test\r\nConnection: close\r\n\r\n", 2*time.Second)
			lines := statusLines(out)
			if len(lines) == 0 || !strings.Contains(lines[0], " "+tc.status+" ") {
				t.Fatalf("answer %q, want %s first", lines, tc.status)
			}
			if tc.proto == "HTTP/1.1" {
				if !strings.Contains(out, "Transfer-Encoding: chunked") && !strings.Contains(out, "Content-Length: 11") {
					t.Errorf("HTTP/1.1 answer %q", out)
				}
				return
			}
			if len(lines) != 1 || strings.Contains(out, "Transfer-Encoding") {
				t.Errorf("HTTP/1.0 client got %q", out)
			}
			if tc.body != "" && !strings.HasSuffix(out, "\r\n\r\n"+tc.body) {
				t.Errorf("HTTP/1.0 client got %q, want body %q", out, tc.body)
			}
			switch {
			case len(tc.body) > http10Hold:
				if strings.Contains(out, "Content-Length") || !strings.Contains(out, "Connection: close\r\n") {
					t.Errorf("HTTP/1.0 client got head %q, want close-delimited", out[:strings.Index(out, "\r\n\r\n")])
				}
			case tc.body != "" && !strings.Contains(out, "Content-Length: 11\r\n"):
				t.Errorf("HTTP/1.0 client got %q, want Content-Length: 11", out)
			}
		})
	}
}

// TestAttack_bytesAfterAResponseAreNoOneElsesResponse: RFC 9112 section 6.3. A 204, a 304
// and the answer to HEAD end at their head, so bytes an origin sends after one (a body it
// should not have sent) would be read as the response to the next request on the connection,
// for another URL, and stored under that URL's key: with the filler sized to the node's
// 16 KiB origin reader, /c/victim was stored as "evil" for 600 s. The same holds for bytes
// after a body delimited by its length or its last chunk. A connection with bytes no request
// asked for is never reused.
func TestAttack_bytesAfterAResponseAreNoOneElsesResponse(t *testing.T) {
	o := testenv.StartBadOrigin(t)
	n := startNode(t, hostileConfig(o.URL, ""), Options{})
	evil := "HTTP/1.1 200 OK\r\nCache-Control: max-age=600\r\nContent-Length: 4\r\n\r\nevil"
	heads := map[string]string{
		"204":  "HTTP/1.1 204 No Content\r\nContent-Length: 60\r\n\r\n",
		"304":  "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n",
		"HEAD": "HTTP/1.1 200 OK\r\nCache-Control: no-store\r\nContent-Length: 5\r\n\r\n",
		// the same bytes after a body delimited by its length or its last chunk
		"length":  "HTTP/1.1 200 OK\r\nCache-Control: no-store\r\nContent-Length: 5\r\n\r\n",
		"chunked": "HTTP/1.1 200 OK\r\nCache-Control: no-store\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
	}
	for kind, head := range heads {
		for _, size := range []int{100, 16 << 10, 40 << 10} {
			name := fmt.Sprintf("%s-%d", kind, size)
			t.Run(name, func(t *testing.T) {
				attacker, victim := "/c/a-"+name, "/c/v-"+name
				method := "GET"
				switch kind {
				case "HEAD":
					attacker, method = "/dyn/a-"+name, "HEAD"
				case "length", "chunked":
					attacker = "/dyn/a-" + name
				}
				o.Script(attacker, testenv.Script{Raw: []byte(head + strings.Repeat("x", size-len(head)) + evil)})
				o.Script(victim, testenv.Script{Header: testenv.Fields("Cache-Control", "max-age=60"), Body: []byte("good")})
				converse(t, n.HTTPAddr(), method+" "+attacker+" HTTP/1.1\r\nHost: www.test\r\nConnection: close\r\n\r\n", 2*time.Second)
				time.Sleep(20 * time.Millisecond) // the rest of the attacker's bytes reach the node's socket
				for i := 0; i < 2; i++ {
					out, _ := converse(t, n.HTTPAddr(), "GET "+victim+" HTTP/1.1\r\nHost: www.test\r\nConnection: close\r\n\r\n", 2*time.Second)
					if !strings.HasPrefix(out, "HTTP/1.1 200 ") || !strings.HasSuffix(out, "\r\n\r\ngood") {
						t.Fatalf("request %d for %s got %q", i, victim, out)
					}
				}
			})
		}
	}
}

// TestAttack_requestTrailerIsNotMergedIntoTheHead: RFC 9110 section 6.5.1 and RFC 9112
// section 7.1.2. The trailer section of a chunked request is discarded, never sent to the
// origin as header fields (fasthttp merged it, past every check of the head).
func TestAttack_requestTrailerIsNotMergedIntoTheHead(t *testing.T) {
	origin := startRawLogOrigin(t)
	n := startNode(t, hostileConfig(origin.URL, ""), Options{})
	for _, trailer := range []string{"", "Trailer: X-T\r\n"} {
		before := len(origin.requests())
		out, _ := converse(t, n.HTTPAddr(), "POST /dyn/trailer HTTP/1.1\r\nHost: www.test\r\nTransfer-Encoding: chunked\r\n"+trailer+
			"Connection: close\r\n\r\n5\r\nhello\r\n0\r\nX-T: 1\r\nX-Custom-Override: evil\r\n\r\n", 2*time.Second)
		if !strings.HasPrefix(out, "HTTP/1.1 200 ") {
			t.Fatalf("answer %q", out)
		}
		got := origin.requests()[before:]
		if len(got) != 1 || got[0].body != "hello" {
			t.Fatalf("origin got %v", got)
		}
		for _, f := range got[0].fields {
			if strings.HasPrefix(f, "X-T") || strings.HasPrefix(f, "X-Custom") || strings.HasPrefix(f, "Trailer") {
				t.Errorf("trailer %q: origin received %q in the head", trailer, f)
			}
		}
	}
}
