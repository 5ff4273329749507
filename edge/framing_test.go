package edge

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/cachestore"
	"github.com/shoal-cdn/shoal/httpcache"
	"github.com/shoal-cdn/shoal/internal/testenv"
)

// framingOrigin answers with every framing and hop-by-hop field an origin may send, some
// doubled or contradictory: none of them may reach a client as stored, whatever the path.
// twice adds a Content-Length to its chunked answer (RFC 9112 section 6.3 item 3): such an
// answer is relayed but not stored (TestNode_answerFramedTwiceIsNotStored), so the paths
// that serve a stored copy need the answer framed once.
func framingOrigin(t *testing.T, twice bool) *testenv.BadOrigin {
	o := testenv.StartBadOrigin(t)
	length := []string{}
	if twice {
		length = []string{"Content-Length", "5"}
	}
	o.Handle("", testenv.Always(testenv.Script{
		Framing: testenv.Chunked, Chunk: 7, Body: []byte("framing body 0123456789"),
		Header: testenv.Fields(append(length,
			"Cache-Control", "max-age=60",
			"ETag", `"f1"`,
			"Connection", "X-Foo, x-bar",
			"connection", "x-baz", // a second line, spelled in lower case
			"X-Foo", "1",
			"X-Bar", "2",
			"x-baz", "3",
			"Keep-Alive", "timeout=5, max=100",
			"Proxy-Connection", "keep-alive",
			"Trailer", "X-Checksum",
			"TE", "trailers",
			"Upgrade", "h2c",
			"X-Kept", "end-to-end",
		)...),
	}))
	return o
}

// stored are the fields framingOrigin sent that must never come back from the node.
var hopFields = []string{"X-Foo", "X-Bar", "X-Baz", "Keep-Alive", "Proxy-Connection", "Trailer", "TE", "Upgrade"}

// headRequest sends raw on its own connection and parses the answer strictly; it returns the
// raw head lines too, so a field the parser would fold away is still seen.
func headRequest(t *testing.T, addr, raw string) (*http.Response, []string, string, error) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, raw)
	var head strings.Builder
	br := bufio.NewReader(io.TeeReader(c, &head))
	resp, err := http.ReadResponse(br, &http.Request{Method: strings.Fields(raw)[0]})
	if err != nil {
		return nil, nil, "", err
	}
	body, err := io.ReadAll(resp.Body)
	lines := strings.Split(strings.SplitN(head.String(), "\r\n\r\n", 2)[0], "\r\n")
	return resp, lines, string(body), err
}

func checkFraming(t *testing.T, what string, resp *http.Response, lines []string, body string, err error, wantBody string) {
	t.Helper()
	if err != nil {
		t.Errorf("%s: response did not parse: %v", what, err)
		return
	}
	counts := map[string]int{}
	for _, l := range lines[1:] {
		name, _, _ := strings.Cut(l, ":")
		counts[http.CanonicalHeaderKey(name)]++
	}
	for _, f := range hopFields {
		if counts[http.CanonicalHeaderKey(f)] > 0 {
			t.Errorf("%s: %s reached the client:\n%s", what, f, strings.Join(lines, "\n"))
		}
	}
	if counts["Content-Length"] > 1 || counts["Transfer-Encoding"] > 1 || counts["Content-Length"]+counts["Transfer-Encoding"] > 1 {
		t.Errorf("%s: framing fields not the node's own:\n%s", what, strings.Join(lines, "\n"))
	}
	if counts["Content-Type"] != 0 {
		// RFC 9110 section 8.3: without one the recipient may sniff; a proxy that adds one
		// changes what the client does with the content.
		t.Errorf("%s: Content-Type %q invented for a response that had none", what, resp.Header.Get("Content-Type"))
	}
	for _, v := range resp.Header.Values("Connection") {
		if !strings.EqualFold(v, "close") && !strings.EqualFold(v, "keep-alive") {
			t.Errorf("%s: Connection %q replayed", what, v)
		}
	}
	if body != wantBody {
		t.Errorf("%s: body %q, want %q", what, body, wantBody)
	}
}

