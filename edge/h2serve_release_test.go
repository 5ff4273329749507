package edge

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// TestH2Serve_contentOverTheBoundReleasesItsExchangeOnce: content the listener finds over
// limits.max_body_bytes before the origin is asked is answered 413, and its exchange goes
// back to the pool once. Concurrent streams of one connection then each get their own
// answer. Failed before: h2Respond released the exchange and the caller of h2Body released
// it again, so it sat in the pool twice and two streams could be handed the same one: here
// streams were reset (INTERNAL_ERROR) or answered for another, and under -race a stream's
// reset of the exchange overlapped another's use of it.
func TestH2Serve_contentOverTheBoundReleasesItsExchangeOnce(t *testing.T) {
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Cache-Control", "no-store")
		io.WriteString(w, r.URL.Path)
	})
	n, pool := h2Node(t, "limits: {max_body_bytes: 100}\n"+oneRoute(false, origin.URL))
	c := h2Client(pool, n.HTTPSAddr())
	for i := range 4 {
		// No content-length: the listener learns the size from the prefetch.
		resp, err := c.Post("https://www.example.test/big", "text/plain", io.MultiReader(strings.NewReader(strings.Repeat("b", 101+i))))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Fatalf("%d bytes over a bound of 100: status %d, want 413", 101+i, resp.StatusCode)
		}
	}
	// Concurrent streams of the connection then get their own answers.
	var wg sync.WaitGroup
	for i := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			path := fmt.Sprintf("/own-%d", i)
			resp, err := c.Post("https://www.example.test"+path, "text/plain", io.MultiReader(strings.NewReader(strings.Repeat("s", 1+i%3*40))))
			if err != nil {
				t.Error(err)
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || string(b) != path {
				t.Errorf("%s: %d %q", path, resp.StatusCode, b)
			}
		}()
	}
	wg.Wait()
}
