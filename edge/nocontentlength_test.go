package edge

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/internal/testenv"
)

// TestNode_noContentWithAContentLengthIsStored: a 204 has no content whatever its head says
// (RFC 9110 sections 6.4.1 and 15.3.5; a server must not send Content-Length in one, section
// 8.6, and some frameworks do). The fill took the field's value as the body's length, found
// none of it and dropped the object as truncated, after Cache-Status had said "stored": every
// request went to the origin. A 204 with a stray Content-Length, with or without bytes after
// it, is stored and hit over HTTP/1.1 and h2c, and its hits carry no Content-Length.
func TestNode_noContentWithAContentLengthIsStored(t *testing.T) {
	o := testenv.StartBadOrigin(t)
	n := startNode(t, `listen: {http: "127.0.0.1:0", h2c: "127.0.0.1:0", admin: "127.0.0.1:0"}
`+hostileConfig(o.URL, ""), Options{})
	heads := map[string]string{
		"/c/stray-length": "HTTP/1.1 204 No Content\r\nCache-Control: max-age=60\r\nContent-Length: 5\r\n\r\n",
		"/c/stray-bytes":  "HTTP/1.1 204 No Content\r\nCache-Control: max-age=60\r\nContent-Length: 5\r\n\r\nhello",
	}
	for path, raw := range heads {
		o.Script(path, testenv.Script{Raw: []byte(raw)})
		miss, _ := converse(t, n.HTTPAddr(), "GET "+path+" HTTP/1.1\r\nHost: www.test\r\nConnection: close\r\n\r\n", 2*time.Second)
		n.settleFills()
		if !strings.HasPrefix(miss, "HTTP/1.1 204") {
			t.Fatalf("%s miss: %q", path, miss)
		}
		hit, _ := converse(t, n.HTTPAddr(), "GET "+path+" HTTP/1.1\r\nHost: www.test\r\nConnection: close\r\n\r\n", 2*time.Second)
		if !strings.HasPrefix(hit, "HTTP/1.1 204") || !strings.Contains(fieldOf(hit, "Cache-Status"), "; hit") {
			t.Errorf("%s: second request %q, want a 204 hit", path, hit)
		}
		if cl := fieldOf(hit, "Content-Length"); cl != "" {
			t.Errorf("%s hit: Content-Length %q on a 204", path, cl)
		}
		req, _ := http.NewRequest("GET", "http://"+n.H2CAddr()+path, nil)
		req.Host = "www.test"
		c := h2cClient()
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		c.CloseIdleConnections()
		if resp.StatusCode != 204 || !strings.Contains(resp.Header.Get("Cache-Status"), "; hit") {
			t.Errorf("%s h2c: %d %q, want a 204 hit", path, resp.StatusCode, resp.Header.Get("Cache-Status"))
		}
		if got := o.Count(path); got != 1 {
			t.Errorf("%s: origin asked %d times, want 1", path, got)
		}
	}
}
