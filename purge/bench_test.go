package purge

import (
	"context"
	"strconv"
	"testing"

	"github.com/shoal-cdn/shoal/cachestore"
	"github.com/shoal-cdn/shoal/conf"
)

// BenchmarkPurgeTag_1M purges one surrogate key (1,000 objects) from a real store holding a
// million small objects. Purges go to the store's tag index, so the cost follows the objects
// matched, not the objects stored; there is no ban list tested on every lookup. Setup takes
// seconds and about 1 GB: run it with -benchtime=1x.
func BenchmarkPurgeTag_1M(b *testing.B) {
	const objects, tags = 1_000_000, 1_000
	store, err := cachestore.NewMemory(cachestore.Config{MaxBytes: 2 << 30}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	body := []byte("0123456789abcdef")
	for i := range objects {
		url := "http://bench.example.com/o/" + strconv.Itoa(i)
		store.Set(&cachestore.Object{Key: url, URL: url, Status: 200, Body: body, Tags: cachestore.NewTags("t" + strconv.Itoa(i%tags))})
	}
	if held := store.Stats().Objects; held < objects*99/100 {
		b.Fatalf("store holds %d objects, want about %d", held, objects)
	}
	svc, err := New(conf.Purge{}, store, StaticCluster{Name: "bench"}, Options{})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	purged, i := 0, 0
	for b.Loop() {
		resp, err := svc.Purge(ctx, Request{Kind: KindKey, Value: "t" + strconv.Itoa(i%tags)})
		if err != nil {
			b.Fatal(err)
		}
		purged += resp.Purged
		i++
	}
	b.ReportMetric(float64(purged)/float64(i), "objects/op")
}