// RFC 9110 section 7.6.1 and RFC 9112 section 6: framing and hop-by-hop fields are computed
// for every response the node writes and never replayed from storage: miss, hit, 304, HEAD,
// range, on cache and pass routes.
func TestNode_framingFieldsAreNeverReplayed(t *testing.T) {
	for _, c := range []struct{ cache, twice bool }{{true, false}, {false, false}, {true, true}, {false, true}} {
		cache := c.cache
		o := framingOrigin(t, c.twice)
		n := startNode(t, oneRoute(cache, o.URL), Options{})
		req := func(method, path, extra string) string {
			return method + " " + path + " HTTP/1.1\r\nHost: www.example.com\r\n" + extra + "\r\n"
		}
		full := "framing body 0123456789"
		for _, tc := range []struct{ what, raw, body string }{
			{"miss", req("GET", "/f.css", ""), full},
			{"hit", req("GET", "/f.css", ""), full},
			{"304", req("GET", "/f.css", "If-None-Match: \"f1\"\r\n"), ""},
			{"HEAD", req("HEAD", "/f.css", ""), ""},
			{"range", req("GET", "/f.css", "Range: bytes=0-6\r\n"), "framing"},
			{"HEAD miss", req("HEAD", "/g.css", ""), ""},
			{"range miss", req("GET", "/h.css", "Range: bytes=0-6\r\n"), "framing"},
		} {
			resp, lines, body, err := headRequest(t, n.HTTPAddr(), tc.raw)
			if (!cache || c.twice) && (tc.what == "range" || tc.what == "304") || tc.what == "range miss" {
				// A pass route relays the origin, which ignores both, and so does a cache
				// route for an answer framed twice, never stored; a range miss of a body of
				// unknown length may be answered whole (RFC 9110 section 14.2).
				if resp != nil && resp.StatusCode == 200 {
					tc.body = full
				}
			}
			checkFraming(t, fmt.Sprintf("cache=%v twice=%v %s", cache, c.twice, tc.what), resp, lines, body, err, tc.body)
			n.bg.Wait()
		}
	}
}

// The same through a non-owner: the owner's answer crosses the peer port, and the hot copy
// the non-owner keeps of it is served again.
func TestCluster_framingFieldsAreNeverReplayed(t *testing.T) {
	o := framingOrigin(t, false) // stored by the owner, and kept hot by the non-owner
	nodes := startCluster(t, 3, o.URL)
	path := "/peer.css"
	owner, _ := nodes[0].Ring().Owner(cacheKey("http", "www.example.com", path, ""))
	var via *Node
	for _, n := range nodes {
		if n.name != owner.Name {
			via = n
		}
	}
	for i := range 4 { // miss, forwarded hit, hot copy candidates, hot copy hits
		resp, lines, body, err := headRequest(t, via.HTTPAddr(), "GET "+path+" HTTP/1.1\r\nHost: www.example.com\r\n\r\n")
		checkFraming(t, fmt.Sprintf("via %s, request %d", via.name, i), resp, lines, body, err, "framing body 0123456789")
		for _, n := range nodes {
			n.bg.Wait()
		}
	}
}

