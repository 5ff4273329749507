package edge

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// A soft purge of an object on disk only (too large for memory) marks it stale, as in
// memory: the next request is served the disk copy at once and revalidates it in the
// background with its validator; the origin's 304 refreshes the record on disk, whose body
// is served from then on without another fetch.
func TestDiskTier_softPurgedDiskCopyIsRevalidated(t *testing.T) {
	want := largeBody(3 << 20)
	var full, notModified atomic.Int64
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=600")
		w.Header().Set("ETag", `"v1"`)
		if r.Header.Get("If-None-Match") == `"v1"` {
			notModified.Add(1)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		full.Add(1)
		w.Header().Set("Content-Length", fmt.Sprint(len(want)))
		w.Write(want)
	})
	n, token := largeDiskNode(t, origin.URL, "")
	url := "http://" + n.HTTPAddr() + "/big"
	if _, body := getRange(t, url, ""); !bytes.Equal(body, want) {
		t.Fatalf("fill: %d bytes", len(body))
	}
	n.settleDisk()
	if status, _ := postPurge(t, n.AdminAddr(), token, fmt.Sprintf(`{"url": "http://%s/big", "soft": true}`, n.HTTPAddr())); status != http.StatusOK {
		t.Fatalf("soft purge: %d", status)
	}
	resp, body := getRange(t, url, "")
	if !bytes.Equal(body, want) || !strings.Contains(resp.Header.Get("Cache-Status"), "hit") {
		t.Errorf("after the soft purge: %d bytes, Cache-Status %q; want the disk copy served stale", len(body), resp.Header.Get("Cache-Status"))
	}
	for deadline := time.Now().Add(3 * time.Second); notModified.Load() == 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	n.settleDisk()
	resp, body = getRange(t, url, "")
	if !bytes.Equal(body, want) || !strings.Contains(resp.Header.Get("Cache-Status"), "hit; ttl=") || !strings.Contains(resp.Header.Get("Cache-Status"), "/disk") {
		t.Errorf("after the revalidation: %d bytes, Cache-Status %q; want a fresh disk hit", len(body), resp.Header.Get("Cache-Status"))
	}
	if full.Load() != 1 || notModified.Load() != 1 {
		t.Errorf("origin sent %d full responses and %d 304s; want the fill and one 304", full.Load(), notModified.Load())
	}
}
