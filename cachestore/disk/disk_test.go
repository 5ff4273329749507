package disk

import (
	"errors"
	"io"
	"math/rand/v2"
	"testing"
)

func TestDisk_putGetByteExact(t *testing.T) {
	d, _ := open(t, Config{Path: t.TempDir(), Size: 256 << 20, SegmentSize: 8 << 20})
	defer d.Close()
	// Edges of the record layout and of the 4 KiB page, then many sizes at random.
	sizes := []int{0, 1, 7, 8, 79, 80, 4095, 4096, 4097, 65535, 65536, 256 << 10, 1 << 20, 4<<20 - 1, 4 << 20}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		sizes = append(sizes, rng.IntN(64<<10))
	}
	for i, n := range sizes {
		if !d.Put(rec(keyN(i), n)) {
			t.Fatalf("Put %d (%d B) dropped", i, n)
		}
		if i%16 == 0 {
			d.Wait() // keep the queue under QueueBytes
		}
	}
	d.Wait()
	for i, n := range sizes {
		mustGet(t, d, keyN(i), n)
	}
	if _, err := d.Get("absent"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get(absent) = %v, want ErrNotFound", err)
	}
	if s := d.Stats(); s.Objects != int64(len(sizes)) || s.Hits != int64(len(sizes)) {
		t.Fatalf("stats %+v", s)
	}
}

func TestDisk_putReplacesKey(t *testing.T) {
	d, _ := open(t, Config{Path: t.TempDir(), Size: 16 << 20})
	defer d.Close()
	d.Put(rec("a", 100))
	d.Put(rec("a", 200))
	d.Wait()
	mustGet(t, d, "a", 200)
	if s := d.Stats(); s.Objects != 1 {
		t.Fatalf("objects %d, want 1", s.Objects)
	}
}

func TestDisk_evictionKeepsBytesUnderSize(t *testing.T) {
	const size = 8 << 20
	d, _ := open(t, Config{Path: t.TempDir(), Size: size, SegmentSize: 1 << 20, AdmitFrequency: -1})
	defer d.Close()
	const n, objSize = 300, 100 << 10
	for i := range n {
		if !d.Put(rec(keyN(i), objSize)) {
			t.Fatalf("Put %d dropped", i)
		}
		d.Wait()
		if u := d.Stats().Bytes; u > size {
			t.Fatalf("after %d Puts the segments hold %d bytes, more than size %d", i+1, u, size)
		}
	}
	s := d.Stats()
	if s.Evictions == 0 || s.Objects >= n {
		t.Fatalf("no eviction: %+v", s)
	}
	mustGet(t, d, keyN(n-1), objSize) // the newest survives
	if _, err := d.Get(keyN(0)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("oldest: %v, want evicted", err)
	}
	// What the tier says it holds is what is on disk and readable.
	served := 0
	for i := range n {
		if h, err := d.Get(keyN(i)); err == nil {
			checkHandle(t, h, keyN(i), objSize)
			h.Close()
			served++
		}
	}
	if int64(served) != s.Objects {
		t.Fatalf("served %d, Stats.Objects %d", served, s.Objects)
	}
}

func TestDisk_reclaimReinsertsHitObjects(t *testing.T) {
	d, _ := open(t, Config{Path: t.TempDir(), Size: 4 << 20, SegmentSize: 512 << 10, AdmitFrequency: -1})
	defer d.Close()
	const objSize = 32 << 10
	d.Put(rec("hot", objSize))
	d.Wait()
	for i := range 400 { // 12.5 MiB through a 4 MiB tier: every segment is reclaimed several times
		d.Put(rec(keyN(i), objSize))
		d.Wait()
		if i%20 == 0 {
			mustGet(t, d, "hot", objSize) // a hit marks it for re-insertion
		}
	}
	mustGet(t, d, "hot", objSize)
	if s := d.Stats(); s.Reinserted == 0 {
		t.Fatalf("nothing re-inserted: %+v", s)
	}
}

func TestHandle_readableAfterEviction(t *testing.T) {
	d, _ := open(t, Config{Path: t.TempDir(), Size: 2 << 20, SegmentSize: 256 << 10, AdmitFrequency: -1})
	defer d.Close()
	d.Put(rec("first", 100<<10))
	d.Wait()
	h, err := d.Get("first")
	if err != nil {
		t.Fatal(err)
	}
	d.mu.RLock()
	d.index.get("first").hit.Store(false) // so the reclaim evicts it rather than re-inserting it
	d.mu.RUnlock()
	for i := range 60 {
		d.Put(rec(keyN(i), 100<<10))
		d.Wait()
	}
	if _, err := d.Get("first"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("first not evicted: %v", err)
	}
	checkHandle(t, h, "first", 100<<10) // its segment is unlinked but still open
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if err := h.Close(); err == nil {
		t.Fatal("second Close must fail")
	}
}

func TestDisk_putBoundsAndQueue(t *testing.T) {
	d, _ := open(t, Config{Path: t.TempDir(), Size: 64 << 20, MaxObjectSize: 1 << 20, QueueBytes: 2 << 20})
	defer d.Close()
	if d.Put(rec("big", 1<<20)) {
		t.Fatal("a record over MaxObjectSize was queued")
	}
	// The queue holds 2 MiB: a burst of 1 MiB Puts faster than the writer drops some, never blocks.
	dropped := 0
	for i := range 64 {
		if !d.Put(rec(keyN(i), 900<<10)) {
			dropped++
		}
	}
	d.Wait()
	s := d.Stats()
	if s.Rejected["size"] != 1 || int64(dropped) != s.Rejected["queue"] {
		t.Fatalf("rejected %v, dropped %d", s.Rejected, dropped)
	}
}

func TestDisk_readAtEOF(t *testing.T) {
	d, _ := open(t, Config{Path: t.TempDir(), Size: 16 << 20})
	defer d.Close()
	d.Put(rec("a", 10))
	d.Wait()
	h, err := d.Get("a")
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	p := make([]byte, 20)
	if n, err := h.ReadAt(p, 5); n != 5 || err != io.EOF {
		t.Fatalf("ReadAt past the end: %d, %v", n, err)
	}
	if n, err := h.ReadAt(p, 10); n != 0 || err != io.EOF {
		t.Fatalf("ReadAt at the end: %d, %v", n, err)
	}
}
