package edge

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// open starts stream id with a header block of fields (pseudo-fields first, as given),
// ending the stream with it when end is set.
func (r *rawH2) open(id uint32, end bool, fields ...[2]string) {
	r.buf.Reset()
	for _, f := range fields {
		r.enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
	}
	r.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: r.buf.Bytes(), EndStream: end, EndHeaders: true})
}

// outcome reads stream id's frames until it ends: the response's :status, or the code of
// the node's RST_STREAM.
func (r *rawH2) outcome(id uint32) (status string, reset http2.ErrCode) {
	r.t.Helper()
	for {
		switch f := r.next().(type) {
		case *http2.HeadersFrame:
			hf, err := r.dec.DecodeFull(f.HeaderBlockFragment())
			if err != nil {
				r.t.Fatal(err)
			}
			for _, h := range hf {
				if f.StreamID == id && h.Name == ":status" {
					status = h.Value
				}
			}
			if f.StreamID == id && f.StreamEnded() {
				return status, 0
			}
		case *http2.DataFrame:
			if f.StreamID == id && f.StreamEnded() {
				return status, 0
			}
		case *http2.RSTStreamFrame:
			if f.StreamID == id {
				return status, f.ErrCode
			}
		case *http2.GoAwayFrame:
			r.t.Fatalf("GOAWAY %v while stream %d was open", f.ErrCode, id)
		}
	}
}

// TestH2Serve_contentLengthMetBeforeTheContentEnds: an HTTP/2 request whose content-length
// is reached while its content goes on (content-length: 0, or 4, and more DATA after a
// pause) is malformed (RFC 9113 section 8.1.1), and an intermediary must not forward it: the
// stream is reset with PROTOCOL_ERROR and no origin is asked, for a POST and a GET, on a
// pass route and a cache route. The same content-lengths met exactly at END_STREAM, DATA in
// two frames with the pause between them, reach the origin whole. Failed before: the node
// took a content-length of 0 as the end of the content and a met content-length as the end
// of the prefetch, so the origin had the request (a POST executed, a GET filled) before the
// extra DATA arrived and the stream was reset.
func TestH2Serve_contentLengthMetBeforeTheContentEnds(t *testing.T) {
	origin, _, got := uploadOrigin(t)
	routes := strings.Replace(oneRoute(false, origin.URL), "routes:\n",
		"routes:\n  - {match: {path_prefix: /cached/}, origin: o, cache: true}\n", 1)
	n, _ := h2Node(t, routes)
	// pause is how long the client waits between its frames: before the fix the node had
	// asked the origin well within it.
	const pause = 300 * time.Millisecond
	cases := []struct {
		method, path, length string
		data                 []string // DATA frames, the pause before each; the last ends the stream
		malformed            bool
	}{
		{"POST", "/pass/zero", "0", []string{"abcd"}, true},
		{"POST", "/pass/four", "4", []string{"abcd", "efgh"}, true},
		{"GET", "/pass/get-zero", "0", []string{"abcd"}, true},
		{"GET", "/cached/get-zero", "0", []string{"abcd"}, true},
		{"PUT", "/cached/put-four", "4", []string{"ab", "cdef"}, true},
		{"POST", "/pass/exact", "4", []string{"ab", "cd"}, false},
		{"POST", "/pass/empty", "0", []string{""}, false},
	}
	for i, c := range cases {
		t.Run(c.method+c.path, func(t *testing.T) {
			before := origin.requests.Load()
			r := dialRawH2(t, n.HTTPSAddr())
			id := uint32(2*i + 1)
			r.open(id, false, [2]string{":method", c.method}, [2]string{":scheme", "https"},
				[2]string{":authority", "www.example.test"}, [2]string{":path", c.path},
				[2]string{"content-length", c.length})
			for j, d := range c.data {
				time.Sleep(pause)
				r.fr.WriteData(id, j == len(c.data)-1, []byte(d))
			}
			status, reset := r.outcome(id)
			asked := origin.requests.Load() - before
			if c.malformed {
				if reset != http2.ErrCodeProtocol || asked != 0 {
					t.Fatalf("content-length %s, DATA %q: status %q, reset %v; the origin was asked %d times, want a PROTOCOL_ERROR reset and none",
						c.length, c.data, status, reset, asked)
				}
				return
			}
			want := int64(len(strings.Join(c.data, "")))
			if status != "200" || asked != 1 || got.path(c.path) != want {
				t.Fatalf("content-length %s, DATA %q: status %q, reset %v; the origin was asked %d times and read %d bytes, want 200 once with %d",
					c.length, c.data, status, reset, asked, got.path(c.path), want)
			}
		})
	}
	if code, _, _ := get(t, "http://"+n.HTTPAddr()+"/pass/after", "Host", "www.example.test"); code != http.StatusOK {
		t.Fatalf("the node answers %d after the malformed streams", code)
	}
}
