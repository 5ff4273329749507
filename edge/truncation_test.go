package edge

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/internal/testenv"
)

// truncations are every way the test origin can end a body early.
var truncations = []struct {
	name   string
	script testenv.Script
}{
	{"chunk-boundary", testenv.Script{Framing: testenv.Chunked, Chunk: 100, Cut: testenv.ChunkBoundary}},
	{"mid-chunk", testenv.Script{Framing: testenv.Chunked, Cut: testenv.MidChunk, CutAt: 150}},
	{"short-length", testenv.Script{Cut: testenv.ShortLength, CutAt: 150}},
	{"reset-chunked", testenv.Script{Framing: testenv.Chunked, Chunk: 100, Cut: testenv.Reset, CutAt: 200}},
	{"reset-length", testenv.Script{Cut: testenv.Reset, CutAt: 200}},
}

// truncated is the script s cutting a 400-byte, max-age=60 body.
func truncated(s testenv.Script) testenv.Script {
	s.Header = testenv.Fields("Cache-Control", "max-age=60")
	s.Body = []byte(strings.Repeat("t", 400))
	return s
}

var whole = testenv.Script{Header: testenv.Fields("Cache-Control", "max-age=60"), Body: []byte(strings.Repeat("w", 400))}

// strictGet sends one GET on its own connection and reads the response as a strict HTTP/1.1
// client does: the body error is what tells a truncated response from a complete one.
func strictGet(t *testing.T, addr, path string) reply {
	t.Helper()
	return strictGetFrom(t, "", addr, path)
}

// strictGetFrom is strictGet from the local address ip ("" lets the system choose).
func strictGetFrom(t *testing.T, ip, addr, path string) reply {
	t.Helper()
	d := net.Dialer{Timeout: 10 * time.Second}
	if ip != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(ip)}
	}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: www.example.com\r\n\r\n", path)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return reply{err: err}
	}
	body, err := io.ReadAll(resp.Body)
	return reply{status: resp.StatusCode, header: resp.Header, body: string(body), err: err}
}

// RFC 9112 sections 6.3 and 7.1, RFC 9111 section 3.3: a body that ends early is never
// presented as complete and never stored, on cache and pass routes alike.
func TestNode_truncatedBodyIsNeitherCompleteNorStored(t *testing.T) {
	for _, cache := range []bool{true, false} {
		o := testenv.StartBadOrigin(t)
		n := startNode(t, oneRoute(cache, o.URL), Options{})
		for _, tc := range truncations {
			t.Run(fmt.Sprintf("cache=%v/%s", cache, tc.name), func(t *testing.T) {
				path := "/" + tc.name + ".css"
				o.Sequence(path, truncated(tc.script), whole)
				first := strictGet(t, n.HTTPAddr(), path)
				// A cut seen before the head went out is the node's 502 (origin.startBody):
				// complete as a 502, never as the object.
				if first.err == nil && first.status != http.StatusBadGateway {
					t.Errorf("truncated response read as complete: %d, %d bytes, Cache-Status %q", first.status, len(first.body), first.header.Get("Cache-Status"))
				}
				n.bg.Wait()
				second := strictGet(t, n.HTTPAddr(), path)
				if second.err != nil || second.body != string(whole.Body) || second.hit() {
					t.Errorf("next request: err %v, %d bytes, Cache-Status %q; want the origin's whole body, not a hit", second.err, len(second.body), second.header.Get("Cache-Status"))
				}
				if got := o.Count(path); got != 2 {
					t.Errorf("origin saw %d requests, want 2 (the truncated object must not be stored)", got)
				}
			})
		}
	}
}

