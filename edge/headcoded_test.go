package edge

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestNode_headOfACodedAnswerIsTheGetsHead: with compression on, a GET from a client that
// accepts gzip is coded on a miss and on a pass as it streams (compressStream): Content-
// Encoding gzip, the variant's ETag "v1-gzip", no identity length. A HEAD for the same was
// answered with the identity head (no Content-Encoding, ETag "v1", the identity
// Content-Length), while a HEAD hit gets the coded variant's: RFC 9110 section 9.3.2 asks for
// the fields the GET would have had, and a client or cache that checks a download with HEAD
// first read another representation's validator and length. Over HTTP/1.1 and h2c, on the
// cache route (a miss, whose preconditions meet the coded head) and the pass route.
func TestNode_headOfACodedAnswerIsTheGetsHead(t *testing.T) {
	origin := startCompressibleOrigin(t)
	n := startNode(t, `listen: {http: "127.0.0.1:0", h2c: "127.0.0.1:0", admin: "127.0.0.1:0"}
`+hostileConfig(origin.URL, "compression: {encodings: [gzip]}\n"), Options{})
	for _, proto := range []string{"HTTP/1.1", "HTTP/2"} {
		c, addr := protoClient(n, proto)
		for _, route := range []string{"/c/", "/dyn/"} {
			head := func(method, path string, header ...string) *http.Response {
				req, err := http.NewRequest(method, "http://"+addr+path, nil)
				if err != nil {
					t.Fatal(err)
				}
				req.Host = "www.example.com"
				req.Header.Set("Accept-Encoding", "gzip")
				for i := 0; i+1 < len(header); i += 2 {
					req.Header.Set(header[i], header[i+1])
				}
				resp, err := c.Do(req)
				if err != nil {
					t.Fatalf("%s %s %s: %v", proto, method, path, err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				n.settleFills()
				return resp
			}
			base := route + proto[:4] + proto[5:]
			get, hd := head("GET", base+"-get"), head("HEAD", base+"-head")
			for _, name := range []string{"Content-Encoding", "ETag", "Content-Length", "Vary"} {
				if g, h := get.Header.Get(name), hd.Header.Get(name); g != h {
					t.Errorf("%s %s miss or pass: %s %q on HEAD, %q on GET (Cache-Status %q)", proto, route, name, h, g, hd.Header.Get("Cache-Status"))
				}
			}
			if route == "/c/" {
				// A HEAD miss's preconditions meet the coded representation too.
				if r := head("HEAD", base+"-cond", "If-None-Match", `"v1-gzip"`); r.StatusCode != http.StatusNotModified {
					t.Errorf("%s HEAD miss, the client holding \"v1-gzip\": %d, want 304", proto, r.StatusCode)
				}
			}
			// HTTP/1.0 keeps the identity head: without a length it would go out chunked.
			out, _ := converse(t, n.HTTPAddr(), "HEAD "+base+"-http10 HTTP/1.0\r\nHost: www.example.com\r\nAccept-Encoding: gzip\r\n\r\n", 2*time.Second)
			n.settleFills()
			if proto == "HTTP/1.1" && (strings.Contains(strings.ToLower(out), "transfer-encoding") || !strings.Contains(out, "Content-Length: 950")) {
				t.Errorf("%s HTTP/1.0 HEAD: %q, want the identity head with its length and no Transfer-Encoding", route, out)
			}
			if get.Header.Get("Content-Encoding") != "gzip" {
				t.Errorf("%s %s: GET Content-Encoding %q, want gzip", proto, route, get.Header.Get("Content-Encoding"))
			}
		}
	}
}
