package edge

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/internal/testenv"
)

// TestNode_storedResponseWithoutDateKeepsItsReceiptTime: RFC 9110 section 6.6.1, a cache
// that receives a response without Date MUST add one if it stores it, and the Date says when
// the response was generated, not when a hit was served: a downstream cache computes the
// response's apparent age and an Expires lifetime from it. Hits of an object whose origin
// sent no Date, over HTTP/1.1 and h2c, carry the Date of the miss that stored it.
func TestNode_storedResponseWithoutDateKeepsItsReceiptTime(t *testing.T) {
	o := testenv.StartBadOrigin(t)
	var ahead atomic.Int64 // the node's clock runs this far ahead of the wall clock
	now := func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }
	n := startNode(t, `listen: {http: "127.0.0.1:0", h2c: "127.0.0.1:0", admin: "127.0.0.1:0"}
`+hostileConfig(o.URL, ""), Options{Now: now})
	o.Script("/c/nodate", testenv.Script{Header: testenv.Fields("Cache-Control", "max-age=60"), Body: []byte("hello")})
	first, _ := converse(t, n.HTTPAddr(), "GET /c/nodate HTTP/1.1\r\nHost: www.test\r\nConnection: close\r\n\r\n", 2*time.Second)
	missDate := fieldOf(first, "Date")
	if missDate == "" {
		t.Fatalf("miss: no Date in %q", first)
	}
	n.settleFills()
	ahead.Store(int64(10 * time.Second)) // the hits come 10 s later, still fresh (max-age=60)
	hit, _ := converse(t, n.HTTPAddr(), "GET /c/nodate HTTP/1.1\r\nHost: www.test\r\nConnection: close\r\n\r\n", 2*time.Second)
	if !strings.Contains(hit, "hit") {
		t.Fatalf("second request: %q, want a hit", hit)
	}
	if got := fieldOf(hit, "Date"); got != missDate {
		t.Errorf("HTTP/1.1 hit: Date %q, want the stored response's %q", got, missDate)
	}
	req, _ := http.NewRequest("GET", "http://"+n.H2CAddr()+"/c/nodate", nil)
	req.Host = "www.test"
	c := h2cClient()
	defer c.CloseIdleConnections()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("Date"); got != missDate {
		t.Errorf("h2c hit: Date %q, want the stored response's %q", got, missDate)
	}
	if got := o.Count("/c/nodate"); got != 1 {
		t.Errorf("origin asked %d times, want 1", got)
	}
}

// fieldOf is the value of the first field named name in a raw HTTP/1.1 response, or "".
func fieldOf(raw, name string) string {
	head, _, _ := strings.Cut(raw, "\r\n\r\n")
	for _, line := range strings.Split(head, "\r\n")[1:] {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(k, name) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// TestNode_ownAnswersCarryDate: a response the node makes itself (a refusal, OPTIONS, a
// redirect, an error page) comes from a server with a clock, which RFC 9110 section 6.6.1
// requires to send Date in every 2xx, 3xx and 4xx (and allows in 5xx); the listeners' own
// Date is off, since a cached response carries its origin's. Over HTTP/1.1 and h2c.
func TestNode_ownAnswersCarryDate(t *testing.T) {
	o := testenv.StartBadOrigin(t)
	n := startNode(t, `listen: {http: "127.0.0.1:0", h2c: "127.0.0.1:0", admin: "127.0.0.1:0"}
limits: {max_body_bytes: 1KiB}
node: {name: dated}
cache: {memory: 64MiB}
origins:
  o:
    servers: [{url: `+o.URL+`}]
routes:
  - match: {path_prefix: /old/}
    redirect: {to: "https://www.example.com/new${path_after_prefix}", status: 301}
  - {match: {path_prefix: /}, origin: o, cache: true}
`, Options{})
	raw := []struct{ name, req, status string }{
		{"framing refusal", "GET /a HTTP/1.1\r\nHost: www.test\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", "400"},
		{"TRACE", "TRACE /a HTTP/1.1\r\nHost: www.test\r\nConnection: close\r\n\r\n", "405"},
		{"OPTIONS *", "OPTIONS * HTTP/1.1\r\nHost: www.test\r\nConnection: close\r\n\r\n", "200"},
		{"OPTIONS Max-Forwards 0", "OPTIONS /a HTTP/1.1\r\nHost: www.test\r\nMax-Forwards: 0\r\nConnection: close\r\n\r\n", "200"},
		{"redirect", "GET /old/x HTTP/1.1\r\nHost: www.test\r\nConnection: close\r\n\r\n", "301"},
		{"body too large", "POST /a HTTP/1.1\r\nHost: www.test\r\nContent-Length: 4096\r\nConnection: close\r\n\r\n" + strings.Repeat("x", 4096), "413"},
	}
	for _, c := range raw {
		out, _ := converse(t, n.HTTPAddr(), c.req, 2*time.Second)
		if !strings.HasPrefix(out, "HTTP/1.1 "+c.status) {
			t.Errorf("%s: %q, want %s", c.name, out, c.status)
			continue
		}
		if _, err := http.ParseTime(fieldOf(out, "Date")); err != nil {
			t.Errorf("%s: Date %q: %v (%q)", c.name, fieldOf(out, "Date"), err, out)
		}
	}
	c := h2cClient()
	defer c.CloseIdleConnections()
	for _, m := range []struct{ method, path string }{{"TRACE", "/a"}, {"GET", "/old/x"}} {
		req, _ := http.NewRequest(m.method, "http://"+n.H2CAddr()+m.path, nil)
		req.Host = "www.test"
		resp, err := c.Transport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if _, err := http.ParseTime(resp.Header.Get("Date")); err != nil {
			t.Errorf("h2c %s %s (%d): Date %q: %v", m.method, m.path, resp.StatusCode, resp.Header.Get("Date"), err)
		}
	}
	if got := o.Count("/a"); got != 0 {
		t.Errorf("origin asked %d times for /a, want 0", got)
	}
}