// RFC 9112 section 6.3 item 8: a close-delimited body is complete when the origin closes
// cleanly, so it is stored when storable (and relayed whole on pass); cut by a reset it is
// incomplete.
func TestNode_closeDelimitedBody(t *testing.T) {
	for _, cache := range []bool{true, false} {
		o := testenv.StartBadOrigin(t)
		n := startNode(t, oneRoute(cache, o.URL), Options{})
		closed := testenv.Script{Framing: testenv.CloseDelimited, Header: testenv.Fields("Cache-Control", "max-age=60"), Body: []byte(strings.Repeat("c", 400))}
		o.Script("/clean.css", closed)
		noStore := closed
		noStore.Header = testenv.Fields("Cache-Control", "no-store")
		o.Script("/nostore.css", noStore)
		reset := closed
		reset.Cut, reset.CutAt = testenv.Reset, 100
		o.Sequence("/reset.css", reset, closed)

		for _, tc := range []struct {
			path       string
			firstOK    bool
			wantOrigin int
		}{
			{"/clean.css", true, map[bool]int{true: 1, false: 2}[cache]},
			{"/nostore.css", true, 2},
			{"/reset.css", false, 2},
		} {
			first := strictGet(t, n.HTTPAddr(), tc.path)
			if (first.err == nil) != tc.firstOK || tc.firstOK && len(first.body) != 400 {
				t.Errorf("cache=%v %s: first response err %v, %d bytes; want complete=%v", cache, tc.path, first.err, len(first.body), tc.firstOK)
			}
			n.bg.Wait()
			second := strictGet(t, n.HTTPAddr(), tc.path)
			if second.err != nil || len(second.body) != 400 {
				t.Errorf("cache=%v %s: second response err %v, %d bytes", cache, tc.path, second.err, len(second.body))
			}
			if got := o.Count(tc.path); got != tc.wantOrigin {
				t.Errorf("cache=%v %s: origin saw %d requests, want %d", cache, tc.path, got, tc.wantOrigin)
			}
		}
	}
}

// Coalesced followers of a truncated fill see the same failure as its leader.
func TestNode_truncatedFillFailsEveryFollower(t *testing.T) {
	o := testenv.StartBadOrigin(t)
	n := startNode(t, oneRoute(true, o.URL), Options{})
	for _, tc := range truncations {
		t.Run(tc.name, func(t *testing.T) {
			path := "/f-" + tc.name + ".css"
			s := truncated(tc.script)
			s.Delay = 300 * time.Millisecond // the followers join while the leader waits for the head
			o.Sequence(path, s, whole)
			var complete atomic.Int64
			parallel(8, func(int) {
				if r := strictGet(t, n.HTTPAddr(), path); r.err == nil && r.status != http.StatusBadGateway {
					complete.Add(1)
					t.Logf("complete: %d, %d bytes, Cache-Status %q", r.status, len(r.body), r.header.Get("Cache-Status"))
				}
			})
			if o.Count(path) != 1 {
				t.Fatalf("origin saw %d requests, want 1 (one coalesced fill)", o.Count(path))
			}
			if complete.Load() != 0 {
				t.Errorf("%d of 8 clients read the truncated body as complete", complete.Load())
			}
		})
	}
}

// A stale copy outlives a revalidation whose answer is cut short (RFC 9111 section 3.3:
// an incomplete response does not replace a stored one).
func TestNode_truncatedRevalidationKeepsTheStaleCopy(t *testing.T) {
	clock := newTestClock()
	o := testenv.StartBadOrigin(t)
	n := startNode(t, oneRoute(true, o.URL), Options{Now: clock.Now})
	for _, tc := range truncations {
		t.Run(tc.name, func(t *testing.T) {
			path := "/s-" + tc.name + ".css"
			var seq atomic.Int64
			o.Handle(path, func(_ testenv.RawRequest, i int) testenv.Script {
				seq.Add(1)
				s := whole
				if i == 1 {
					s = truncated(tc.script)
				}
				s.Header = testenv.Fields("Date", clock.Now().Format(http.TimeFormat), "Cache-Control", "max-age=10, stale-if-error=600", "ETag", fmt.Sprintf(`"v%d"`, i))
				return s
			})
			if r := strictGet(t, n.HTTPAddr(), path); r.err != nil || r.body != string(whole.Body) {
				t.Fatalf("fill: err %v, %d bytes", r.err, len(r.body))
			}
			n.bg.Wait()
			clock.Add(time.Minute)
			strictGet(t, n.HTTPAddr(), path) // the revalidation, answered by a truncated 200
			n.bg.Wait()
			obj, ok := n.Store().Get(cacheKey("http", "www.example.com", path, ""))
			if !ok || obj.Header.Get("ETag") != `"v0"` || string(obj.Body) != string(whole.Body) {
				var etag string
				if ok {
					etag = obj.Header.Get("ETag")
				}
				t.Errorf("after a truncated revalidation the store holds ok=%v ETag %q; want the stale copy (ETag \"v0\")", ok, etag)
			}
		})
	}
}

