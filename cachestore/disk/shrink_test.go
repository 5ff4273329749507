package disk

import "testing"

// A restart with a smaller cache.disk.size loaded every segment and kept them all until the
// next write made room: on a node serving hits only, the directory stayed above the size the
// operator had just lowered it to (10 MB on a 4 MiB tier, seen with a real process). The
// loader now has the writer reclaim down to the size.
func TestDisk_restartWithSmallerSizeShrinks(t *testing.T) {
	dir := t.TempDir()
	d, _ := open(t, Config{Path: dir, Size: 16 << 20, SegmentSize: 1 << 20})
	for i := range 48 {
		d.Put(rec(keyN(i), 200<<10))
		d.Wait()
	}
	if used := d.Stats().Bytes; used < 8<<20 {
		t.Fatalf("%d bytes written, want above 8 MiB", used)
	}
	d.Close()

	d, _ = open(t, Config{Path: dir, Size: 4 << 20, SegmentSize: 1 << 20})
	defer d.Close()
	d.Wait() // the writer has taken what the loader asked of it
	if s := d.Stats(); s.Bytes > 4<<20 {
		t.Errorf("after a restart with size 4 MiB the tier holds %d bytes in %d segments", s.Bytes, s.Segments)
	}
	mustGet(t, d, keyN(47), 200<<10) // the newest stay
}
