package edge

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// largeBody is n bytes that differ at every 16-byte step, so a shifted or repeated chunk
// shows as a byte mismatch.
func largeBody(n int) []byte {
	b := make([]byte, 0, n+16)
	for i := 0; len(b) < n; i++ {
		b = fmt.Appendf(b, "%015d\n", i)
	}
	return b[:n]
}

// largeDiskNode is a node whose memory keeps objects up to 1 MiB and whose disk keeps them
// up to 32 MiB, with a purge API; extra goes into cache.disk.
func largeDiskNode(t *testing.T, originURL, extra string) (*Node, string) {
	t.Helper()
	dir := t.TempDir()
	token := "purge-token-0123456789abcdef"
	tokenFile := filepath.Join(dir, "purge.token")
	os.WriteFile(tokenFile, []byte(token), 0o600)
	yaml := strings.Replace(oneRoute(true, originURL), "max_object_size: 8MiB, fill_timeout: 5s}",
		fmt.Sprintf("max_object_size: 1MiB, fill_timeout: 5s, disk: {path: %q, size: 128MiB, max_object_size: 32MiB%s}}", t.TempDir(), extra), 1) +
		fmt.Sprintf("purge: {token_file: %s, allow: [127.0.0.0/8]}\n", tokenFile)
	n := startNode(t, yaml, Options{Logger: testLogger(t)})
	waitDiskReady(t, n)
	return n, token
}

func getRange(t *testing.T, url, rng string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if rng != "" {
		req.Header.Set("Range", rng)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s: reading the body: %v", url, err)
	}
	return resp, body
}

// Issue 16: an object larger than cache.max_object_size but within cache.disk.max_object_size
// is stored on disk by the fill that streams it to the client, then served from disk
// byte-exact, whole and as a range, without a second origin fetch; a purge removes it.
func TestDiskTier_objectTooLargeForMemoryGoesToDisk(t *testing.T) {
	want := largeBody(12 << 20)
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=600")
		w.Header().Set("Content-Length", fmt.Sprint(len(want)))
		w.Write(want)
	})
	n, token := largeDiskNode(t, origin.URL, "")
	url := "http://" + n.HTTPAddr() + "/big"

	resp, body := getRange(t, url, "")
	if !bytes.Equal(body, want) {
		t.Fatalf("miss: %d bytes (want %d), not the origin's", len(body), len(want))
	}
	if cs := resp.Header.Get("Cache-Status"); !strings.Contains(cs, "stored") {
		t.Errorf("miss Cache-Status %q, want stored", cs)
	}
	n.settleDisk()
	if s := n.disk.d.Stats(); s.Objects != 1 {
		t.Fatalf("disk holds %d objects after the fill, want 1", s.Objects)
	}
	for _, rng := range []string{"", "bytes=5000000-5000099", "bytes=-10"} {
		resp, body := getRange(t, url, rng)
		exp, code := want, http.StatusOK
		switch rng {
		case "bytes=5000000-5000099":
			exp, code = want[5000000:5000100], http.StatusPartialContent
		case "bytes=-10":
			exp, code = want[len(want)-10:], http.StatusPartialContent
		}
		if resp.StatusCode != code || !bytes.Equal(body, exp) || !strings.Contains(resp.Header.Get("Cache-Status"), "/disk") {
			t.Errorf("Range %q: %d, %d bytes (want %d %d), Cache-Status %q", rng, resp.StatusCode, len(body), code, len(exp), resp.Header.Get("Cache-Status"))
		}
	}
	head, err := http.Head(url)
	if err != nil {
		t.Fatal(err)
	}
	head.Body.Close()
	if head.StatusCode != http.StatusOK || head.ContentLength != int64(len(want)) || !strings.Contains(head.Header.Get("Cache-Status"), "/disk") {
		t.Errorf("HEAD: %d, Content-Length %d, Cache-Status %q; want a disk hit of %d bytes", head.StatusCode, head.ContentLength, head.Header.Get("Cache-Status"), len(want))
	}
	if got := origin.requests.Load(); got != 1 {
		t.Errorf("%d origin requests, want 1", got)
	}

	if status, _ := postPurge(t, n.AdminAddr(), token, fmt.Sprintf(`{"url": "http://%s/big"}`, n.HTTPAddr())); status != http.StatusOK {
		t.Fatalf("purge: %d", status)
	}
	resp, body = getRange(t, url, "")
	if !bytes.Equal(body, want) || strings.Contains(resp.Header.Get("Cache-Status"), "hit") {
		t.Errorf("after purge: %d bytes, Cache-Status %q, want a miss", len(body), resp.Header.Get("Cache-Status"))
	}
	if got := origin.requests.Load(); got != 2 {
		t.Errorf("%d origin requests after the purge, want 2", got)
	}
}