// A non-owner relays its owner's truncated response as truncated: the peer hop must not
// turn it into a complete one.
func TestCluster_peerHopCarriesTruncation(t *testing.T) {
	o := testenv.StartBadOrigin(t)
	nodes := startCluster(t, 3, o.URL)
	for _, tc := range truncations {
		t.Run(tc.name, func(t *testing.T) {
			path := "/p-" + tc.name + ".css"
			o.Sequence(path, truncated(tc.script), whole)
			owner, _ := nodes[0].Ring().Owner(cacheKey("http", "www.example.com", path, ""))
			var via *Node
			for _, n := range nodes {
				if n.name != owner.Name {
					via = n
				}
			}
			r := strictGet(t, via.HTTPAddr(), path)
			// A 502 is the owner's answer to a cut it saw before its head went out
			// (origin.startBody): complete as a 502, never as the object.
			if r.err == nil && r.status != http.StatusBadGateway && r.body != string(whole.Body) {
				t.Errorf("through %s (owner %s): read %d bytes as complete, Cache-Status %q", via.name, owner.Name, len(r.body), r.header.Get("Cache-Status"))
			}
			for _, n := range nodes {
				n.bg.Wait()
				if obj, ok := n.Store().Get(cacheKey("http", "www.example.com", path, "")); ok && string(obj.Body) != string(whole.Body) {
					t.Errorf("%s stored a %d-byte truncated body", n.name, len(obj.Body))
				}
			}
		})
	}
}

// An HTTP/2 client's stream is reset when the body it is receiving turns out truncated
// (RFC 9113 section 8.1: a stream that ends early must not end with END_STREAM): before the
// head when the cut comes first, mid-body when the head and some content already left. A
// length-delimited body cut within its first buffer, which came with the head, is the node's
// 502 instead (TestNode_shortOriginBodyBeforeTheHeadIs502).
func TestNode_truncatedBodyResetsTheHTTP2Stream(t *testing.T) {
	o := testenv.StartBadOrigin(t)
	shapes := append([]struct {
		name   string
		script testenv.Script
	}{}, truncations...)
	large := testenv.Script{Framing: testenv.Chunked, Chunk: 16 << 10, Cut: testenv.ChunkBoundary}
	for _, cache := range []bool{true, false} {
		dir := t.TempDir()
		certFile, keyFile, pool := writeCert(t, dir, "site", "www.example.test")
		n := startNode(t, fmt.Sprintf(`listen: {http: "127.0.0.1:0", https: "127.0.0.1:0", admin: "127.0.0.1:0"}
tls: {certificates: [{cert: %s, key: %s}]}
`, certFile, keyFile)+oneRoute(cache, o.URL), Options{})
		client := tlsClient(pool, true, n.HTTPSAddr())
		t.Cleanup(client.CloseIdleConnections) // before the node shuts down: it waits for open connections
		for _, tc := range append(shapes, struct {
			name   string
			script testenv.Script
		}{"large-chunk-boundary", large}) {
			t.Run(fmt.Sprintf("cache=%v/%s", cache, tc.name), func(t *testing.T) {
				path := fmt.Sprintf("/h2-%v-%s.css", cache, tc.name)
				s := truncated(tc.script)
				if tc.name == "large-chunk-boundary" {
					s.Body = []byte(strings.Repeat("L", 256<<10))
				}
				o.Sequence(path, s, whole)
				req, _ := http.NewRequest("GET", "https://"+n.HTTPSAddr()+path, nil)
				req.Host = "www.example.test"
				resp, err := client.Do(req)
				var body []byte
				if err == nil {
					if resp.ProtoMajor != 2 {
						t.Fatalf("spoke HTTP/%d", resp.ProtoMajor)
					}
					body, err = io.ReadAll(resp.Body)
					resp.Body.Close()
				}
				if err == nil && resp.StatusCode == http.StatusBadGateway {
					return // cut before the head went out: the node's 502 (origin.startBody)
				}
				if err == nil {
					t.Fatalf("stream ended cleanly after %d bytes (status %d, Cache-Status %q); want a reset", len(body), resp.StatusCode, resp.Header.Get("Cache-Status"))
				}
				if !strings.Contains(err.Error(), "stream error") {
					t.Errorf("after %d bytes: %v; want the stream reset (RST_STREAM)", len(body), err)
				}
			})
		}
	}
}

