package edge

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestNode_fillAnswersPreconditionsForTheCodedVariant: a request whose answer the node codes
// as it streams (compression on, a miss or a revalidation of a compressible object, the
// client accepting gzip) gets the gzip representation, whose ETag is the variant's ("v1-gzip",
// RFC 9110 section 8.8.3: another representation, another validator), as every hit for that
// client does. Its preconditions were evaluated against the identity head the origin sent,
// so on a miss or a revalidation the client holding "v1-gzip" was sent the whole body again
// (no match with "v1"), a client sending "v1" got a 304 where a hit sends the coded 200, and
// the 304 named ETag "v1", which RFC 9110 section 15.4.5 forbids: a 304 carries the ETag a
// 200 to the same request would have. The fill's answer now evaluates them against the
// representation it sends, as a hit does, over HTTP/1.1 and h2c.
//
// A weak ETag (W/"v1") is kept on the coded representation, on a streamed miss and on the
// stored variant a hit serves alike (codedETag): a weak validator names content that is
// semantically the same (RFC 9110 section 8.8.1), which a content coding keeps, and nginx's
// gzip filter keeps it too. So If-None-Match W/"v1" is a 304 on the miss, the hit and the
// revalidation (weak comparison, RFC 9110 section 13.1.2). Failed before: the miss sent
// W/"v1" and the stored variant W/"v1-gzip" (two functions), so the hit answered 200 to
// the validator the miss had handed out, and its ETag changed between miss and hit.
func TestNode_fillAnswersPreconditionsForTheCodedVariant(t *testing.T) {
	for _, tag := range []struct{ origin, coded string }{{`"v1"`, `"v1-gzip"`}, {`W/"v1"`, `W/"v1"`}} {
		t.Run(tag.origin, func(t *testing.T) { testCodedVariantPreconditions(t, tag.origin, tag.coded) })
	}
}

func testCodedVariantPreconditions(t *testing.T, originTag, codedTag string) {
	clock := newTestClock()
	origin := startRFCOrigin(t, clock, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("ETag", originTag)
		w.Header().Set("Content-Type", "text/plain")
		if r.Header.Get("If-None-Match") == originTag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		for range 50 {
			io.WriteString(w, "compressible text, ")
		}
	})
	n := startNode(t, `listen: {http: "127.0.0.1:0", h2c: "127.0.0.1:0", admin: "127.0.0.1:0"}
`+oneRoute(true, origin.URL)+"compression: {encodings: [gzip]}\n", Options{Now: clock.Now})
	identity := http.StatusOK // the client holds the identity's validator
	if strings.HasPrefix(originTag, "W/") {
		identity = http.StatusNotModified // the same weak validator
	}
	steps := []struct {
		name, path string
		advance    time.Duration
		header     []string
		status     int
	}{
		{"miss, the client holds the variant", "/held", 0, []string{"If-None-Match", codedTag}, http.StatusNotModified},
		{"hit, the client holds the variant", "/held", 0, []string{"If-None-Match", codedTag}, http.StatusNotModified},
		{"revalidation, the client holds the variant", "/held", 70 * time.Second, []string{"If-None-Match", codedTag}, http.StatusNotModified},
		{"revalidation, If-Modified-Since", "/held", 70 * time.Second, []string{"If-Modified-Since", clock.httpDate(time.Hour)}, http.StatusNotModified},
		{"miss, the client holds identity", "/identity", 0, []string{"If-None-Match", originTag}, identity},
		{"hit, the client holds identity", "/identity", 0, []string{"If-None-Match", originTag}, identity},
		{"revalidation, the client holds identity", "/identity", 70 * time.Second, []string{"If-None-Match", originTag}, identity},
		{"miss, unconditional", "/plain", 0, nil, http.StatusOK},
		{"hit, unconditional", "/plain", 0, nil, http.StatusOK},
	}
	for _, proto := range []string{"HTTP/1.1", "HTTP/2"} {
		c, addr := protoClient(n, proto)
		for _, s := range steps {
			clock.Add(s.advance)
			req, err := http.NewRequest("GET", "http://"+addr+"/"+proto+s.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Accept-Encoding", "gzip") // set by hand: the transport does not decode
			for i := 0; i+1 < len(s.header); i += 2 {
				req.Header.Set(s.header[i], s.header[i+1])
			}
			resp, err := c.Do(req)
			if err != nil {
				t.Fatalf("%s %s: %v", proto, s.name, err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			n.settleFills()
			if resp.StatusCode != s.status || resp.Header.Get("ETag") != codedTag {
				t.Errorf("%s %s: %d ETag %s (Cache-Status %q), want %d ETag %s", proto, s.name, resp.StatusCode,
					resp.Header.Get("ETag"), resp.Header.Get("Cache-Status"), s.status, codedTag)
			}
		}
	}
}

// TestCluster_forwardAnswersPreconditionsForTheCodedVariant: the same through a member that
// does not own the key. The owner fills and codes the answer it sends over the peer hop, so
// the preconditions the non-owner passes on were evaluated there against the identity head:
// the client holding "v1-gzip" was sent the body, the one holding "v1" a 304 naming "v1".
func TestCluster_forwardAnswersPreconditionsForTheCodedVariant(t *testing.T) {
	origin := startCompressibleOrigin(t)
	nodes := startClusterEdited(t, 2, origin.URL, "", func(y string) string { return y + "compression: {encodings: [gzip]}\n" })
	for _, tc := range []struct {
		name, ifNoneMatch string
		status            int
	}{{"held", `"v1-gzip"`, http.StatusNotModified}, {"identity", `"v1"`, http.StatusOK}} {
		path := pathOwnedBy(t, nodes, nodes[1], "/"+tc.name)
		req, err := http.NewRequest("GET", "http://"+nodes[0].HTTPAddr()+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Host = "www.example.com"
		req.Header.Set("Accept-Encoding", "gzip")
		req.Header.Set("If-None-Match", tc.ifNoneMatch)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || resp.Header.Get("ETag") != `"v1-gzip"` || !strings.Contains(resp.Header.Get("Cache-Status"), "detail=node-2") {
			t.Errorf("client holding %s, a miss through the non-owner: %d ETag %s (Cache-Status %q), want %d ETag \"v1-gzip\" filled by node-2",
				tc.ifNoneMatch, resp.StatusCode, resp.Header.Get("ETag"), resp.Header.Get("Cache-Status"), tc.status)
		}
	}
}

// startCompressibleOrigin answers every request with 950 bytes of text/plain, ETag "v1",
// max-age=60: a response the node compresses.
func startCompressibleOrigin(t *testing.T) *countingOrigin {
	return startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("ETag", `"v1"`)
		w.Header().Set("Content-Type", "text/plain")
		for range 50 {
			io.WriteString(w, "compressible text, ")
		}
	})
}
