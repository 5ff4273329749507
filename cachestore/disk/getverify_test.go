package disk

import (
	"errors"
	"os"
	"runtime"
	"testing"
)

// The first Get after a load checksums the whole record: for a record larger than keepMax
// through a pooled buffer (the first Get of an 8 MiB object allocated 8 MiB before), for a
// small one in a buffer its Handle then serves the body from. A flipped byte anywhere in the
// body, at either size and in the first or a later chunk, is found and the object dropped.
func TestDisk_firstGetVerifiesInBoundedMemory(t *testing.T) {
	sizes := map[string]int{"small": 100 << 10, "large": 8 << 20}
	for _, tc := range []struct {
		name string
		size string
		flip int64 // body offset of the flipped byte; -1 none
	}{
		{"small intact", "small", -1},
		{"large intact", "large", -1},
		{"small flipped", "small", 12345},
		{"large flipped in the first chunk", "large", 100},
		{"large flipped in a later chunk", "large", 5<<20 + 7},
		{"large flipped in the last byte", "large", 8<<20 - 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := sizes[tc.size]
			dir := t.TempDir()
			cfg := Config{Path: dir, Size: 64 << 20, SegmentSize: 16 << 20}
			d, _ := open(t, cfg)
			d.Put(rec("k", n))
			d.Put(rec("other", 1000))
			d.Wait()
			h, _ := d.Get("k")
			off, path := h.BodyOffset()+max(tc.flip, 0), h.seg.path
			h.Close()
			d.Close()
			if tc.flip >= 0 {
				f, _ := os.OpenFile(path, os.O_RDWR, 0)
				b := make([]byte, 1)
				f.ReadAt(b, off)
				b[0] ^= 1
				f.WriteAt(b, off)
				f.Close()
			}
			// Closed cleanly: the segment is trusted at load, checked on first Get.
			d, _ = open(t, cfg)
			defer d.Close()
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			h, err := d.Get("k")
			runtime.ReadMemStats(&after)
			if tc.flip >= 0 {
				if !errors.Is(err, ErrCorrupt) {
					t.Fatalf("first Get of a flipped body: %v, want ErrCorrupt", err)
				}
				mustGet(t, d, "other", 1000)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			alloc := after.TotalAlloc - before.TotalAlloc
			t.Logf("first Get of %d bytes allocated %d bytes", n, alloc)
			if n > keepMax && alloc > 2*verifyChunk {
				t.Errorf("first Get of a %d-byte object allocated %d bytes", n, alloc)
			}
			if n <= keepMax && h.mem == nil {
				t.Error("the verified small body is read from the file again")
			}
			checkHandle(t, h, "k", n)
			h.Close()
			mustGet(t, d, "k", n) // verified now: from the file
		})
	}
}
