package edge

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestNode_expectContinueOverTheLimitIs413WithoutContinue: a request whose Content-Length is
// over limits.max_body_bytes and that expects 100-continue is answered 413 before any 100
// (Continue) (RFC 9110 section 10.1.1: the header fields decide the status, so the client is
// told before it sends the body; nginx does the same), with the node's 413 (the same answer
// as without Expect), the connection closed, and no origin asked. The client sends no byte of
// the body. At the limit the 100 still comes and the upload
// reaches the origin. Failed before: "HTTP/1.1 100 Continue" came first, inviting the body,
// and the 413 after it.
func TestNode_expectContinueOverTheLimitIs413WithoutContinue(t *testing.T) {
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		fmt.Fprintf(w, "%s %d", r.Method, r.ContentLength)
	})
	n := startNode(t, "limits: {max_body_bytes: 1KiB}\n"+oneRoute(false, origin.URL), Options{})
	for _, method := range []string{"POST", "PUT"} {
		head := func(length int) string {
			return fmt.Sprintf("%s /upload HTTP/1.1\r\nHost: www.example.com\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n", method, length)
		}
		// rawResponse reads until the node closes: with no body sent, only the 413 closes.
		out := rawResponse(t, n.HTTPAddr(), head(1025))
		if !strings.HasPrefix(out, "HTTP/1.1 413 ") || strings.Contains(out, "100 Continue") ||
			!strings.Contains(out, "request body too large") || !strings.Contains(out, "Connection: close") {
			t.Fatalf("%s over the limit with Expect: %q, want the node's 413 alone, closing", method, out)
		}
		plain := rawResponse(t, n.HTTPAddr(), strings.Replace(head(1025), "Expect: 100-continue\r\n", "", 1))
		if statusLine(out) != statusLine(plain) || bodyOf(out) != bodyOf(plain) {
			t.Fatalf("%s: with Expect %q, without %q: not the same answer", method, out, plain)
		}
		c, _ := sendRaw(t, n.HTTPAddr(), head(1024))
		buf := make([]byte, 64)
		k, _ := c.Read(buf)
		if got := string(buf[:k]); got != "HTTP/1.1 100 Continue\r\n\r\n" {
			c.Close()
			t.Fatalf("%s at the limit: %q before the body, want 100 Continue", method, got)
		}
		fmt.Fprint(c, strings.Repeat("b", 1024))
		k, _ = c.Read(buf)
		c.Close()
		if got := string(buf[:k]); !strings.HasPrefix(got, "HTTP/1.1 200 ") {
			t.Fatalf("%s at the limit: %q after the body", method, got)
		}
	}
	if got := origin.requests.Load(); got != 2 {
		t.Fatalf("the origin was asked %d times, want 2 (the uploads at the limit)", got)
	}
}

func statusLine(raw string) string { line, _, _ := strings.Cut(raw, "\r\n"); return line }

func bodyOf(raw string) string { _, body, _ := strings.Cut(raw, "\r\n\r\n"); return body }
