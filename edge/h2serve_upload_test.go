package edge

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// uploadOrigin answers a POST with the length it read; started is closed once the first byte
// of the content reached it.
func uploadOrigin(t *testing.T) (*countingOrigin, chan struct{}, *uploadReads) {
	started := make(chan struct{})
	var once atomic.Bool
	got := &uploadReads{byPath: map[string]int64{}}
	o := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		var one [1]byte
		k, _ := io.ReadFull(r.Body, one[:])
		if k == 1 && once.CompareAndSwap(false, true) {
			close(started)
		}
		rest, err := io.ReadAll(r.Body)
		got.store(r.URL.Path, int64(k+len(rest)))
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		fmt.Fprintf(w, "%d", k+len(rest))
	})
	return o, started, got
}

// uploadReads is how much content uploadOrigin read: last, and per path. Per path because
// a cut upload's handler may finish after its client got its answer and the next upload
// began.
type uploadReads struct {
	mu     sync.Mutex
	last   int64
	byPath map[string]int64
}

func (u *uploadReads) store(path string, n int64) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.last, u.byPath[path] = n, n
}

// Load is what the last request to end read.
func (u *uploadReads) Load() int64 {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.last
}

func (u *uploadReads) path(p string) int64 {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.byPath[p]
}

// TestH2Serve_uploadStreamsToTheOrigin: HTTP/2 request content without a content-length
// reaches the origin while the client is still sending it (issue 14: request bodies stream),
// so an upload larger than what the node holds never waits for its end before the origin is
// asked. Failed before: the listener read the content whole first, so the origin was not
// asked until the client had sent everything.
func TestH2Serve_uploadStreamsToTheOrigin(t *testing.T) {
	o, started, got := uploadOrigin(t)
	n, pool := h2Node(t, "limits: {max_body_bytes: 4MiB}\n"+oneRoute(false, o.URL))
	c := h2Client(pool, n.HTTPSAddr())
	pr, pw := io.Pipe()
	req, _ := http.NewRequest("POST", "https://www.example.test/upload", pr)
	type answer struct {
		status int
		body   string
		err    error
	}
	done := make(chan answer, 1)
	go func() {
		resp, err := c.Do(req)
		if err != nil {
			done <- answer{err: err}
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		done <- answer{status: resp.StatusCode, body: string(b)}
	}()
	half := bytes.Repeat([]byte("u"), 200<<10) // past the listener's prefetch
	if _, err := pw.Write(half); err != nil {
		t.Fatal(err)
	}
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		pw.CloseWithError(io.ErrClosedPipe)
		t.Fatal("the origin was not asked while the client was still sending: the content was not streamed")
	}
	if _, err := pw.Write(half); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	a := <-done
	if a.err != nil || a.status != 200 || a.body != fmt.Sprint(2*len(half)) || got.Load() != int64(2*len(half)) {
		t.Fatalf("upload: %v, %d %q; the origin read %d bytes", a.err, a.status, a.body, got.Load())
	}
}

// TestH2Serve_streamedUploadOverTheLimit: content without a content-length that outgrows
// limits.max_body_bytes, or a route's max_body_bytes, while it streams to the origin is
// answered 413 (not the 502 of the origin's cut upload), and the origin never reads all of it.
func TestH2Serve_streamedUploadOverTheLimit(t *testing.T) {
	o, _, got := uploadOrigin(t)
	routes := strings.Replace(oneRoute(false, o.URL), "routes:\n", "routes:\n  - {match: {path_prefix: /small/}, origin: o, cache: false, max_body_bytes: 100KiB}\n", 1)
	n, pool := h2Node(t, "limits: {max_body_bytes: 1MiB}\n"+routes)
	c := h2Client(pool, n.HTTPSAddr())
	for _, tc := range []struct {
		path string
		size int
	}{
		{"/big", 3 << 20},
		{"/small/form", 300 << 10},
	} {
		pr, pw := io.Pipe()
		go func() {
			chunk := bytes.Repeat([]byte("x"), 32<<10)
			for sent := 0; sent < tc.size; sent += len(chunk) {
				if _, err := pw.Write(chunk); err != nil {
					return // the node answered and reset the stream
				}
			}
			pw.Close()
		}()
		req, _ := http.NewRequest("POST", "https://www.example.test"+tc.path, pr)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", tc.path, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		pr.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("%s: %d bytes streamed: status %d, want 413", tc.path, tc.size, resp.StatusCode)
		}
		if read := got.path(tc.path); read >= int64(tc.size) {
			t.Errorf("%s: the origin read all %d bytes", tc.path, read)
		}
	}
	// Within the bounds, the same shapes pass.
	resp, err := c.Post("https://www.example.test/small/ok", "application/octet-stream", io.MultiReader(strings.NewReader(strings.Repeat("y", 90<<10))))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != fmt.Sprint(90<<10) {
		t.Fatalf("90 KiB under the route's 100 KiB: %d %q", resp.StatusCode, b)
	}
}
