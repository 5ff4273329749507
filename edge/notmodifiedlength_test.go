package edge

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"testing"
)

// RFC 9110 section 8.6: a 304 carries no Content-Length unless it equals the length a 200
// would have sent. Every head the node wrote began as "Content-Length: 0", which fasthttp
// keeps on a 304, so each 304 (a hit's, a miss's and a pass's) told the client the object
// was empty. The connection is read on after it: the next answer must be framed right.
func TestNode_notModifiedSendsNoWrongContentLength(t *testing.T) {
	const body = "0123456789"
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("ETag", `"v1"`)
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		fmt.Fprint(w, body)
	})
	n := startNode(t, fmt.Sprintf(`origins: {o: {servers: [{url: %q}]}}
routes:
  - {match: {path_prefix: /pass}, origin: o, cache: false}
  - {match: {path_prefix: /}, origin: o, cache: true}
`, origin.URL), Options{})
	if status, _, got := get(t, "http://"+n.HTTPAddr()+"/hit"); status != 200 || got != body {
		t.Fatalf("warming GET: %d %q", status, got)
	}
	for _, path := range []string{"/hit", "/miss", "/pass"} {
		c, _ := sendRaw(t, n.HTTPAddr(), "GET "+path+" HTTP/1.1\r\nHost: a\r\nIf-None-Match: \"v1\"\r\n\r\n"+
			"GET "+path+" HTTP/1.1\r\nHost: a\r\n\r\n")
		r := bufio.NewReader(c)
		first, err := http.ReadResponse(r, nil)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		io.Copy(io.Discard, first.Body)
		if first.StatusCode != http.StatusNotModified {
			t.Errorf("%s with If-None-Match: %d, want 304", path, first.StatusCode)
		}
		if cl, ok := first.Header["Content-Length"]; ok && (len(cl) != 1 || cl[0] != fmt.Sprint(len(body))) {
			t.Errorf("%s: 304 with Content-Length %q, want none or %d", path, cl, len(body))
		}
		second, err := http.ReadResponse(r, nil)
		if err != nil {
			t.Fatalf("%s, the request after the 304: %v", path, err)
		}
		got, err := io.ReadAll(second.Body)
		if second.StatusCode != 200 || string(got) != body || err != nil {
			t.Errorf("%s, the request after the 304: %d %q %v", path, second.StatusCode, got, err)
		}
		c.Close()
	}
}

// The neighbours of the 304 above on the same seeded head: a 204 may carry no
// Content-Length at all (RFC 9110 section 8.6), on a pass, a miss and a hit; a HEAD's says
// the GET's length, on a miss and a hit. Each answer is followed on its connection by a GET
// that must be framed right.
func TestNode_noContentAndHeadAnswersFramedRight(t *testing.T) {
	const body = "0123456789"
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		if r.URL.Path == "/pass204" || r.URL.Path == "/c204" {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		fmt.Fprint(w, body)
	})
	n := startNode(t, fmt.Sprintf(`origins: {o: {servers: [{url: %q}]}}
routes:
  - {match: {path_prefix: /pass}, origin: o, cache: false}
  - {match: {path_prefix: /}, origin: o, cache: true}
`, origin.URL), Options{})
	for _, c := range []struct {
		request, length string // length "" means no Content-Length
		status          int
	}{
		{"GET /pass204", "", 204},
		{"GET /c204", "", 204}, // a miss
		{"GET /c204", "", 204}, // a hit
		{"HEAD /obj", fmt.Sprint(len(body)), 200},
		{"HEAD /obj", fmt.Sprint(len(body)), 200},
	} {
		conn, _ := sendRaw(t, n.HTTPAddr(), c.request+" HTTP/1.1\r\nHost: a\r\n\r\nGET /next HTTP/1.1\r\nHost: a\r\n\r\n")
		r := bufio.NewReader(conn)
		method := "GET"
		if c.request[:4] == "HEAD" {
			method = "HEAD"
		}
		first, err := http.ReadResponse(r, &http.Request{Method: method})
		if err != nil {
			t.Fatalf("%s: %v", c.request, err)
		}
		io.Copy(io.Discard, first.Body)
		if cl := first.Header.Get("Content-Length"); first.StatusCode != c.status || cl != c.length {
			t.Errorf("%s: %d with Content-Length %q, want %d with %q", c.request, first.StatusCode, cl, c.status, c.length)
		}
		second, err := http.ReadResponse(r, nil)
		if err != nil {
			t.Fatalf("%s, the request after it: %v", c.request, err)
		}
		got, err := io.ReadAll(second.Body)
		if second.StatusCode != 200 || string(got) != body || err != nil {
			t.Errorf("%s, the request after it: %d %q %v", c.request, second.StatusCode, got, err)
		}
		conn.Close()
		n.settleFills()
	}
}
