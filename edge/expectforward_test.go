package edge

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestNode_expectIsNotForwarded: the client's Expect: 100-continue is about its own upload,
// which the node answered (RFC 9110 section 10.1.1); the origin gets the content without
// Expect, as nginx sends it, whatever the field's case, on HTTP/1.1 (content that ends within
// the prefetch and content streamed to the origin) and on HTTP/2. Failed before: the origin
// got Expect: 100-continue after the node had sent the 100 itself, so an origin that waits
// for its own 100 to be acted on could stall the upload.
func TestNode_expectIsNotForwarded(t *testing.T) {
	origin := startRawLogOrigin(t)
	listen := "listen: {http: \"127.0.0.1:0\", h2c: \"127.0.0.1:0\", admin: \"127.0.0.1:0\"}\n"
	n := startNode(t, hostileConfig(origin.URL, listen), Options{})
	for _, tc := range []struct {
		path, name string
		size       int
	}{
		{"/dyn/small", "Expect", 100},
		{"/dyn/streamed", "expect", 64 << 10},
	} {
		c, err := net.Dial("tcp", n.HTTPAddr())
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: www.test\r\nContent-Length: %d\r\n%s: 100-continue\r\n\r\n", tc.path, tc.size, tc.name)
		br := bufio.NewReader(c)
		if interim, err := http.ReadResponse(br, nil); err != nil || interim.StatusCode != http.StatusContinue {
			t.Fatalf("%s: before the content: %v %v, want 100 Continue", tc.path, interim, err)
		}
		io.WriteString(c, strings.Repeat("e", tc.size))
		resp, _ := readResponse(t, br)
		c.Close()
		if resp.StatusCode != 200 {
			t.Errorf("%s: %d, want 200", tc.path, resp.StatusCode)
		}
	}
	r := dialRawH2C(t, n.H2CAddr())
	r.open(1, false, [2]string{":method", "POST"}, [2]string{":scheme", "http"}, [2]string{":authority", "www.test"},
		[2]string{":path", "/dyn/h2"}, [2]string{"expect", "100-continue"}, [2]string{"content-length", strconv.Itoa(5)})
	r.fr.WriteData(1, true, []byte("hello"))
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		if ended, how := readUntil(r, 1, 100*time.Millisecond); ended {
			if how != "status 200" {
				t.Errorf("HTTP/2: %q, want status 200", how)
			}
			break
		}
	}
	got := origin.requests()
	if len(got) != 3 {
		t.Fatalf("the origin got %d requests, want 3", len(got))
	}
	for _, req := range got {
		if v := req.values("Expect"); len(v) != 0 {
			t.Errorf("%s: the origin got Expect %q", req.line, v)
		}
	}
}

// TestNode_lowercaseMethodIsRefused: methods are case-sensitive (RFC 9110 section 9.1), so a
// request line "get / HTTP/1.1" names no GET but an unregistered method, which would miss the
// routes and access rules written for its capital spelling and reach origins that fold case.
// The node answers 400 without asking the origin, on HTTP/1.1 and HTTP/2, as nginx does; an
// unknown method in capitals still goes to the origin (RFC 9110 section 9.1 leaves it to the
// origin's 501). Failed before: every lowercase method reached the origin.
func TestNode_lowercaseMethodIsRefused(t *testing.T) {
	origin := startRawLogOrigin(t)
	listen := "listen: {http: \"127.0.0.1:0\", h2c: \"127.0.0.1:0\", admin: \"127.0.0.1:0\"}\n"
	n := startNode(t, hostileConfig(origin.URL, listen), Options{})
	for _, m := range []string{"get", "Get", "delete", "purge", "pOST"} {
		out, _ := converse(t, n.HTTPAddr(), m+" /dyn/lower HTTP/1.1\r\nHost: www.test\r\n\r\n", 3*time.Second)
		if !strings.HasPrefix(out, "HTTP/1.1 400 ") {
			t.Errorf("HTTP/1.1 %s: %.60q, want 400", m, out)
		}
		r := dialRawH2C(t, n.H2CAddr())
		r.open(1, true, [2]string{":method", m}, [2]string{":scheme", "http"}, [2]string{":authority", "www.test"}, [2]string{":path", "/dyn/lower"})
		how := ""
		for deadline := time.Now().Add(3 * time.Second); how == "" && time.Now().Before(deadline); {
			_, how = readUntil(r, 1, 100*time.Millisecond)
		}
		if how != "status 400" {
			t.Errorf("HTTP/2 %s: %q, want status 400", m, how)
		}
	}
	out, _ := converse(t, n.HTTPAddr(), "FROB /dyn/upper HTTP/1.1\r\nHost: www.test\r\nConnection: close\r\n\r\n", 3*time.Second)
	if !strings.HasPrefix(out, "HTTP/1.1 200 ") {
		t.Errorf("an unknown method in capitals: %.60q, want the origin's 200", out)
	}
	if got := origin.asked("/dyn/lower"); len(got) != 0 {
		t.Errorf("the origin was asked %d times for a lowercase method", len(got))
	}
}

// TestNode_http10WithoutHostIsServedForTheLocalAddress: HTTP/1.0 has no Host requirement; a
// request in origin form without one is served for the local address and port it reached
// (RFC 9112 section 3.3 reconstructs its target URI so), as nginx serves it from its default
// server: the origin gets it with that Host, and it is cached under it. An HTTP/1.1 request
// without Host still gets 400 (TestNode_hostIsValidated). Failed before: 400.
func TestNode_http10WithoutHostIsServedForTheLocalAddress(t *testing.T) {
	origin := startRawLogOrigin(t)
	n := startNode(t, hostileConfig(origin.URL, ""), Options{})
	for _, path := range []string{"/dyn/h10", "/c/h10.css", "/c/h10.css"} {
		out, _ := converse(t, n.HTTPAddr(), "GET "+path+" HTTP/1.0\r\n\r\n", 3*time.Second)
		if !strings.HasPrefix(out, "HTTP/1.1 200 ") {
			t.Errorf("%s: %.80q, want 200", path, out)
		}
		n.settleFills()
	}
	for _, path := range []string{"/dyn/h10", "/c/h10.css"} {
		got := origin.asked(path)
		if len(got) != 1 {
			t.Fatalf("the origin was asked for %s %d times, want once (the second a hit)", path, len(got))
		}
	}
	for _, r := range origin.requests() {
		if h := r.values("Host"); len(h) != 1 || h[0] != n.HTTPAddr() {
			t.Errorf("%s reached the origin with Host %q, want %q", r.line, h, n.HTTPAddr())
		}
	}
}
