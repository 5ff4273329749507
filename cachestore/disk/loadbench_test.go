package disk

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkDisk_LoadMany is the index load alone (Open until Loaded, page cache warm) over
// working sets of the shapes a node restarts with: many small records, and the 64 KiB
// objects of make bench-disk-warm. Reported per record and per whole load. Each iteration
// is a whole load (10-90 ms), so a fixed count above 500 (make bench-micro's 2000x) skips
// it; scripts/bench-disk.sh runs it with -benchtime 10x.
func BenchmarkDisk_LoadMany(b *testing.B) {
	for _, tc := range []struct {
		n, size int
		seg     int64
		crash   bool // no clean-stop marker: the newest segment is verified past its last sync
	}{
		{100000, 1 << 10, 16 << 20, false},
		{4000, 64 << 10, 64 << 20, false},
		{2000, 256 << 10, 64 << 20, false},
		{4000, 64 << 10, 256 << 20, true}, // bench-disk-warm's shape: one 256 MiB segment
	} {
		name := fmt.Sprintf("%dx%dKiB", tc.n, tc.size>>10)
		if tc.crash {
			name += "-crash"
		}
		b.Run(name, func(b *testing.B) {
			if b.N > 500 {
				b.Skipf("%d loads would take minutes: run with -benchtime 10x", b.N)
			}
			cfg := Config{Path: benchDir(b), Size: 4 << 30, SegmentSize: tc.seg, Logger: quietLogger()}
			d, _ := open(b, cfg)
			for i := range tc.n {
				url := fmt.Sprintf("http://127.0.0.1:18412/obj/%d", i)
				r := Record{Key: url, URL: url, Head: head(url), Body: body(url, tc.size)}
				for !d.Put(r) {
					d.Wait()
				}
			}
			d.Close()
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if tc.crash {
					os.Remove(filepath.Join(cfg.Path, cleanName))
				}
				d, err := Open(cfg, nil)
				if err != nil {
					b.Fatal(err)
				}
				<-d.Loaded()
				if got := d.Stats().Objects; got != int64(tc.n) {
					b.Fatalf("loaded %d objects, want %d", got, tc.n)
				}
				d.Close()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*tc.n), "ns/record")
		})
	}
}

// BenchmarkDisk_FirstGet is the first Get of 64 KiB objects after a load (the whole record
// read and checksummed) and the body read the edge then makes, against a later Get of the
// same objects: what restart-to-warm pays per object on top of a warm hit.
func BenchmarkDisk_FirstGet(b *testing.B) {
	const n, size = 4000, 64 << 10
	cfg := Config{Path: benchDir(b), Size: 1 << 30, SegmentSize: 64 << 20, Logger: quietLogger()}
	d, _ := open(b, cfg)
	for i := range n {
		for !d.Put(rec(keyN(i), size)) {
			d.Wait()
		}
	}
	d.Close()
	buf := make([]byte, size)
	for _, first := range []bool{true, false} {
		name := "first"
		if !first {
			name = "verified"
		}
		b.Run(name, func(b *testing.B) {
			d, _ := open(b, cfg)
			defer func() { d.Close() }() // the d of the last load
			if !first {
				for i := range n {
					h, _ := d.Get(keyN(i))
					h.Close()
				}
			}
			b.SetBytes(size)
			b.ResetTimer()
			for i := range b.N {
				if i > 0 && i%n == 0 && first { // every object read once: load again
					b.StopTimer()
					d.Close()
					d, _ = open(b, cfg)
					b.StartTimer()
				}
				h, err := d.Get(keyN(i % n))
				if err != nil {
					b.Fatal(err)
				}
				h.ReadAt(buf, 0)
				h.Close()
			}
		})
	}
}
