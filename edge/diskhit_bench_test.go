package edge

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
)

// diskHitNode is a node whose memory keeps nothing above 64 KiB (ram_cache_cutoff), so a
// body of size bytes is stored on disk only and every hit after the fill is a disk hit
// served from its segment file, as in make bench-disk-peers. The disk is dir.
func diskHitNode(b testing.TB, size int, dir string) (*Node, *countingOrigin) {
	body := largeBody(size)
	o := startOrigin(b, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=3600")
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("ETag", `"v1"`)
		w.Header().Set("Last-Modified", "Sat, 21 Nov 2026 10:00:00 GMT")
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		w.Write(body)
	})
	yaml := strings.Replace(oneRoute(true, o.URL), "fill_timeout: 5s}",
		fmt.Sprintf("fill_timeout: 5s, disk: {path: %q, size: 256MiB, admit_frequency: -1, ram_cache_cutoff: 64KiB}}", dir), 1)
	n := startNode(b, yaml, Options{})
	waitDiskReady(b, n)
	return n, o
}

// BenchmarkNode_diskHit is the per-request cost of a disk hit in the node (lookup, the
// record's head, the response head, the body stream set up), without a socket and without
// sending the body, which the kernel's sendfile does on the listener
// (BenchmarkNode_diskHitSocket). Run: go test -run '^$' -bench 'Node_diskHit' -benchmem ./edge/
// (SHOAL_DISK_BENCH_DIR=/dev/shm for tmpfs).
func BenchmarkNode_diskHit(b *testing.B) {
	for _, size := range []int{256 << 10, 1 << 20} {
		b.Run(fmt.Sprintf("%dKiB", size>>10), func(b *testing.B) {
			n, o := diskHitNode(b, size, benchDiskDir(b))
			path := "/obj.bin"
			ctx := benchCtx(path)
			n.handleHTTP1(ctx) // the fill, streamed to disk
			drainBody(ctx)
			resetResponse(ctx)
			n.settleDisk()
			ctx = benchCtx(path)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				n.handleHTTP1(ctx)
				if !bytes.HasSuffix(ctx.Response.Header.Peek("Cache-Status"), []byte("/disk")) {
					b.Fatalf("Cache-Status %q, want a disk hit", ctx.Response.Header.Peek("Cache-Status"))
				}
				resetResponse(ctx) // closes the body stream unread
			}
			b.StopTimer()
			if o.requests.Load() != 1 {
				b.Fatalf("origin saw %d requests, want 1", o.requests.Load())
			}
		})
	}
}

// BenchmarkNode_diskHitUnkept is BenchmarkNode_diskHit when the record's decoded head is not
// in the kept table (diskmeta.go: a record's first hit, one whose slot another record took,
// a head over diskMetaMaxHead): the head is read and decoded on every hit.
// Run: go test -run '^$' -bench 'Node_diskHitUnkept' -benchmem ./edge/
func BenchmarkNode_diskHitUnkept(b *testing.B) {
	n, o := diskHitNode(b, 256<<10, benchDiskDir(b))
	ctx := benchCtx("/obj.bin")
	n.handleHTTP1(ctx)
	drainBody(ctx)
	resetResponse(ctx)
	n.settleDisk()
	keys := n.disk.d.KeysWithPrefix("", 1)
	if len(keys) != 1 {
		b.Fatalf("disk keys %q", keys)
	}
	h, err := n.disk.d.GetNoHead(keys[0])
	if err != nil {
		b.Fatal(err)
	}
	slot := n.disk.metas.slot(h.Record())
	h.Close()
	ctx = benchCtx("/obj.bin")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		slot.Store(nil)
		n.handleHTTP1(ctx)
		if !bytes.HasSuffix(ctx.Response.Header.Peek("Cache-Status"), []byte("/disk")) {
			b.Fatalf("Cache-Status %q, want a disk hit", ctx.Response.Header.Peek("Cache-Status"))
		}
		resetResponse(ctx)
	}
	b.StopTimer()
	if o.requests.Load() != 1 {
		b.Fatalf("origin saw %d requests, want 1", o.requests.Load())
	}
}

// BenchmarkNode_diskHitSocket serves disk hits through the node's listener to keep-alive
// clients on loopback: head, then the body with sendfile(2). Client and server share the
// machine's cores; compare runs, not absolutes.
// Run: go test -run '^$' -bench 'Node_diskHitSocket' -benchmem ./edge/
func BenchmarkNode_diskHitSocket(b *testing.B) {
	for _, size := range []int{256 << 10, 1 << 20} {
		b.Run(fmt.Sprintf("%dKiB", size>>10), func(b *testing.B) {
			n, o := diskHitNode(b, size, benchDiskDir(b))
			benchSocketHits(b, n, "/obj.bin", size, n.disk.d.Wait, o.requests.Load)
		})
	}
}

// benchDiskDir is the disk tier's directory: SHOAL_DISK_BENCH_DIR (e.g. /dev/shm for tmpfs)
// or a temporary directory on the real disk.
func benchDiskDir(b *testing.B) string {
	if base := os.Getenv("SHOAL_DISK_BENCH_DIR"); base != "" {
		dir, err := os.MkdirTemp(base, "shoal-bench-")
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { os.RemoveAll(dir) })
		return dir
	}
	return b.TempDir()
}
