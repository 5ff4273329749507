package edge

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

// expectConfig routes /deny/ behind an access rule that refuses loopback, /limited/ behind
// a rate limit of one request (and one of burst) a minute, /down/ to a pool whose active
// checks find no server, /up/ (pass) and /c/ (cache) to origin, and nothing else (404).
func expectConfig(origin, dead string) string {
	return fmt.Sprintf(`node: {name: expect-edge}
cache: {memory: 64MiB, max_object_size: 8MiB, fill_timeout: 5s}
origins:
  o: {servers: [{url: %s}]}
  dead: {servers: [{url: %s}], health: {path: /health, interval: 50ms, timeout: 40ms, rise: 1, fall: 1}}
routes:
  - {match: {path_prefix: /deny/}, origin: o, access: {deny: [127.0.0.0/8]}}
  - {match: {path_prefix: /limited/}, origin: o, rate_limit: {rate: 0.001, burst: 1}}
  - {match: {path_prefix: /down/}, origin: dead}
  - {match: {path_prefix: /up/}, origin: o}
  - {match: {path_prefix: /c/}, origin: o, cache: true}
`, origin, dead)
}

// expectExchange sends head (with Expect: 100-continue and Content-Length of body) on a new
// connection and waits for the node's first status line without sending the body. If that
// line is 100, it sends the body and returns the final status line too; else it sends the
// body anyway, as a client that stopped waiting does, and reports whether the connection
// was closed without another response.
func expectExchange(t *testing.T, addr, head, body string) (first, final string, closed bool) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(c, "%sExpect: 100-continue\r\nContent-Length: %d\r\n\r\n", head, len(body))
	br := bufio.NewReader(c)
	status := func() string {
		line, err := br.ReadString('\n')
		if err != nil {
			return ""
		}
		for { // the rest of the head, and of a 100
			l, err := br.ReadString('\n')
			if err != nil || l == "\r\n" {
				break
			}
		}
		return strings.TrimSpace(line)
	}
	first = status()
	io.WriteString(c, body)
	if strings.Contains(first, " 100 ") {
		return first, status(), false
	}
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	rest, err := io.ReadAll(br)
	var ne net.Error
	timedOut := errors.As(err, &ne) && ne.Timeout()
	return first, "", !timedOut && !strings.Contains(string(rest), "HTTP/1.1 ")
}

// RFC 9110 section 10.1.1: a request that expects 100-continue and is refused from its head
// alone gets the refusal, never a 100 first (the client would send its body for nothing):
// 403 from an access rule, 404 for no route, 429 from a rate limit, 503 for a pass to a pool
// without a healthy server and in maintenance, 400 for a bad head. The body a client sends
// anyway is never read as a request (it holds one): the connection closes and the origin
// sees nothing. An upload the node forwards still gets its 100 and reaches the origin, and
// a rate-limited route counts an admitted upload once. Before, each refusal came after a 100.
func TestNode_expectRefusedFromTheHeadGetsNo100(t *testing.T) {
	o := startRawLogOrigin(t)
	dead := "http://" + closedAddr(t)
	n := startNode(t, expectConfig(o.URL, dead), Options{})
	smuggled := "GET /up/smuggled HTTP/1.1\r\nHost: www.test\r\n\r\n"
	deadline := time.Now().Add(5 * time.Second)
	for n.rt.Load().pools["dead"].Healthy() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	upload := func(path string) (string, string) {
		first, final, _ := expectExchange(t, n.HTTPAddr(), "POST "+path+" HTTP/1.1\r\nHost: www.test\r\n", "a=1&b=2")
		return first, final
	}
	// Admitted: 100, then the origin's answer, with the body.
	if first, final := upload("/up/form"); !strings.Contains(first, " 100 ") || !strings.Contains(final, " 200 ") {
		t.Fatalf("an upload to a pass route: %q then %q, want 100 then 200", first, final)
	}
	if got := o.requests(); len(got) != 1 || got[0].body != "a=1&b=2" {
		t.Fatalf("origin received %v, want the one upload with its body", got)
	}
	// Two uploads fit the rate limit (one and one of burst): counted once each.
	for i := range 2 {
		if first, final := upload("/limited/form"); !strings.Contains(first, " 100 ") || !strings.Contains(final, " 200 ") {
			t.Fatalf("upload %d within the rate limit: %q then %q, want 100 then 200", i, first, final)
		}
	}
	cases := []struct{ name, head, want string }{
		{"access rule", "POST /deny/form HTTP/1.1\r\nHost: www.test\r\n", "403"},
		{"no route", "POST /nowhere HTTP/1.1\r\nHost: www.test\r\n", "404"},
		{"rate limit", "POST /limited/form HTTP/1.1\r\nHost: www.test\r\n", "429"},
		{"no healthy server", "POST /down/form HTTP/1.1\r\nHost: www.test\r\n", "503"},
		{"method", "TRACE /up/form HTTP/1.1\r\nHost: www.test\r\n", "405"},
		{"bad host", "POST /up/form HTTP/1.1\r\nHost: www.te%st\r\n", "400"},
		{"obs-fold", "POST /up/form HTTP/1.1\r\nHost: www.test\r\nX-Folded: a\r\n b\r\n", "400"},
		{"cache route", "PUT /c/form HTTP/1.1\r\nHost: www.test\r\nX-A: b\r\n", "100"},
		{"purge on a pool without a healthy server", "PURGE /down/form HTTP/1.1\r\nHost: www.test\r\n", "100"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			first, final, closed := expectExchange(t, n.HTTPAddr(), tc.head, smuggled)
			if tc.want == "100" {
				if !strings.Contains(first, " 100 ") || final == "" {
					t.Errorf("%q then %q, want 100 then an answer", first, final)
				}
				return
			}
			if !strings.Contains(first, " "+tc.want+" ") {
				t.Errorf("first status line %q, want %s with no 100 before it", first, tc.want)
			}
			if !closed {
				t.Errorf("the connection stayed open or answered the body sent after the %s", first)
			}
		})
	}
	// Maintenance: every route 503, with no 100.
	reloadConfig(t, n, expectConfig(o.URL, dead)+"error_pages: {maintenance: true}\n")
	if first, _, closed := expectExchange(t, n.HTTPAddr(), "POST /up/form HTTP/1.1\r\nHost: www.test\r\n", smuggled); !strings.Contains(first, " 503 ") || !closed {
		t.Errorf("maintenance: %q (closed %v), want 503 with no 100 and the connection closed", first, closed)
	}
	for _, r := range o.requests() {
		if strings.Contains(r.target(), "smuggled") || strings.Contains(r.body, "smuggled") && r.target() != "/c/form" {
			t.Errorf("the origin received %q %q: a body sent after a refusal", r.line, r.body)
		}
	}
}