// Past the size a non-owner buffers (hotMaxObject with hot copies), the owner's answer streams through the
// peer hop: a whole one keeps its Content-Length, a cut one stays cut.
func TestCluster_peerHopStreamsLargeBodies(t *testing.T) {
	o := testenv.StartBadOrigin(t)
	nodes := startCluster(t, 3, o.URL)
	big := []byte(strings.Repeat("b", hotMaxObject+100<<10))
	for _, tc := range []struct {
		name string
		cut  testenv.Cut
	}{{"whole", testenv.Whole}, {"short-length", testenv.ShortLength}, {"reset", testenv.Reset}} {
		t.Run(tc.name, func(t *testing.T) {
			path := "/big-" + tc.name + ".bin"
			o.Script(path, testenv.Script{Header: testenv.Fields("Cache-Control", "max-age=60"), Body: big, Cut: tc.cut, CutAt: hotMaxObject + 50<<10})
			owner, _ := nodes[0].Ring().Owner(cacheKey("http", "www.example.com", path, ""))
			var via *Node
			for _, n := range nodes {
				if n.name != owner.Name {
					via = n
				}
			}
			r := strictGet(t, via.HTTPAddr(), path)
			switch {
			case tc.cut == testenv.Whole && (r.err != nil || len(r.body) != len(big) || r.header.Get("Content-Length") != fmt.Sprint(len(big))):
				t.Errorf("whole: err %v, %d bytes, Content-Length %q", r.err, len(r.body), r.header.Get("Content-Length"))
			case tc.cut != testenv.Whole && r.err == nil:
				t.Errorf("cut at %d bytes, read %d bytes as complete", hotMaxObject+50<<10, len(r.body))
			}
		})
	}
}

// A Range request on a miss waits for the whole object to answer the range from it: when the
// object arrives cut, the client gets an error, not the cut part as a complete 200.
func TestNode_truncatedRangeMissIsAnError(t *testing.T) {
	o := testenv.StartBadOrigin(t)
	n := startNode(t, oneRoute(true, o.URL), Options{})
	for _, tc := range truncations {
		t.Run(tc.name, func(t *testing.T) {
			path := "/r-" + tc.name + ".css"
			o.Sequence(path, truncated(tc.script), whole)
			c, err := net.Dial("tcp", n.HTTPAddr())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(10 * time.Second))
			fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: www.example.com\r\nRange: bytes=0-9\r\n\r\n", path)
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				return // closed without an answer: not presented as complete
			}
			body, err := io.ReadAll(resp.Body)
			if err == nil && resp.StatusCode < 300 {
				t.Errorf("a cut object answered %d with %d bytes as complete (Content-Range %q)", resp.StatusCode, len(body), resp.Header.Get("Content-Range"))
			}
		})
	}
}
