package edge

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/internal/testenv"
)

// responses reads every response the node sends for one request on its own connection,
// interim ones first, up to and including the final one.
func responses(t *testing.T, addr, raw string) []reply {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, raw)
	br := bufio.NewReader(c)
	var out []reply
	for {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			return append(out, reply{err: err})
		}
		body, err := io.ReadAll(resp.Body)
		out = append(out, reply{status: resp.StatusCode, header: resp.Header, body: string(body), err: err})
		if resp.StatusCode >= 200 {
			return out
		}
	}
}

var hints = testenv.Interim{Status: 103, Header: testenv.Fields("Link", "</style.css>; rel=preload; as=style", "Link", "</app.js>; rel=preload; as=script")}

// RFC 9110 section 15.2, RFC 8297: any number of 1xx before the final response are consumed;
// a 103 is relayed to an HTTP/1.1 client as an interim response on pass and on a miss, and
// never stored: a hit has none.
func TestNode_earlyHintsRelayedOverHTTP1(t *testing.T) {
	o := testenv.StartBadOrigin(t)
	final := testenv.Script{Header: testenv.Fields("Cache-Control", "max-age=60"), Body: []byte("final body")}
	for _, tc := range []struct {
		name    string
		interim []testenv.Interim
		hints   int // 103s the client must see
	}{
		{"one 103", []testenv.Interim{hints}, 1},
		{"100, 102, 103, 103", []testenv.Interim{{Status: 100}, {Status: 102}, hints, hints}, 2},
		{"100 only", []testenv.Interim{{Status: 100}}, 0},
	} {
		for _, cache := range []bool{true, false} {
			t.Run(fmt.Sprintf("cache=%v/%s", cache, tc.name), func(t *testing.T) {
				n := startNode(t, oneRoute(cache, o.URL), Options{})
				path := fmt.Sprintf("/%v-%s.css", cache, strings.ReplaceAll(strings.ReplaceAll(tc.name, " ", ""), ",", "-"))
				s := final
				s.Interim = tc.interim
				o.Script(path, s)
				got := responses(t, n.HTTPAddr(), "GET "+path+" HTTP/1.1\r\nHost: www.example.com\r\n\r\n")
				last := got[len(got)-1]
				if last.err != nil || last.status != 200 || last.body != "final body" {
					t.Fatalf("final response: %d %q err %v (after %d interim)", last.status, last.body, last.err, len(got)-1)
				}
				if len(got)-1 != tc.hints {
					t.Errorf("client saw %d interim responses, want %d", len(got)-1, tc.hints)
				}
				for _, r := range got[:len(got)-1] {
					if r.status != 103 || len(r.header.Values("Link")) != 2 {
						t.Errorf("interim %d with Link %q, want a 103 with both Link fields", r.status, r.header.Values("Link"))
					}
				}
				if len(last.header.Values("Link")) != 0 {
					t.Errorf("the final response carries the hints' Link fields: %q", last.header.Values("Link"))
				}
				n.bg.Wait()
				again := responses(t, n.HTTPAddr(), "GET "+path+" HTTP/1.1\r\nHost: www.example.com\r\n\r\n")
				if cache && (len(again) != 1 || !again[0].hit() || again[0].body != "final body") {
					t.Errorf("second request: %d responses, first %d %q; want one hit, no interim", len(again), again[0].status, again[0].cacheStatus())
				}
			})
		}
	}
}

// The same over HTTP/2: the hints arrive as an interim HEADERS frame.
func TestNode_earlyHintsRelayedOverHTTP2(t *testing.T) {
	o := testenv.StartBadOrigin(t)
	for _, cache := range []bool{true, false} {
		dir := t.TempDir()
		certFile, keyFile, pool := writeCert(t, dir, "site", "www.example.test")
		n := startNode(t, fmt.Sprintf(`listen: {http: "127.0.0.1:0", https: "127.0.0.1:0", admin: "127.0.0.1:0"}
tls: {certificates: [{cert: %s, key: %s}]}
`, certFile, keyFile)+oneRoute(cache, o.URL), Options{})
		path := fmt.Sprintf("/h2-hints-%v.css", cache)
		o.Script(path, testenv.Script{Interim: []testenv.Interim{{Status: 100}, hints}, Header: testenv.Fields("Cache-Control", "max-age=60"), Body: []byte("final body")})
		var mu sync.Mutex
		var got []int
		var links []string
		trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
			mu.Lock()
			got = append(got, code)
			links = append(links, h.Values("Link")...)
			mu.Unlock()
			return nil
		}}
		req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), "GET", "https://"+n.HTTPSAddr()+path, nil)
		req.Host = "www.example.test"
		client := tlsClient(pool, true, n.HTTPSAddr())
		t.Cleanup(client.CloseIdleConnections) // before the node shuts down: it waits for open connections
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.ProtoMajor != 2 || resp.StatusCode != 200 || string(body) != "final body" || err != nil {
			t.Fatalf("cache=%v: HTTP/%d %d %q %v", cache, resp.ProtoMajor, resp.StatusCode, body, err)
		}
		mu.Lock()
		if len(got) != 1 || got[0] != 103 || len(links) != 2 {
			t.Errorf("cache=%v: interim responses %v with Link %q, want one 103 with two Link fields", cache, got, links)
		}
		mu.Unlock()
		if len(resp.Header.Values("Link")) != 0 {
			t.Errorf("cache=%v: final response carries Link %q", cache, resp.Header.Values("Link"))
		}
	}
}

// Expect: 100-continue request bodies reach the origin on pass routes (RFC 9110 section
// 10.1.1), whether or not the origin sends its own 100.
func TestNode_expectContinueOnPass(t *testing.T) {
	o := testenv.StartBadOrigin(t)
	o.Script("/post", testenv.Script{Body: []byte("posted")})
	n := startNode(t, oneRoute(false, o.URL), Options{})
	got := responses(t, n.HTTPAddr(), "POST /post HTTP/1.1\r\nHost: www.example.com\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\nhello")
	last := got[len(got)-1]
	if last.err != nil || last.status != 200 || last.body != "posted" {
		t.Fatalf("final: %d %q %v", last.status, last.body, last.err)
	}
	for _, r := range got[:len(got)-1] {
		if r.status != 100 {
			t.Errorf("interim %d, want only the listener's own 100 Continue", r.status)
		}
	}
	reqs := o.Requests()
	if len(reqs) != 1 || string(reqs[0].Body) != "hello" {
		t.Fatalf("origin saw %d requests, body %q", len(reqs), reqs[len(reqs)-1].Body)
	}
}