// closedAddr returns a loopback address nothing listens on: a dead origin, or an address a
// test names before the node binds it.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// Over HTTP/2 likewise (RFC 9110 section 10.1.1): a request that expects 100-continue and is
// refused from its head gets its final status as its only response, at once, before any
// content is sent; an upload the node forwards gets 100, then its answer once its content
// came. Before, the node waited for the content and sent nothing: a client that waits for
// the 100 (curl waits 1 s) waited for nothing.
func TestH2Serve_expectRefusedFromTheHeadGetsItsAnswer(t *testing.T) {
	o := startRawLogOrigin(t)
	n := startNode(t, `listen: {http: "127.0.0.1:0", h2c: "127.0.0.1:0", admin: "127.0.0.1:0"}
`+expectConfig(o.URL, "http://"+closedAddr(t)), Options{})
	r := dialRawH2C(t, n.H2CAddr())
	r.c.SetDeadline(time.Now().Add(5 * time.Second))
	statuses := func(id uint32) []string {
		t.Helper()
		var got []string
		for {
			switch f := r.next().(type) {
			case *http2.HeadersFrame:
				hf, err := r.dec.DecodeFull(f.HeaderBlockFragment())
				if err != nil {
					t.Fatal(err)
				}
				for _, h := range hf {
					if f.StreamID == id && h.Name == ":status" {
						got = append(got, h.Value)
					}
				}
				if f.StreamID == id && f.StreamEnded() {
					return got
				}
			case *http2.DataFrame:
				if f.StreamID == id && f.StreamEnded() {
					return got
				}
			case *http2.RSTStreamFrame:
				if f.StreamID == id {
					return got
				}
			}
		}
	}
	head := func(id uint32, path string) {
		r.open(id, false, [2]string{":method", "POST"}, [2]string{":scheme", "http"}, [2]string{":path", path},
			[2]string{":authority", "www.test"}, [2]string{"expect", "100-continue"}, [2]string{"content-length", "7"})
	}
	for i, tc := range []struct{ path, want string }{{"/deny/form", "403"}, {"/nowhere", "404"}} {
		id := uint32(2*i + 1)
		head(id, tc.path) // no content sent: the answer must not wait for it
		if got := statuses(id); len(got) != 1 || got[0] != tc.want {
			t.Errorf("%s: statuses %q, want only %s", tc.path, got, tc.want)
		}
	}
	head(5, "/up/form")
	first := ""
	for first == "" {
		if f, ok := r.next().(*http2.HeadersFrame); ok && f.StreamID == 5 {
			hf, _ := r.dec.DecodeFull(f.HeaderBlockFragment())
			for _, h := range hf {
				if h.Name == ":status" {
					first = h.Value
				}
			}
		}
	}
	if first != "100" {
		t.Fatalf("an upload: first status %s before any content, want 100", first)
	}
	r.fr.WriteData(5, true, []byte("a=1&b=2"))
	if got := statuses(5); len(got) != 1 || got[0] != "200" {
		t.Errorf("an upload: statuses %q after the 100, want only 200", got)
	}
	if got := o.requests(); len(got) != 1 || got[0].body != "a=1&b=2" {
		t.Errorf("origin received %v, want the upload with its content", got)
	}
}
