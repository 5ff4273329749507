package edge

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"
)

// h3Double is a listener as an HTTP/3 one (quic-go) would be written against the pipeline's
// seam: a request of pseudo-fields and fields, a body stream, and a response it writes once
// handle returns. It shares nothing with the HTTP/1.1 and HTTP/2 listeners but the exchange
// types, which is the point: a third wire fits without the pipeline knowing it.
type h3Double struct{ n *Node }

// h3Request is what a QUIC stream would have decoded (QPACK): names lowercase.
type h3Request struct {
	method, authority, path string
	fields                  [][2]string
	body                    []byte // sent as a stream of unknown length when not nil
}

// h3Answer is what the double wrote to its stream.
type h3Answer struct {
	status  int
	fields  http.Header
	body    []byte
	interim []int
	cut     bool // the body stream failed: a QUIC stream would be reset
}

// h3Response implements response for the double.
type h3Response struct {
	head    fieldList
	body    []byte
	stream  io.Reader
	skip    bool
	interim []int
}

func (r *h3Response) Head() responseHead { return &r.head }
func (r *h3Response) SetBody(b []byte)   { r.CloseBodyStream(); r.body = b }
func (r *h3Response) Body() []byte       { return r.body }
func (r *h3Response) SetBodyStream(s io.Reader, size int) {
	r.CloseBodyStream()
	r.body, r.stream = nil, s
	r.head.contentLength = size
}
func (r *h3Response) BodyStream() io.Reader { return r.stream }
func (r *h3Response) CloseBodyStream() {
	if r.stream != nil {
		closeBody(r.stream, nil)
		r.stream = nil
	}
}
func (r *h3Response) SkipBody()                      { r.skip = true }
func (r *h3Response) BodySkipped() bool              { return r.skip }
func (r *h3Response) SetConnectionClose()            {}
func (r *h3Response) ConnectionClose() bool          { return false }
func (r *h3Response) FlushHead()                     {}
func (r *h3Response) Seal(*pipeline, *exchange)      {}
func (r *h3Response) Interim(status int, _ [][]byte) { r.interim = append(r.interim, status) }
func (r *h3Response) Reset() {
	r.CloseBodyStream()
	r.head.Reset()
	r.head.status, r.body, r.skip = 200, nil, false
}

// serve runs one request through the node's pipeline, as handleHTTP1 and ServeH2 do.
func (d h3Double) serve(q h3Request) h3Answer {
	var req fieldList
	req.Reset()
	req.setMethod(q.method)
	req.SetRequestURI(q.path)
	req.SetHost(q.authority)
	req.setProtocol("HTTP/3")
	for _, f := range q.fields {
		req.Add(f[0], f[1])
	}
	resp := &h3Response{}
	resp.Reset()
	// Cleartext, so that the key is the one a plain-HTTP client's request makes (the scheme
	// is part of the key).
	x := &exchange{req: &req, resp: resp, remote: netip.MustParseAddr("127.0.0.1"),
		host: req.host, hosts: 1}
	if q.body != nil {
		req.contentLength = -1
		x.body, x.bodyLen = bytes.NewReader(q.body), -1
	}
	d.n.handle(x)
	a := h3Answer{status: resp.head.status, fields: http.Header{}, interim: resp.interim}
	for k, v := range resp.head.All() {
		a.fields.Add(string(k), string(v))
	}
	if resp.head.contentLength >= 0 {
		a.fields.Set("Content-Length", strconv.Itoa(resp.head.contentLength))
	}
	switch {
	case resp.skip || q.method == "HEAD":
		resp.CloseBodyStream()
	case resp.stream != nil:
		b, err := io.ReadAll(resp.stream)
		closeBody(resp.stream, err)
		a.body, a.cut = b, err != nil
	default:
		a.body = resp.body
	}
	return a
}

// TestExchange_h3DoubleServesThroughThePipeline shows the seam an HTTP/3 listener would use:
// a miss, a hit of the same object (shared with an HTTP/1.1 client, one origin fetch), a
// HEAD, a pass with a streamed request body, and a 103 relayed as an interim response.
func TestExchange_h3DoubleServesThroughThePipeline(t *testing.T) {
	body := strings.Repeat("h3", 700)
	var posted []byte
	o := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == "POST":
			posted, _ = io.ReadAll(r.Body)
			w.Header().Set("Cache-Control", "no-store")
			fmt.Fprintf(w, "got %d", len(posted))
		case r.URL.Path == "/hints":
			w.Header().Add("Link", "</a.css>; rel=preload")
			w.WriteHeader(http.StatusEarlyHints)
			w.Header().Set("Cache-Control", "max-age=60")
			w.Write([]byte("hinted"))
		default:
			w.Header().Set("Cache-Control", "max-age=3600")
			w.Header().Set("Content-Type", "text/plain")
			w.Write([]byte(body))
		}
	})
	n := startNode(t, oneRoute(true, o.URL), Options{})
	long := time.Now().Add(-time.Hour)
	n.started.Store(&long)
	d := h3Double{n: n}
	getReq := func(path string) h3Request {
		return h3Request{method: "GET", authority: "site.test", path: path, fields: [][2]string{{"accept", "*/*"}}}
	}

	miss := d.serve(getReq("/o.txt"))
	if miss.status != 200 || string(miss.body) != body || miss.cut {
		t.Fatalf("miss: %d, %d bytes, cut %v", miss.status, len(miss.body), miss.cut)
	}
	if cs := miss.fields.Get("Cache-Status"); !strings.Contains(cs, "fwd=uri-miss") {
		t.Fatalf("miss Cache-Status = %q", cs)
	}
	n.settleFills()
	hit := d.serve(getReq("/o.txt"))
	if hit.status != 200 || string(hit.body) != body {
		t.Fatalf("hit: %d, %d bytes", hit.status, len(hit.body))
	}
	if cs := hit.fields.Get("Cache-Status"); !strings.Contains(cs, "hit") || hit.fields.Get("Age") == "" {
		t.Fatalf("hit fields: %v", hit.fields)
	}
	code, h, b1 := get(t, "http://"+n.HTTPAddr()+"/o.txt", "Host", "site.test")
	if code != 200 || b1 != body || !strings.Contains(h.Get("Cache-Status"), "hit") {
		t.Fatalf("HTTP/1.1 client after the double: %d %q", code, h.Get("Cache-Status"))
	}
	if got := o.requests.Load(); got != 1 {
		t.Fatalf("origin fetches = %d, want 1 for one object shared by both listeners", got)
	}

	head := d.serve(h3Request{method: "HEAD", authority: "site.test", path: "/o.txt"})
	if head.status != 200 || len(head.body) != 0 || head.fields.Get("Content-Length") != strconv.Itoa(len(body)) {
		t.Fatalf("HEAD: %d, body %d, Content-Length %q", head.status, len(head.body), head.fields.Get("Content-Length"))
	}

	upload := bytes.Repeat([]byte("u"), 100_000)
	post := d.serve(h3Request{method: "POST", authority: "site.test", path: "/form", body: upload,
		fields: [][2]string{{"content-type", "application/octet-stream"}}})
	if post.status != 200 || string(post.body) != "got 100000" || !bytes.Equal(posted, upload) {
		t.Fatalf("POST: %d %q, origin got %d bytes", post.status, post.body, len(posted))
	}

	hinted := d.serve(getReq("/hints"))
	if hinted.status != 200 || string(hinted.body) != "hinted" || len(hinted.interim) != 1 || hinted.interim[0] != http.StatusEarlyHints {
		t.Fatalf("hints: %d %q interim %v", hinted.status, hinted.body, hinted.interim)
	}
}
