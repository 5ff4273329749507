package edge

import (
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/cachestore"
	"github.com/shoal-cdn/shoal/httpcache"
)

// A compressed copy that memory evicts is not written to disk, and does not keep its
// identity object (which shares its meta) from being written when memory evicts that.
func TestDiskTier_compressedCopyNeverEvictedToDisk(t *testing.T) {
	yaml := strings.Replace(oneRoute(true, "http://127.0.0.1:1"), "fill_timeout: 5s}",
		fmt.Sprintf("fill_timeout: 5s, disk: {path: %q, size: 16MiB}}", t.TempDir()), 1)
	n := startNode(t, yaml, Options{})
	waitDiskReady(t, n)
	now := time.Now()
	url := "http://www.example.test/app.js"
	header := httpcache.Header{{Name: "Cache-Control", Value: "max-age=600"}, {Name: "Content-Type", Value: "application/javascript"}}
	meta := cachestore.NewMeta(httpcache.StoreDecision{Store: true, Lifetime: 10 * time.Minute}, header)
	meta.DiskGen = n.disk.d.Begin()
	object := func(key, body string) *cachestore.Object {
		return &cachestore.Object{Key: key, URL: url, Status: 200, Header: httpcache.Pack(header), Body: []byte(body),
			RequestTime: cachestore.StampOf(now), ResponseTime: cachestore.StampOf(now), Meta: meta}
	}
	n.evictToDisk(object(url+"\x00enc:gzip", "gzipped bytes"))
	n.disk.d.Wait()
	if got := n.disk.d.Stats().Objects; got != 0 || meta.OnDisk.Load() {
		t.Fatalf("after evicting the compressed copy: %d objects on disk, onDisk %v; want none, false", got, meta.OnDisk.Load())
	}
	n.evictToDisk(object(url, "identity bytes"))
	n.disk.d.Wait()
	h, err := n.disk.d.Get(url)
	if err != nil {
		t.Fatalf("the identity object evicted after its compressed copy is not on disk: %v", err)
	}
	defer h.Close()
	if b, _ := io.ReadAll(h.Body()); string(b) != "identity bytes" {
		t.Errorf("disk holds %q, want the identity body", b)
	}
}