// An object whose stored head holds framing and hop-by-hop fields (written by an older
// version, a disk tier, or any path that forgot to strip them) is still served with the
// node's own framing: the writer drops them, it does not trust the store.
func TestNode_storedFramingFieldsAreDroppedOnWrite(t *testing.T) {
	o := testenv.StartBadOrigin(t)
	n := startNode(t, oneRoute(true, o.URL), Options{})
	header := httpcache.Header{
		{Name: "Date", Value: time.Now().UTC().Format(http.TimeFormat)},
		{Name: "Cache-Control", Value: "max-age=60"},
		{Name: "Transfer-Encoding", Value: "chunked"},
		{Name: "Content-Length", Value: "5"},
		{Name: "Connection", Value: "keep-alive"},
		{Name: "Keep-Alive", Value: "timeout=5"},
		{Name: "Proxy-Connection", Value: "keep-alive"},
		{Name: "Trailer", Value: "X-Checksum"},
		{Name: "TE", Value: "trailers"},
		{Name: "Upgrade", Value: "h2c"},
	}
	rt := n.rt.Load()
	now := time.Now()
	resp := httpcache.Response{Status: 200, Header: header, RequestTime: now, ResponseTime: now}
	d := rt.policy.Storable(httpcache.Request{Method: "GET"}, resp)
	key := cacheKey("http", "www.example.com", "/stored.css", "")
	n.Store().Set(&cachestore.Object{Key: key, URL: key, Status: 200, Header: httpcache.Pack(header), Body: []byte("stored body"),
		RequestTime: cachestore.StampOf(now), ResponseTime: cachestore.StampOf(now), Generation: n.Store().Begin(), Meta: cachestore.NewMeta(d, header)})
	n.settleFills()
	for _, raw := range []string{
		"GET /stored.css HTTP/1.1\r\nHost: www.example.com\r\n\r\n",
		"HEAD /stored.css HTTP/1.1\r\nHost: www.example.com\r\n\r\n",
		"GET /stored.css HTTP/1.1\r\nHost: www.example.com\r\nRange: bytes=0-5\r\n\r\n",
	} {
		resp, lines, body, err := headRequest(t, n.HTTPAddr(), raw)
		want := map[string]string{"GET": "stored body", "HEAD": ""}[strings.Fields(raw)[0]]
		if strings.Contains(raw, "Range") {
			want = "stored"
		}
		if resp != nil && !strings.Contains(resp.Header.Get("Cache-Status"), "hit") {
			t.Fatalf("not a hit: Cache-Status %q", resp.Header.Get("Cache-Status"))
		}
		checkFraming(t, strings.Fields(raw)[0], resp, lines, body, err, want)
		if resp != nil && resp.Header.Get("Keep-Alive") != "" {
			t.Errorf("Keep-Alive replayed")
		}
	}
}

// Over HTTP/2 too: the adapter writes only end-to-end fields, and none the origin did not send.
func TestNode_framingFieldsAreNeverReplayedOverHTTP2(t *testing.T) {
	for _, c := range []struct{ cache, twice bool }{{true, false}, {false, false}, {true, true}} {
		cache := c.cache
		o := framingOrigin(t, c.twice)
		dir := t.TempDir()
		certFile, keyFile, pool := writeCert(t, dir, "site", "www.example.test")
		n := startNode(t, fmt.Sprintf(`listen: {http: "127.0.0.1:0", https: "127.0.0.1:0", admin: "127.0.0.1:0"}
tls: {certificates: [{cert: %s, key: %s}]}
`, certFile, keyFile)+oneRoute(cache, o.URL), Options{})
		client := tlsClient(pool, true, n.HTTPSAddr())
		t.Cleanup(client.CloseIdleConnections) // before the node shuts down: it waits for open connections
		for i := range 2 {
			req, _ := http.NewRequest("GET", "https://"+n.HTTPSAddr()+"/f2.css", nil)
			req.Host = "www.example.test"
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.ProtoMajor != 2 || err != nil || string(body) != "framing body 0123456789" {
				t.Fatalf("cache=%v request %d: HTTP/%d %q %v", cache, i, resp.ProtoMajor, body, err)
			}
			for _, f := range append(hopFields, "Content-Type") {
				if v := resp.Header.Values(f); len(v) > 0 {
					t.Errorf("cache=%v request %d: %s %q reached the client", cache, i, f, v)
				}
			}
			n.bg.Wait()
		}
	}
}
