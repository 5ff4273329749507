package edge

import (
	"strings"
	"testing"
	"time"
)

// TestNode_higherMinorVersionIsServedAsHTTP11: RFC 9110 section 2.5. A request line of
// HTTP/1.2 (or any 1.x above 1.1) is an HTTP/1.1 request: the connection stays open for the
// next request, an upload that expects 100-continue gets its 100, and Host is required. A
// version that is not 1.x still gets 505 (as nginx answers HTTP/2.0 on an HTTP/1.1
// connection).
func TestNode_higherMinorVersionIsServedAsHTTP11(t *testing.T) {
	origin := startRawLogOrigin(t)
	n := startNode(t, hostileConfig(origin.URL, ""), Options{})
	for _, v := range []string{"HTTP/1.2", "HTTP/1.9"} {
		t.Run(v, func(t *testing.T) {
			raw := "GET /dyn/a GET_V\r\nHost: www.test\r\n\r\nGET /dyn/b GET_V\r\nHost: www.test\r\nConnection: close\r\n\r\n"
			out, closed := converse(t, n.HTTPAddr(), strings.ReplaceAll(raw, "GET_V", v), 3*time.Second)
			if got := strings.Count(out, "HTTP/1.1 200 OK\r\n"); got != 2 {
				t.Errorf("two pipelined %s requests: %d answers 200, want two on one connection: %q", v, got, out)
			}
			if first, _, _ := strings.Cut(out, "\r\n\r\n"); strings.Contains(strings.ToLower(first), "connection: close") {
				t.Errorf("the first %s answer closed the connection: %q", v, first)
			}
			if !closed {
				t.Error("the connection stayed open after Connection: close")
			}
			if line := rawRequest(t, n.HTTPAddr(), "GET /dyn/c "+v+"\r\n\r\n"); !strings.Contains(line, " 400 ") {
				t.Errorf("%s without Host: %q, want 400", v, line)
			}
			c, ok := sendRaw(t, n.HTTPAddr(), "POST /dyn/up "+v+"\r\nHost: www.test\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
			defer c.Close()
			c.SetReadDeadline(time.Now().Add(3 * time.Second))
			buf := make([]byte, 64)
			k, _ := c.Read(buf)
			if !ok || !strings.HasPrefix(string(buf[:k]), "HTTP/1.1 100 ") {
				t.Errorf("%s upload expecting 100-continue: %q, want a 100 before the content", v, buf[:k])
			}
		})
	}
	for _, v := range []string{"HTTP/2.0", "HTTP/0.9", "HTTP/3.0"} {
		if line := rawRequest(t, n.HTTPAddr(), "GET /dyn/v "+v+"\r\nHost: www.test\r\n\r\n"); !strings.Contains(line, " 505 ") {
			t.Errorf("%s: %q, want 505", v, line)
		}
	}
}
