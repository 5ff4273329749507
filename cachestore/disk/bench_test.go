package disk

import (
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

var benchSizes = []int{256 << 10, 1 << 20}

// benchDir is where benchmarks put their segments: SHOAL_DISK_BENCH_DIR (e.g. /dev/shm for
// tmpfs) or the test's temporary directory (the real disk).
func benchDir(b *testing.B) string {
	root := os.Getenv("SHOAL_DISK_BENCH_DIR")
	if root == "" {
		return b.TempDir()
	}
	dir, err := os.MkdirTemp(root, "shoal-disk-bench-")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// benchTier holds 64 objects of n bytes, written and then read once (verified), so Gets
// measure the steady state: page cache, no checksum.
func benchTier(b *testing.B, n int) (*Disk, []string) {
	d, _ := open(b, Config{Path: benchDir(b), Size: 1 << 30})
	b.Cleanup(func() { d.Close() })
	keys := make([]string, 64)
	for i := range keys {
		keys[i] = keyN(i)
		d.Put(rec(keys[i], n))
		d.Wait()
	}
	return d, keys
}

// BenchmarkDisk_Get reads whole bodies through ReadAt (the HTTP/2 path: a copy from the page
// cache).
func BenchmarkDisk_Get(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("%dKiB", n>>10), func(b *testing.B) {
			d, keys := benchTier(b, n)
			buf := make([]byte, n)
			b.SetBytes(int64(n))
			b.ResetTimer()
			for i := range b.N {
				h, err := d.Get(keys[i%len(keys)])
				if err != nil {
					b.Fatal(err)
				}
				if _, err := h.ReadAt(buf, 0); err != nil && err != io.EOF {
					b.Fatal(err)
				}
				h.Close()
			}
		})
	}
}

// BenchmarkDisk_GetSendfile sends bodies with sendfile(2) from Handle.File to a loopback TCP
// connection drained by another goroutine (the HTTP/1.1 path: no copy through user space).
func BenchmarkDisk_GetSendfile(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("%dKiB", n>>10), func(b *testing.B) {
			d, keys := benchTier(b, n)
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			defer ln.Close()
			go func() {
				c, err := ln.Accept()
				if err == nil {
					io.Copy(io.Discard, c)
					c.Close()
				}
			}()
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			raw, _ := c.(*net.TCPConn).SyscallConn()
			b.SetBytes(int64(n))
			b.ResetTimer()
			for i := range b.N {
				h, err := d.Get(keys[i%len(keys)])
				if err != nil {
					b.Fatal(err)
				}
				fd := int(h.File().Fd())
				off, left := h.BodyOffset(), int(h.BodyLength())
				var serr error
				raw.Write(func(s uintptr) bool {
					for left > 0 {
						m, err := unix.Sendfile(int(s), fd, &off, left)
						if err == unix.EAGAIN {
							return false
						}
						if err != nil {
							serr = err
							return true
						}
						left -= m
					}
					return true
				})
				if serr != nil {
					b.Fatal(serr)
				}
				h.Close()
			}
		})
	}
}

// BenchmarkDisk_Put measures write throughput: encode, checksum, append, index; the tier is
// large enough that nothing is reclaimed.
func BenchmarkDisk_Put(b *testing.B) {
	for _, n := range []int{16 << 10, 256 << 10, 1 << 20} {
		b.Run(fmt.Sprintf("%dKiB", n>>10), func(b *testing.B) {
			d, _ := open(b, Config{Path: benchDir(b), Size: 8 << 30, QueueBytes: 256 << 20})
			defer d.Close()
			r := rec("k", n)
			b.SetBytes(int64(n))
			b.ResetTimer()
			for i := range b.N {
				r.Key = keyN(i)
				for !d.Put(r) { // the queue is full: let the writer catch up
					d.Wait()
				}
			}
			d.Wait()
		})
	}
}

// BenchmarkDisk_GetHandle is the tier's own cost per hit: index lookup, segment reference,
// head pread, latency histogram; the body is not touched.
func BenchmarkDisk_GetHandle(b *testing.B) {
	d, keys := benchTier(b, 256<<10)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		h, err := d.Get(keys[i%len(keys)])
		if err != nil {
			b.Fatal(err)
		}
		h.Close()
	}
}

// BenchmarkDisk_Load is restart-to-warm for the index: Open until Loaded over 20,000 records
// of 4 KiB (80 MiB, 16 segments; page cache warm), reported per record.
func BenchmarkDisk_Load(b *testing.B) {
	const n = 20000
	cfg := Config{Path: benchDir(b), Size: 1 << 30, SegmentSize: 5 << 20, Logger: quietLogger()}
	d, _ := open(b, cfg)
	for i := range n {
		for !d.Put(rec(keyN(i), 4<<10)) {
			d.Wait()
		}
	}
	d.Close()
	b.ResetTimer()
	for range b.N {
		d, err := Open(cfg, nil)
		if err != nil {
			b.Fatal(err)
		}
		<-d.Loaded()
		if got := d.Stats().Objects; got != n {
			b.Fatalf("loaded %d objects, want %d", got, n)
		}
		d.Close()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/record")
}

// BenchmarkDisk_HeapPerObject reports the index's heap per object (entry, map slot, key and
// URL strings) over 100,000 loaded records with keys and URLs of edge shape.
func BenchmarkDisk_HeapPerObject(b *testing.B) {
	const n = 100000
	cfg := Config{Path: benchDir(b), Size: 1 << 30, SegmentSize: 8 << 20, Logger: quietLogger()}
	d, _ := open(b, cfg)
	for i := range n {
		url := fmt.Sprintf("https://www.example.com/wp-content/uploads/2026/11/image-%07d.jpg", i)
		for !d.Put(Record{Key: url + "\x00accept-encoding=gzip", URL: url, Head: head("k"), Body: make([]byte, 100)}) {
			d.Wait()
		}
	}
	d.Close()
	b.ResetTimer()
	for range b.N {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		d, err := Open(cfg, nil)
		if err != nil {
			b.Fatal(err)
		}
		<-d.Loaded()
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "B/object")
		d.Close()
	}
}

// BenchmarkDisk_AddBan is the cost of a purge by tag and by URL over 100,000 objects, each
// matching one object (the ban log's fsync included): the index finds matches without a scan.
func BenchmarkDisk_AddBan(b *testing.B) {
	const n = 100000
	d, _ := open(b, Config{Path: benchDir(b), Size: 1 << 30, SegmentSize: 8 << 20})
	defer d.Close()
	for i := range n {
		for !d.Put(Record{Key: keyN(i), Tags: []string{"t" + keyN(i)}, Body: make([]byte, 100)}) {
			d.Wait()
		}
	}
	d.Wait()
	b.ResetTimer()
	for i := range b.N {
		if i%2 == 0 {
			d.AddBan(Ban{Kind: BanTag, Value: "t" + keyN(i%n)})
		} else {
			d.AddBan(Ban{Kind: BanURL, Value: keyN(i % n)})
		}
	}
}
