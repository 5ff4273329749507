package edge

import (
	"crypto/tls"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestH2Serve_pathOverTheLimitIs414: on HTTP/2 a :path whose HTTP/1.1 request line would be
// over limits.max_header_bytes gets the same answer as that request line on HTTP/1.1, 414,
// and fields over it 431 (a long field, a long :path that fits with a long field after it);
// the connection goes on to serve its next stream, and no refused stream reaches the origin.
// Failed before: the long :path got 431.
func TestH2Serve_pathOverTheLimitIs414(t *testing.T) {
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {})
	n, _ := h2Node(t, "limits: {max_header_bytes: 4KiB}\n"+oneRoute(false, origin.URL))
	c := dialRawH2C(t, n.H2CAddr())
	id := uint32(1)
	for _, tc := range []struct {
		name, path string
		fields     []string
		status     string
	}{
		{"6 KB path", "/" + strings.Repeat("a", 6000), nil, "414"},
		{"path over by a byte", "/" + strings.Repeat("a", 4096-len("GET / HTTP/1.1\r\n")+1), nil, "414"},
		{"long field", "/", []string{"x-big", strings.Repeat("b", 6000)}, "431"},
		{"path that fits, long field", "/" + strings.Repeat("a", 3000), []string{"cookie", strings.Repeat("c", 3000)}, "431"},
	} {
		c.request(id, "GET", tc.path, nil, tc.fields...)
		fields, _, reset := c.response(id)
		id += 2
		if got := strings.Join(fields[":status"], ""); got != tc.status {
			t.Errorf("%s: %q (reset %v), want %s", tc.name, got, reset, tc.status)
		}
	}
	if got := origin.requests.Load(); got != 0 {
		t.Fatalf("refused streams reached the origin %d times", got)
	}
	c.request(id, "GET", "/next", nil)
	if fields, _, _ := c.response(id); strings.Join(fields[":status"], "") != "200" {
		t.Fatalf("the connection's next stream: %v", fields[":status"])
	}
}

// TestNode_requestLineOverTheLimitIs414OverTLS: HTTP/1.1 over TLS reads the rest of the line
// through the TLS connection: 414 for the request line, 431 for a field, as in cleartext.
func TestNode_requestLineOverTheLimitIs414OverTLS(t *testing.T) {
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {})
	n, pool := h2Node(t, "limits: {max_header_bytes: 4KiB}\n"+oneRoute(false, origin.URL))
	for raw, want := range map[string]string{
		"GET /" + strings.Repeat("a", 6000) + " HTTP/1.1\r\nHost: www.example.test\r\n\r\n":             "414",
		"GET / HTTP/1.1\r\nHost: www.example.test\r\nCookie: " + strings.Repeat("c", 6000) + "\r\n\r\n": "431",
	} {
		c, err := tls.Dial("tcp", n.HTTPSAddr(), &tls.Config{RootCAs: pool, ServerName: "www.example.test", NextProtos: []string{"http/1.1"}})
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(c, raw)
		out, _ := io.ReadAll(c)
		c.Close()
		if !strings.HasPrefix(string(out), "HTTP/1.1 "+want+" ") {
			t.Errorf("%.40q...: %q, want %s", raw, statusLine(string(out)), want)
		}
	}
	if got := origin.requests.Load(); got != 0 {
		t.Fatalf("refused heads reached the origin %d times", got)
	}
}
