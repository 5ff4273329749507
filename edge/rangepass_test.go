package edge

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// An object beyond every size limit is never stored, and each ranged request of it started
// a fill of the whole object, dropped up to the range: the origin sent the object again per
// seek. Once a fill has found the object that large, a ranged miss of its URL goes to the
// origin with its Range (as nginx forwards Range past proxy_cache_max_range_offset), over
// HTTP/1.1 and HTTP/2, and the origin sends only the range; a request without Range is
// still a fill of the whole object.
func TestNode_rangedMissOfAnObjectBeyondEveryLimitForwardsTheRange(t *testing.T) {
	want := largeBody(6 << 20)
	var mu sync.Mutex
	var ranges []string // the Range of each origin request ("" for none)
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		ranges = append(ranges, r.Header.Get("Range"))
		mu.Unlock()
		w.Header().Set("Cache-Control", "max-age=600")
		w.Header().Set("Content-Type", "video/mp4")
		w.Header().Set("ETag", `"v1"`)
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(want))
	})
	originRanges := func() []string {
		mu.Lock()
		defer mu.Unlock()
		out := ranges
		ranges = nil
		return out
	}
	size := len(want)
	for _, tier := range []string{"disk", "none"} {
		t.Run(tier, func(t *testing.T) {
			n := startTierNode(t, origin.URL, tier, "size: 16MiB, max_object_size: 2MiB")
			for _, proto := range []string{"HTTP/1.1", "HTTP/2"} {
				c, addr := protoClient(n, proto)
				url := fmt.Sprintf("http://%s/%s/movie.mp4", addr, strings.ReplaceAll(proto, "/", ""))
				ask := func(rng string, status, from, to int) {
					t.Helper()
					resp, body := review3DoWith(t, c, "GET", url, "Range", rng)
					if resp.StatusCode != status || !bytes.Equal(body, want[from:to]) {
						t.Fatalf("%s %s: %d, %d bytes; want %d, want[%d:%d]", proto, rng, resp.StatusCode, len(body), status, from, to)
					}
					if status == 206 && resp.Header.Get("Content-Range") != fmt.Sprintf("bytes %d-%d/%d", from, to-1, size) {
						t.Fatalf("%s %s: Content-Range %q", proto, rng, resp.Header.Get("Content-Range"))
					}
				}
				ask("bytes=0-99", 206, 0, 100) // the fill that finds the object too large
				n.settleFills()
				originRanges()
				ask("bytes=6000000-6000099", 206, 6000000, 6000100)
				ask("bytes=-10", 206, size-10, size)
				if resp, _ := review3DoWith(t, c, "GET", url, "Range", "bytes=0-9,6000000-6000009"); resp.StatusCode != 206 ||
					!strings.HasPrefix(resp.Header.Get("Content-Type"), "multipart/byteranges") {
					t.Fatalf("%s: two ranges: %d, Content-Type %q", proto, resp.StatusCode, resp.Header.Get("Content-Type"))
				}
				if got := originRanges(); len(got) != 3 || got[0] != "bytes=6000000-6000099" || got[1] != "bytes=-10" || got[2] != "bytes=0-9,6000000-6000009" {
					t.Fatalf("%s: the origin was asked for %q, want the clients' ranges", proto, got)
				}
				resp, body := review3DoWith(t, c, "GET", url)
				if resp.StatusCode != 200 || !bytes.Equal(body, want) || len(originRanges()) != 1 {
					t.Fatalf("%s: a request without Range: %d, %d bytes", proto, resp.StatusCode, len(body))
				}
			}
		})
	}
}

// The fill of an object nothing stores (beyond every size limit) read it from the origin to
// its end after its only client was gone: a player asking for the first 100 bytes of a
// 64 MiB file made the node download the 64 MiB. The fill stops once nobody reads it.
func TestNode_fillNobodyReadsOrStoresStops(t *testing.T) {
	const size = 64 << 20
	chunk := largeBody(256 << 10)
	sent := make(chan int64, 1)
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=600")
		w.Header().Set("Content-Length", fmt.Sprint(size))
		var n int64
		for n < size {
			k, err := w.Write(chunk)
			n += int64(k)
			if err != nil {
				break
			}
		}
		sent <- n
	})
	yaml := strings.Replace(oneRoute(true, origin.URL), "max_object_size: 8MiB", "max_object_size: 1MiB", 1)
	n := startNode(t, yaml, Options{Logger: testLogger(t)})
	resp, body := review3DoWith(t, http.DefaultClient, "GET", "http://"+n.HTTPAddr()+"/big.iso", "Range", "bytes=0-99")
	if resp.StatusCode != 206 || !bytes.Equal(body, chunk[:100]) {
		t.Fatalf("%d, %d bytes", resp.StatusCode, len(body))
	}
	select {
	case got := <-sent:
		if got >= size/2 {
			t.Fatalf("the origin sent %d of %d bytes for a client that read 100", got, size)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the origin was still sending after 20 s")
	}
}

// A purge of the URL forgets that its object was too large: the next ranged miss fills
// again (the origin may now have one a tier keeps).
func TestNode_purgeForgetsThatAnObjectWasTooLarge(t *testing.T) {
	want := largeBody(3 << 20)
	var mu sync.Mutex
	var ranges []string
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		ranges = append(ranges, r.Header.Get("Range"))
		mu.Unlock()
		w.Header().Set("Cache-Control", "max-age=600")
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(want))
	})
	dir := t.TempDir()
	token := "purge-token-0123456789abcdef"
	tokenFile := filepath.Join(dir, "purge.token")
	os.WriteFile(tokenFile, []byte(token), 0o600)
	yaml := strings.Replace(oneRoute(true, origin.URL), "max_object_size: 8MiB", "max_object_size: 1MiB", 1) +
		fmt.Sprintf("purge: {token_file: %s, allow: [127.0.0.0/8]}\n", tokenFile)
	n := startNode(t, yaml, Options{Logger: testLogger(t)})
	url := "http://" + n.HTTPAddr() + "/movie.mp4"
	for range 2 {
		if resp, _ := review3DoWith(t, http.DefaultClient, "GET", url, "Range", "bytes=0-9"); resp.StatusCode != 206 {
			t.Fatalf("%d", resp.StatusCode)
		}
		n.settleFills()
	}
	if status, _ := postPurge(t, n.AdminAddr(), token, `{"url": "http://www.example.com/movie.mp4"}`); status != http.StatusOK {
		t.Fatalf("purge: %d", status)
	}
	if resp, _ := review3DoWith(t, http.DefaultClient, "GET", url, "Range", "bytes=0-9"); resp.StatusCode != 206 {
		t.Fatalf("%d", resp.StatusCode)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(ranges) != 3 || ranges[0] != "" || ranges[1] != "bytes=0-9" || ranges[2] != "" {
		t.Fatalf("origin asked for %q: want a fill, the range passed, and a fill again after the purge", ranges)
	}
}
