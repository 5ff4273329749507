package edge

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/cachestore"
	"github.com/shoal-cdn/shoal/cachestore/disk"
	"github.com/shoal-cdn/shoal/httpcache"
)

// TestDiskTier_fillEndingInsideAPurgeNeverReachesDisk pins the interleaving the stateful
// test found: a purge bans on disk first, then purges memory; a fill that started before the
// purge and stores between those two steps was taken by memory (its purge had not come yet)
// and by disk (whose generation was read at store time, after the ban), so once the memory
// purge removed it, the disk served the purged response. Both tiers' generations are now
// read when the fill starts.
func TestDiskTier_fillEndingInsideAPurgeNeverReachesDisk(t *testing.T) {
	yaml := strings.Replace(oneRoute(true, "http://127.0.0.1:1"), "fill_timeout: 5s}",
		fmt.Sprintf("fill_timeout: 5s, disk: {path: %q, size: 16MiB}}", t.TempDir()), 1)
	n := startNode(t, yaml, Options{})
	waitDiskReady(t, n)

	const url = "http://www.test/b/5"
	gen := n.begin() // the fill starts
	// The purge's first step: the disk ban. Its memory purge has not happened yet.
	n.diskBan(disk.BanURL, url, false)
	// The fill ends now and stores its object.
	header := httpcache.Header{{Name: "Cache-Control", Value: "max-age=600"}}
	now := time.Now()
	obj := &cachestore.Object{Key: url, URL: url, Status: 200, Header: httpcache.Pack(header), Body: []byte("v1"),
		RequestTime: cachestore.StampOf(now), ResponseTime: cachestore.StampOf(now), Generation: gen.memory,
		Meta: cachestore.NewMeta(httpcache.StoreDecision{Store: true, Lifetime: 600 * time.Second}, header)}
	n.setObject(obj, gen.disk)
	n.disk.d.Wait()
	// The purge's second step.
	n.store.PurgeURL(url, false)

	if h, err := n.disk.d.Get(url); err == nil {
		h.Close()
		t.Fatal("the disk holds a response whose fill started before an acknowledged purge")
	}
}