// A large fill the origin cuts short stores nothing on disk, and the next request goes to the
// origin again: a Content-Length promised and the connection closed halfway, and a chunked
// body (unknown length, spooled once it outgrows memory) whose connection closes before the
// last chunk. A whole chunked body past memory's limit is stored and served from disk.
func TestDiskTier_truncatedLargeFillStoresNothing(t *testing.T) {
	full := largeBody(12 << 20)
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=600")
		switch r.URL.Path {
		case "/chunked":
			w.Write(full[:3<<20]) // no Content-Length: chunked
			return
		case "/cut":
			w.Header().Set("Content-Length", fmt.Sprint(len(full)))
		}
		w.Write(full[:6<<20])
		w.(http.Flusher).Flush()
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close()
		}
	})
	n, _ := largeDiskNode(t, origin.URL, "")
	for _, path := range []string{"/cut", "/chunked-cut"} {
		for i := range 2 {
			resp, err := http.Get("http://" + n.HTTPAddr() + path)
			if err == nil {
				got, rerr := io.ReadAll(resp.Body)
				resp.Body.Close()
				if rerr == nil {
					t.Fatalf("%s request %d: a cut body of %d bytes arrived as complete", path, i, len(got))
				}
			}
			n.settleDisk()
			if s := n.disk.d.Stats(); s.Objects != 0 {
				t.Fatalf("%s request %d: disk holds %d objects after a cut fill, want 0", path, i, s.Objects)
			}
		}
	}
	if got := origin.requests.Load(); got != 4 {
		t.Errorf("%d origin requests, want 4 (nothing stored)", got)
	}
	url := "http://" + n.HTTPAddr() + "/chunked"
	for i := range 2 {
		resp, body := getRange(t, url, "")
		n.settleDisk()
		if !bytes.Equal(body, full[:3<<20]) || n.disk.d.Stats().Objects != 1 {
			t.Errorf("chunked 3 MiB request %d: %d bytes, %d disk objects; want the body, on disk", i, len(body), n.disk.d.Stats().Objects)
		}
		if i == 1 && !strings.Contains(resp.Header.Get("Cache-Status"), "/disk") {
			t.Errorf("chunked 3 MiB again: Cache-Status %q, want a disk hit", resp.Header.Get("Cache-Status"))
		}
	}
	if got := origin.requests.Load(); got != 5 {
		t.Errorf("%d origin requests, want 5", got)
	}
}

// Followers that join a large fill before it outgrows memory's limit get the same bytes
// from the one origin fetch, and the object still reaches disk once.
func TestDiskTier_coalescedFollowersOfALargeFill(t *testing.T) {
	want := largeBody(12 << 20)
	release := make(chan struct{})
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=600")
		w.Header().Set("Content-Length", fmt.Sprint(len(want)))
		w.Write(want[:256<<10])
		w.(http.Flusher).Flush()
		<-release
		w.Write(want[256<<10:])
	})
	n, _ := largeDiskNode(t, origin.URL, "")
	url := "http://" + n.HTTPAddr() + "/shared"
	const clients = 4
	bodies := make([][]byte, clients)
	var wg sync.WaitGroup
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Get(url)
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			bodies[i], _ = io.ReadAll(resp.Body)
		}()
	}
	deadline := time.Now().Add(10 * time.Second)
	for n.fills.Joined(cacheKey("http", n.HTTPAddr(), "/shared", "")) < clients && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	close(release)
	wg.Wait()
	for i, b := range bodies {
		if !bytes.Equal(b, want) {
			t.Errorf("client %d: %d bytes, not the origin's %d", i, len(b), len(want))
		}
	}
	if got := origin.requests.Load(); got != 1 {
		t.Errorf("%d origin requests, want 1", got)
	}
	n.settleDisk()
	if s := n.disk.d.Stats(); s.Objects != 1 {
		t.Errorf("disk holds %d objects, want 1", s.Objects)
	}
}

// cache.disk.ram_cache_cutoff: an object above it but within cache.max_object_size goes to
// disk only, and its disk hits are not copied back into memory.
func TestDiskTier_ramCacheCutoffSendsObjectsToDiskOnly(t *testing.T) {
	want := largeBody(100 << 10)
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=600")
		w.Header().Set("Content-Length", fmt.Sprint(len(want))) // the cutoff is decided from it
		w.Write(want)
	})
	n, _ := largeDiskNode(t, origin.URL, ", ram_cache_cutoff: 64KiB")
	url := "http://" + n.HTTPAddr() + "/mid"
	getRange(t, url, "")
	// A finished fill stays joinable for its linger (coalesce.Group.Linger) and answers a
	// request that joins it as a hit from the fill itself, not from disk: on a loaded machine
	// the next request can come within it. Wait for the first disk hit, then require that
	// every later request is one.
	pollUntil(t, 10*time.Second, "a disk hit", func() bool {
		n.settleDisk()
		resp, body := getRange(t, url, "")
		return bytes.Equal(body, want) && strings.Contains(resp.Header.Get("Cache-Status"), "/disk")
	})
	for i := range 2 {
		resp, body := getRange(t, url, "")
		if !bytes.Equal(body, want) || !strings.Contains(resp.Header.Get("Cache-Status"), "/disk") {
			t.Errorf("request %d: %d bytes, Cache-Status %q, want a disk hit", i, len(body), resp.Header.Get("Cache-Status"))
		}
	}
	if _, ok := n.store.Get("http://" + n.HTTPAddr() + "/mid"); ok {
		t.Error("memory holds an object above ram_cache_cutoff")
	}
	if got := origin.requests.Load(); got != 1 {
		t.Errorf("%d origin requests, want 1", got)
	}
}
