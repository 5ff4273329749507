package edge

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/internal/testenv"
)

// TestDiskTier_staleCopyAboveMaxObjectSizeIsRevalidatedWithoutAStall: a stale disk copy
// larger than cache.max_object_size (so on disk only, its fill's buffer bounded below its
// size) that nginx answers 304 is served whole at once. Failed before: the leader, fetching
// on its own goroutine, copied the disk body into the fill's bounded buffer before it began
// to read it, so the copy waited on its own reader until fill_timeout (30 s here) ended it
// and the client got exactly max_object_size bytes: every request for the object, each
// time it went stale.
func TestDiskTier_staleCopyAboveMaxObjectSizeIsRevalidatedWithoutAStall(t *testing.T) {
	ng := testenv.StartNginx(t, testenv.NginxOptions{Extra: `location /big/ { add_header Cache-Control "max-age=5"; }`})
	want := string(largeBody(20 << 20)) // above oneRoute's max_object_size (8 MiB)
	ng.WriteFile("big/file.bin", want)
	yaml := strings.Replace(oneRoute(true, ng.URL), "fill_timeout: 5s}",
		fmt.Sprintf("fill_timeout: 30s, disk: {path: %q, size: 128MiB}}", t.TempDir()), 1)
	// The node's clock jumps 10 s ahead once the copy is on disk: it is then stale.
	var ahead atomic.Int64
	n := startNode(t, yaml, Options{Now: func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }})
	waitDiskReady(t, n)
	for i := range 2 { // a fill, then a disk hit
		if status, _, body := get(t, "http://"+n.HTTPAddr()+"/big/file.bin", "Host", "www.example.test"); status != 200 || body != want {
			t.Fatalf("fill %d: %d, %d bytes", i, status, len(body))
		}
		n.settleDisk()
	}
	ahead.Store(int64(10 * time.Second))
	// The fault stalled each request for all of fill_timeout (30 s) and cut the body at
	// max_object_size; half of fill_timeout tells it from a slow read of 20 MiB under -race
	// on a loaded machine (3.8 to 9 s seen against an earlier 3 s bound).
	const stall = 15 * time.Second
	for i := range 2 {
		start := time.Now()
		status, h, body := get(t, "http://"+n.HTTPAddr()+"/big/file.bin", "Host", "www.example.test")
		took := time.Since(start)
		if status != 200 || body != want || took > stall {
			t.Fatalf("request %d: %d, %d of %d bytes in %v (Cache-Status %q); want the whole copy within %v",
				i, status, len(body), len(want), took.Round(time.Millisecond), h.Get("Cache-Status"), stall)
		}
		if i == 0 && !strings.Contains(h.Get("Cache-Status"), "fwd=stale") {
			t.Errorf("first request: Cache-Status %q, want a revalidated stale copy", h.Get("Cache-Status"))
		}
	}
}
