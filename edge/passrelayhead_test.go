package edge

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/internal/testenv"
)

// TestNode_passRelaysTheOriginHeadEndToEnd: an HTTP/1.1 pass relays the origin's head, parsed
// straight into the client's response, as a copy of its end-to-end fields would have been:
// no hop-by-hop field or name a Connection line lists (nginx's Connection: keep-alive,
// Apache's Keep-Alive), a field's lines in the order sent, the origin's one Date (now's
// when it sent none), HTTP/1.1 and the status's own reason phrase whatever the origin's
// version and phrase, no framing on a 304, and the client's connection kept open whatever
// the origin said of its own.
func TestNode_passRelaysTheOriginHeadEndToEnd(t *testing.T) {
	const date = "Tue, 01 Dec 2026 10:00:00 GMT"
	o := testenv.StartBadOrigin(t)
	n := startNode(t, oneRoute(false, o.URL), Options{})
	for _, tc := range []struct {
		name, head, body string
		status           int
		want             map[string][]string // every field but Via and Cache-Status
	}{
		{"nginx keep-alive", "HTTP/1.1 200 OK\r\nServer: nginx\r\nDate: " + date + "\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: keep-alive\r\nLink: <a>\r\nX-Gone: 1\r\nKeep-Alive: timeout=5\r\nLink: <b>\r\nconnection: X-Gone\r\nX-Kept: 1\r\n\r\n", "ok", 200,
			map[string][]string{"Server": {"nginx"}, "Date": {date}, "Content-Type": {"text/plain"}, "Content-Length": {"2"}, "Link": {"<a>", "<b>"}, "X-Kept": {"1"}}},
		{"every hop-by-hop name", "HTTP/1.1 200 Fine\r\nDate: " + date + "\r\nProxy-Connection: keep-alive\r\nProxy-Authenticate: Basic\r\nTE: trailers\r\nUpgrade: h2c\r\nTrailer: X-Sum\r\nContent-Length: 2\r\nConnection: close, Upgrade\r\n\r\n", "ok", 200,
			map[string][]string{"Date": {date}, "Content-Length": {"2"}}},
		{"chunked", "HTTP/1.1 200 OK\r\nDate: " + date + "\r\nTransfer-Encoding: chunked\r\nLink: <a>\r\nConnection: keep-alive\r\nLink: <b>\r\n\r\n2\r\nok\r\n0\r\n\r\n", "ok", 200,
			map[string][]string{"Date": {date}, "Transfer-Encoding": nil, "Link": {"<a>", "<b>"}}},
		{"HTTP/1.0 origin", "HTTP/1.0 200 OK\r\nDate: " + date + "\r\nConnection: keep-alive, X-Gone\r\nX-Gone: 1\r\nLink: <a>\r\nKeep-Alive: timeout=5\r\nLink: <b>\r\nContent-Length: 2\r\n\r\n", "ok", 200,
			map[string][]string{"Date": {date}, "Content-Length": {"2"}, "Link": {"<a>", "<b>"}}},
		{"HTTP/1.0 origin, no hop-by-hop field", "HTTP/1.0 200 Fine\r\nDate: " + date + "\r\nLink: <a>\r\nContent-Length: 2\r\n\r\n", "ok", 200,
			map[string][]string{"Date": {date}, "Content-Length": {"2"}, "Link": {"<a>"}}},
		{"Connection lists many names", "HTTP/1.1 200 OK\r\nDate: " + date + "\r\nConnection: " + strings.Repeat("X-A, ", 20) + "X-Gone\r\nX-Gone: 1\r\nX-A: 1\r\nLink: <a>\r\nContent-Length: 2\r\nLink: <b>\r\n\r\n", "ok", 200,
			map[string][]string{"Date": {date}, "Content-Length": {"2"}, "Link": {"<a>", "<b>"}}},
		{"no Date", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\n", "ok", 200,
			map[string][]string{"Date": {"now"}, "Content-Length": {"2"}}},
		{"two Dates", "HTTP/1.1 200 OK\r\nDate: " + date + "\r\nContent-Length: 2\r\nDate: Mon, 30 Nov 2026 10:00:00 GMT\r\n\r\n", "ok", 200,
			map[string][]string{"Date": {date}, "Content-Length": {"2"}}},
		{"304 framed", "HTTP/1.1 304 Not Modified\r\nDate: " + date + "\r\nETag: \"v1\"\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n", "", 304,
			map[string][]string{"Date": {date}, "Etag": {`"v1"`}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := "/" + strings.ReplaceAll(tc.name, " ", "-")
			raw := tc.head
			if !strings.HasSuffix(raw, "0\r\n\r\n") {
				raw += tc.body // a chunked head has its body in it
			}
			o.Script(path, testenv.Script{Raw: []byte(raw)})
			c, err := net.Dial("tcp", n.HTTPAddr())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(10 * time.Second))
			br := bufio.NewReader(c)
			for i := range 2 { // the second on the same connection: the origin's close is not the client's
				io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: www.example.com\r\n\r\n")
				resp, err := http.ReadResponse(br, nil)
				if err != nil {
					t.Fatalf("request %d: %v", i+1, err)
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || string(body) != tc.body || resp.StatusCode != tc.status {
					t.Fatalf("request %d: %s %q, %v; want %d %q", i+1, resp.Status, body, err, tc.status, tc.body)
				}
				if resp.Proto != "HTTP/1.1" {
					t.Errorf("status line %s %s, want HTTP/1.1", resp.Proto, resp.Status)
				}
				if want := http.StatusText(tc.status); !strings.HasSuffix(resp.Status, " "+want) {
					t.Errorf("status %q, want the reason phrase %q", resp.Status, want)
				}
				if resp.Close {
					t.Fatalf("request %d: the client's connection is closed", i+1)
				}
				got := resp.Header.Clone()
				got.Del("Via")
				got.Del("Cache-Status")
				if d := got.Values("Date"); len(d) == 1 && tc.want["Date"][0] == "now" {
					if at, err := http.ParseTime(d[0]); err != nil || time.Since(at) > time.Minute {
						t.Errorf("Date %q, want now's", d[0])
					}
					got["Date"] = []string{"now"}
				}
				if resp.TransferEncoding != nil {
					got["Transfer-Encoding"] = nil // Go's reader takes it out of the head
				}
				for k, v := range tc.want {
					if !slices.Equal(got[http.CanonicalHeaderKey(k)], v) {
						t.Errorf("%s: %q, want %q", k, got[http.CanonicalHeaderKey(k)], v)
					}
					got.Del(k)
				}
				if len(got) > 0 {
					t.Errorf("fields the origin's head should not have given: %v", got)
				}
			}
		})
	}
}
