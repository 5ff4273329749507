package edge

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
)

// Several ranges of an object whose body is not in memory (a disk hit, a fill larger than
// memory keeps) got the whole object with 200, while a memory hit answered them with a
// multipart/byteranges 206 (RFC 9110 section 14.6), as nginx does from its cache. Each
// answers the same now, over HTTP/1.1 and HTTP/2, with a Content-Length that is the body's.
func TestNode_severalRangesOfALargeObjectAreMultipart(t *testing.T) {
	want := largeBody(3 << 20)
	small := want[:64<<10]
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		b := want
		if strings.Contains(r.URL.Path, "/small") {
			b = small
		}
		w.Header().Set("Cache-Control", "max-age=600")
		w.Header().Set("Content-Type", "video/mp4")
		w.Header().Set("Content-Length", fmt.Sprint(len(b)))
		w.Write(b)
	})
	// Unsorted and overlapping: coalesced into three parts in ascending order (section 14.2).
	const rng = "bytes=-50,0-9,5-19,40000-40099"
	check := func(t *testing.T, what string, c *http.Client, url string, body []byte) {
		t.Helper()
		size := len(body)
		parts := []struct{ from, to int }{{0, 20}, {40000, 40100}, {size - 50, size}}
		resp, got := review3DoWith(t, c, "GET", url, "Range", rng)
		mt, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
		if resp.StatusCode != http.StatusPartialContent || err != nil || mt != "multipart/byteranges" {
			t.Fatalf("%s: %d, Content-Type %q, %d bytes, Cache-Status %q; want a 206 multipart/byteranges", what,
				resp.StatusCode, resp.Header.Get("Content-Type"), len(got), resp.Header.Get("Cache-Status"))
		}
		if resp.ContentLength != int64(len(got)) {
			t.Errorf("%s: Content-Length %d, body %d bytes", what, resp.ContentLength, len(got))
		}
		mr := multipart.NewReader(bytes.NewReader(got), params["boundary"])
		for i, p := range parts {
			part, err := mr.NextPart()
			if err != nil {
				t.Fatalf("%s: part %d: %v", what, i, err)
			}
			b, err := io.ReadAll(part)
			cr := fmt.Sprintf("bytes %d-%d/%d", p.from, p.to-1, size)
			if err != nil || part.Header.Get("Content-Range") != cr || part.Header.Get("Content-Type") != "video/mp4" || !bytes.Equal(b, body[p.from:p.to]) {
				t.Errorf("%s: part %d: Content-Range %q, Content-Type %q, %d bytes, %v; want %q, %d bytes of body[%d:]", what, i,
					part.Header.Get("Content-Range"), part.Header.Get("Content-Type"), len(b), err, cr, p.to-p.from, p.from)
			}
		}
		if _, err := mr.NextPart(); err != io.EOF {
			t.Errorf("%s: after the last part: %v", what, err)
		}
	}
	for _, tier := range []string{"disk", "none"} {
		t.Run(tier, func(t *testing.T) {
			n := startTierNode(t, origin.URL, tier, "size: 128MiB, max_object_size: 32MiB")
			for _, proto := range []string{"HTTP/1.1", "HTTP/2"} {
				c, addr := protoClient(n, proto)
				base := fmt.Sprintf("http://%s/%s", addr, strings.ReplaceAll(proto, "/", ""))
				check(t, proto+" large miss", c, base+"/large.mp4", want)
				check(t, proto+" small miss", c, base+"/small.mp4", small)
				n.settleFills()
				check(t, proto+" small hit", c, base+"/small.mp4", small)
				if tier == "disk" {
					n.settleDisk()
					check(t, proto+" disk hit", c, base+"/large.mp4", want)
				}
			}
		})
	}
}
