package edge

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/internal/testenv"
)

// TestNode_notModifiedKeepsTheStoredCoding: a 304 freshens the stored response's fields (RFC
// 9111 section 3.2) but not those that describe the stored content's bytes: the body the node
// keeps is the one the 200 brought, so a Content-Encoding or Content-Range in the 304 (an
// origin answering the revalidation with another coding than the fill's, or a confused one)
// would label those bytes with a coding they are not in, and every client would then fail to
// decode the object until it expires. Section 3.2 names a changed Content-Encoding as the
// example of a field a cache may keep for the integrity of what it stored; Varnish drops the
// 304's Content-Encoding before merging too. The revalidated answer and the later hits, over
// HTTP/1.1 and h2c, keep the stored (absent) coding and range and take the 304's other fields.
func TestNode_notModifiedKeepsTheStoredCoding(t *testing.T) {
	clock := newTestClock()
	o := testenv.StartBadOrigin(t)
	n := startNode(t, `listen: {http: "127.0.0.1:0", h2c: "127.0.0.1:0", admin: "127.0.0.1:0"}
`+hostileConfig(o.URL, ""), Options{Now: clock.Now})
	const body = "plain, not gzip"
	o.Handle("/c/coded", func(r testenv.RawRequest, k int) testenv.Script {
		date := testenv.Field{Name: "Date", Value: clock.httpDate(0)}
		if k == 0 {
			return testenv.Script{Header: []testenv.Field{date, {Name: "Cache-Control", Value: "max-age=1"},
				{Name: "ETag", Value: `"v1"`}, {Name: "Content-Type", Value: "text/plain"}}, Body: []byte(body)}
		}
		return testenv.Script{Status: http.StatusNotModified, Header: []testenv.Field{date,
			{Name: "Cache-Control", Value: "max-age=60"}, {Name: "ETag", Value: `"v1"`}, {Name: "X-Revalidated", Value: "yes"},
			{Name: "Content-Encoding", Value: "gzip"}, {Name: "Content-Range", Value: "bytes 0-1/15"}}}
	})
	get := func() string {
		out, _ := converse(t, n.HTTPAddr(), "GET /c/coded HTTP/1.1\r\nHost: www.test\r\nConnection: close\r\n\r\n", 2*time.Second)
		n.settleFills()
		return out
	}
	get()
	clock.Add(5 * time.Second) // stale: the next request revalidates
	check := func(what, status, coding, contentRange, revalidated, got string) {
		t.Helper()
		if !strings.HasPrefix(status, "HTTP/1.1 200") && status != "200" || !strings.HasSuffix(got, body) {
			t.Fatalf("%s: %q, want 200 with the stored body", what, status+" "+got)
		}
		if coding != "" || contentRange != "" {
			t.Errorf("%s: Content-Encoding %q, Content-Range %q on the stored identity body; want neither", what, coding, contentRange)
		}
		if revalidated != "yes" {
			t.Errorf("%s: X-Revalidated %q, want the 304's field taken over", what, revalidated)
		}
	}
	for i, what := range []string{"revalidated answer", "HTTP/1.1 hit"} {
		out := get()
		if i == 1 && !strings.Contains(out, "; hit") {
			t.Fatalf("%s: %q, want a hit", what, out)
		}
		status, _, _ := strings.Cut(out, "\r\n")
		check(what, status, fieldOf(out, "Content-Encoding"), fieldOf(out, "Content-Range"), fieldOf(out, "X-Revalidated"), out)
	}
	req, _ := http.NewRequest("GET", "http://"+n.H2CAddr()+"/c/coded", nil)
	req.Host = "www.test"
	req.Header.Set("Accept-Encoding", "identity")
	c := h2cClient()
	defer c.CloseIdleConnections()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	check("h2c hit", "200", resp.Header.Get("Content-Encoding"), resp.Header.Get("Content-Range"), resp.Header.Get("X-Revalidated"), string(b))
	if got := o.Count("/c/coded"); got != 2 {
		t.Errorf("origin asked %d times, want 2 (the fill and one revalidation)", got)
	}
}
