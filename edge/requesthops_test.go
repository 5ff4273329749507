package edge

import (
	"bufio"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

// hopByHopHeads are client heads whose hop-by-hop fields (RFC 9110 section 7.6.1) must stay
// on the client's hop: X-Secret is named by a Connection line in each, in the shapes a client
// may send (two Connection lines, "close" last or first, lowercase names, a list with spaces).
var hopByHopHeads = []struct{ name, fields string }{
	{"listed then close", "Connection: keep-alive, X-Secret\r\nX-Secret: s\r\nConnection: close\r\n"},
	{"close then listed", "Connection: close\r\nConnection: X-Secret\r\nX-Secret: s\r\n"},
	{"one line with close", "Connection: X-Secret, close\r\nX-Secret: s\r\n"},
	{"lowercase", "connection: x-secret\r\nx-secret: s\r\nkeep-alive: timeout=5\r\n"},
	{"spaces and empty members", "Connection: ,  X-Secret ,,\r\nX-Secret: s\r\nTE: trailers\r\nUpgrade: h2c\r\nProxy-Connection: keep-alive\r\nTrailer: X-T\r\n"},
	// An h2c upgrade whose Connection line does not name HTTP2-Settings: the field is still
	// connection-specific (RFC 7540 section 3.2.1), a setting for the hop it came on.
	{"h2c settings unlisted", "Connection: X-Secret\r\nX-Secret: s\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n"},
}

// hopFieldsIn lists the fields of got that must not have left the client's hop.
func hopFieldsIn(names []string) []string {
	var out []string
	for _, n := range names {
		switch strings.ToLower(n) {
		case "x-secret", "keep-alive", "te", "upgrade", "proxy-connection", "trailer", "connection", "http2-settings":
			out = append(out, n)
		}
	}
	return out
}

// TestCopyRequestTo_leavesHopByHopFieldsBehind: what the node sends on (to an origin on pass
// and miss, and to the owner over the peer port) carries none of the client's hop-by-hop
// fields, nor those its Connection lines name. Failed before: the fields were added to
// fasthttp's head as received, and its Connection handling kept only the last line, so with
// "Connection: close" after the list, X-Secret reached the origin; and the client's
// "Connection: close" closed the peer connection after each forwarded request.
func TestOutgoing_leavesHopByHopFieldsBehind(t *testing.T) {
	for _, tc := range hopByHopHeads {
		var in fasthttp.Request
		in.Header.DisableNormalizing()
		raw := "GET /a.css HTTP/1.1\r\nHost: www.example.com\r\nX-Keep: 1\r\n" + tc.fields + "\r\n"
		if err := in.Read(bufio.NewReader(strings.NewReader(raw))); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var x exchange
		var l fieldList
		readHTTP1Head(&l, &in.Header)
		x.req = &l
		var out fasthttp.Request
		o := x.outgoing()
		writeRequest(o, &out, nil, 0, nil)
		putOutgoing(o)
		var names []string
		for k := range out.Header.All() {
			names = append(names, string(k))
		}
		if bad := hopFieldsIn(names); len(bad) > 0 || out.Header.ConnectionClose() {
			t.Errorf("%s: sent on with %v (connection close %v): %q", tc.name, bad, out.Header.ConnectionClose(), out.Header.String())
		}
		if string(out.Header.Peek("X-Keep")) != "1" {
			t.Errorf("%s: an end-to-end field was lost: %q", tc.name, out.Header.String())
		}
	}
}

// oneResponse writes raw on a new connection and reads one response (not waiting for the
// server to close a kept-alive connection).
func oneResponse(t testing.TB, addr, raw string) int {
	t.Helper()
	c, ok := sendRaw(t, addr, raw)
	defer c.Close()
	if !ok {
		t.Fatal("the server closed before the request was written")
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// TestNode_connectionListedFieldsNeverReachTheOrigin is the same over real sockets: a pass
// and a miss through one node, and a miss through a node that forwards to the key's owner.
// Failed before (the first case): the origin received X-Secret on pass and miss alike, and
// through the peer hop before the pipeline redesign too.
func TestNode_connectionListedFieldsNeverReachTheOrigin(t *testing.T) {
	o := startRawLogOrigin(t)
	n := startNode(t, hostileConfig(o.URL, ""), Options{})
	nodes := startCluster(t, 3, o.URL)
	for i, tc := range hopByHopHeads {
		for _, path := range []string{"/dyn/hop", "/hop", "/peer-hop"} {
			addr := n.HTTPAddr()
			path := path + "-" + string(rune('a'+i)) + ".css"
			if strings.HasPrefix(path, "/peer-hop") {
				_, via := viaNonOwner(t, nodes, path)
				addr = via.HTTPAddr()
			}
			before := len(o.requests())
			if status := oneResponse(t, addr, "GET "+path+" HTTP/1.1\r\nHost: www.example.com\r\n"+tc.fields+"\r\n"); status != 200 {
				t.Fatalf("%s %s: status %d", tc.name, path, status)
			}
			got := o.requests()[before:]
			if len(got) != 1 {
				t.Fatalf("%s %s: the origin received %d requests", tc.name, path, len(got))
			}
			if bad := hopFieldsIn(got[0].names()); len(bad) > 0 {
				t.Errorf("%s %s: the origin received %v: %q", tc.name, path, bad, got[0].fields)
			}
		}
	}
}

// TestNode_contentWithoutContentTypeKeepsNone: request content sent without a Content-Type
// reaches the origin without one, over HTTP/1.1 (fixed length and chunked) and HTTP/2 (held
// and streamed), and a Content-Type the client sent arrives as sent. Failed before (also
// before the pipeline redesign): fasthttp's client added "Content-Type:
// application/octet-stream" to every request with content and none.
func TestNode_contentWithoutContentTypeKeepsNone(t *testing.T) {
	o := startRawLogOrigin(t)
	n, pool := h2Node(t, hostileConfig(o.URL, ""))
	for _, raw := range []string{
		"POST /dyn/ct-1 HTTP/1.1\r\nHost: www.example.test\r\nContent-Length: 3\r\n\r\nabc",
		"PUT /dyn/ct-2 HTTP/1.1\r\nHost: www.example.test\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
		"POST /dyn/ct-3 HTTP/1.1\r\nHost: www.example.test\r\nContent-Type: text/x-mine\r\nContent-Length: 3\r\n\r\nabc",
	} {
		if status := oneResponse(t, n.HTTPAddr(), raw); status != 200 {
			t.Fatalf("%q: status %d", raw, status)
		}
	}
	c := h2Client(pool, n.HTTPSAddr())
	for _, size := range []int{3, h2Prefetch + 1} {
		req, _ := http.NewRequest("POST", "https://www.example.test/dyn/ct-h2", io.MultiReader(strings.NewReader(strings.Repeat("a", size))))
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("HTTP/2 %d bytes: status %d", size, resp.StatusCode)
		}
	}
	got := o.requests()
	if len(got) != 5 {
		t.Fatalf("the origin received %d requests", len(got))
	}
	for _, r := range got {
		want := []string(nil)
		if r.target() == "/dyn/ct-3" {
			want = []string{"text/x-mine"}
		}
		if ct := r.values("Content-Type"); strings.Join(ct, ",") != strings.Join(want, ",") || len(r.body) == 0 {
			t.Errorf("%s: the origin received Content-Type %q (content %d bytes), want %q", r.line, ct, len(r.body), want)
		}
	}
}
