package edge

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// RFC 9110 section 14.2: a miss with Range on an object above cache.max_object_size (one the
// disk tier stores, one nothing stores) is answered with the range as the fill streams by,
// as nginx's proxy_cache and Varnish do, not with the whole object: a video player seeking
// near the end, or a download manager resuming, got the whole object with 200 for each request.
// Over HTTP/1.1 and HTTP/2, for a single range, a suffix, an open end, a range past the
// end (416) and a weak If-Range (the whole 200).
func TestNode_rangedMissOfALargeObjectAnswersTheRange(t *testing.T) {
	want := largeBody(3 << 20)
	origin := startVideoOrigin(t, want)
	size := len(want)
	cases := []struct {
		name, rng, ifRange string
		status             int
		from, to           int // the bytes expected, want[from:to]
		contentRange       string
	}{
		{"first-last near the end", "bytes=3000000-3000099", "", 206, 3000000, 3000100, fmt.Sprintf("bytes 3000000-3000099/%d", size)},
		{"suffix", "bytes=-500", "", 206, size - 500, size, fmt.Sprintf("bytes %d-%d/%d", size-500, size-1, size)},
		{"open end", "bytes=2000000-", `"big1"`, 206, 2000000, size, fmt.Sprintf("bytes 2000000-%d/%d", size-1, size)},
		{"last beyond the end is clipped", "bytes=0-99999999", "", 206, 0, size, fmt.Sprintf("bytes 0-%d/%d", size-1, size)},
		{"past the end is 416", fmt.Sprintf("bytes=%d-", size), "", 416, 0, 0, fmt.Sprintf("bytes */%d", size)},
		{"a weak If-Range never matches: 200", "bytes=0-9", `W/"big1"`, 200, 0, size, ""},
	}
	for _, tier := range []string{"disk", "none"} {
		t.Run(tier, func(t *testing.T) {
			n := startTierNode(t, origin.URL, tier, "size: 128MiB, max_object_size: 32MiB")
			for _, proto := range []string{"HTTP/1.1", "HTTP/2"} {
				c, addr := protoClient(n, proto)
				for i, tc := range cases {
					// Each its own path: every request a miss.
					url := fmt.Sprintf("http://%s/%s/%s/%d.mp4", addr, tier, strings.ReplaceAll(proto, "/", ""), i)
					h := []string{"Range", tc.rng}
					if tc.ifRange != "" {
						h = append(h, "If-Range", tc.ifRange)
					}
					resp, body := review3DoWith(t, c, "GET", url, h...)
					if resp.StatusCode != tc.status || resp.Header.Get("Content-Range") != tc.contentRange ||
						tc.status != 416 && !bytes.Equal(body, want[tc.from:tc.to]) {
						t.Errorf("%s %s (%s): %d, Content-Range %q, %d bytes (want %d, %q, %d bytes of want[%d:]), Cache-Status %q",
							proto, tc.name, tc.rng, resp.StatusCode, resp.Header.Get("Content-Range"), len(body),
							tc.status, tc.contentRange, tc.to-tc.from, tc.from, resp.Header.Get("Cache-Status"))
					}
					if tc.status == 206 && (resp.ContentLength != int64(tc.to-tc.from) || resp.Header.Get("Content-Encoding") != "" ||
						resp.Header.Get("ETag") != `"big1"` || resp.Header.Get("Content-Type") != "video/mp4") {
						t.Errorf("%s %s: Content-Length %d, Content-Encoding %q, ETag %q, Content-Type %q", proto, tc.name,
							resp.ContentLength, resp.Header.Get("Content-Encoding"), resp.Header.Get("ETag"), resp.Header.Get("Content-Type"))
					}
				}
			}
			// The client that wanted the first ten bytes did not cut the fill short: the
			// disk tier has the whole object, and the origin is not asked again.
			url := "http://" + n.HTTPAddr() + "/" + tier + "/head.mp4"
			if resp, body := review3DoWith(t, http.DefaultClient, "GET", url, "Range", "bytes=0-9"); resp.StatusCode != 206 || !bytes.Equal(body, want[:10]) {
				t.Fatalf("bytes=0-9: %d, %q", resp.StatusCode, body)
			}
			if tier != "disk" {
				return
			}
			n.settleFills()
			n.settleDisk()
			before := origin.requests.Load()
			resp, body := review3DoWith(t, http.DefaultClient, "GET", url)
			if !bytes.Equal(body, want) || !strings.HasSuffix(resp.Header.Get("Cache-Status"), "/disk") || origin.requests.Load() != before {
				t.Errorf("after a ranged miss: %d bytes, Cache-Status %q, %d more origin requests; want a disk hit",
					len(body), resp.Header.Get("Cache-Status"), origin.requests.Load()-before)
			}
		})
	}
}

// startVideoOrigin answers every request with body, whole and with its length, as a video
// (ETag "big1", max-age=600); it ignores Range.
func startVideoOrigin(t *testing.T, body []byte) *countingOrigin {
	return startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=600")
		w.Header().Set("ETag", `"big1"`)
		w.Header().Set("Content-Type", "video/mp4")
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		w.Write(body)
	})
}
