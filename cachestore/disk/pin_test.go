package disk

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/shoal-cdn/shoal/internal/testenv"
)

// allocated is what the file system holds for f: its blocks, not its length.
func allocated(t *testing.T, f *os.File) int64 {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
		t.Fatal(err)
	}
	return st.Blocks * 512
}

// deletedSegments counts this process's descriptors on unlinked segment files of dir.
func deletedSegments(dir string) int {
	n := 0
	fds, _ := os.ReadDir("/proc/self/fd")
	for _, fd := range fds {
		target, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name()))
		if err == nil && strings.HasPrefix(target, dir) && strings.HasSuffix(target, segmentExt+" (deleted)") {
			n++
		}
	}
	return n
}

// A Handle open on a record whose segment is reclaimed keeps that record's blocks, not the
// segment's: the rest leaves the disk at reclaim, the record when the last Handle on it
// closes. What stays is counted in Stats().Pinned (and so against Size), exactly once, and
// is zero once the Handles are closed.
func TestHandle_reclaimedSegmentPinsOnlyWhatIsRead(t *testing.T) {
	testenv.OnEachFileSystem(t, func(t *testing.T, dir string, _ bool) {
		const size, seg, obj = 8 << 20, 1 << 20, 60 << 10
		d, reg := open(t, Config{Path: dir, Size: size, SegmentSize: seg, AdmitFrequency: -1})
		defer d.Close()
		// Segment 0 holds about 16 records; keys 3 and 4 are neighbours, two Handles on 3.
		for i := range 16 {
			d.Put(rec(keyN(i), obj))
		}
		d.Wait()
		var hs []*Handle
		for _, k := range []int{3, 3, 4} {
			h, err := d.Get(keyN(k))
			if err != nil {
				t.Fatal(err)
			}
			hs = append(hs, h)
		}
		f := hs[0].File()
		whole := allocated(t, f)
		if whole < seg/2 {
			t.Fatalf("segment 0 has %d bytes allocated before reclaim", whole)
		}
		// Write until segment 0 is reclaimed (its hit records are copied forward once).
		for i := 16; d.Stats().Evictions == 0 || deletedSegments(dir) == 0; i++ {
			if i > 1000 {
				t.Fatal("segment 0 never reclaimed")
			}
			d.Put(rec(keyN(i), obj))
			d.Wait()
		}
		d.Wait()
		for i, h := range hs {
			checkHandle(t, h, keyN([]int{3, 3, 4}[i]), obj)
		}
		held := allocated(t, f)
		pinned := d.Stats().Pinned
		t.Logf("segment 0: %d bytes allocated before reclaim, %d after with 2 records read; pinned %d", whole, held, pinned)
		if held > 2*(obj+300)+2*pinBlock {
			t.Errorf("the reclaimed segment keeps %d bytes allocated for two records of %d", held, obj)
		}
		if pinned < held || pinned > 2*(obj+300)+2*pinBlock {
			t.Errorf("pinned %d, allocated %d", pinned, held)
		}
		if got := gauge(t, reg, "shoal_cachestore_disk_pinned_bytes"); got != float64(pinned) {
			t.Errorf("pinned_bytes %v, Stats %d", got, pinned)
		}
		if tot := dirBytes(dir) + held; tot > size {
			t.Errorf("segments and pinned files take %d bytes, size %d", tot, size)
		}

		// Closing key 4's Handle frees its record; one of two on key 3 frees nothing.
		hs[2].Close()
		if a := allocated(t, f); a > obj+300+2*pinBlock {
			t.Errorf("after closing key 4: %d bytes allocated", a)
		}
		p1 := d.Stats().Pinned
		hs[0].Close()
		if p := d.Stats().Pinned; p != p1 {
			t.Errorf("closing one of two Handles on a record changed pinned %d -> %d", p1, p)
		}
		checkHandle(t, hs[1], keyN(3), obj)
		if hs[0].Close() == nil {
			t.Error("second Close succeeded")
		}
		hs[1].Close()
		if p := d.Stats().Pinned; p != 0 {
			t.Errorf("pinned %d with every Handle closed", p)
		}
		if n := deletedSegments(dir); n != 0 {
			t.Errorf("%d unlinked segment files still open", n)
		}
		// The room is whole again: nothing counted twice, nothing lost.
		d.Wait()
		st := d.Stats()
		if st.Bytes != dirBytes(dir) || d.reserved.Load() != 0 {
			t.Errorf("Bytes %d, segment files %d, reserved %d", st.Bytes, dirBytes(dir), d.reserved.Load())
		}
	})
}

// A tier whose room is held only by Handles on reclaimed segments refuses a record instead
// of turning itself off, and takes it once they close.
func TestDisk_roomHeldByHandlesRefusesWithoutDisabling(t *testing.T) {
	const obj, big = 250 << 10, 1400 << 10
	d, _ := open(t, Config{Path: t.TempDir(), Size: 3 << 20, SegmentSize: 1 << 20, MaxObjectSize: 3 << 19, AdmitFrequency: -1})
	defer d.Close()
	var hs []*Handle
	for i := range 8 {
		d.Put(rec(keyN(i), obj))
		d.Wait()
		h, err := d.Get(keyN(i))
		if err != nil {
			t.Fatal(err)
		}
		hs = append(hs, h)
	}
	d.Put(rec("big", big))
	d.Wait()
	if d.Disabled() {
		t.Fatal("the tier turned itself off while Handles held its room")
	}
	st := d.Stats()
	if st.Pinned < 8*obj || st.Bytes+st.Pinned > st.Size {
		t.Errorf("bytes %d + pinned %d, size %d", st.Bytes, st.Pinned, st.Size)
	}
	if h, err := d.Get("big"); err == nil {
		h.Close()
		t.Error("a record that did not fit beside the pinned bytes was stored")
	}
	for i, h := range hs {
		checkHandle(t, h, keyN(i), obj)
		h.Close()
	}
	if p := d.Stats().Pinned; p != 0 {
		t.Errorf("pinned %d", p)
	}
	d.Put(rec("big", big))
	d.Wait()
	mustGet(t, d, "big", big)
}

// Readers that hold Handles across reclaims while a writer keeps reclaiming: every body
// read is byte-exact, pinned never goes negative, and once every Handle is closed nothing is
// pinned and the accounted bytes are the segment files'.
func TestHandle_pinsUnderConcurrentReclaim(t *testing.T) {
	dir := t.TempDir()
	const obj = 20 << 10
	d, _ := open(t, Config{Path: dir, Size: 2 << 20, SegmentSize: 256 << 10, AdmitFrequency: -1})
	defer d.Close()
	for i := range 40 {
		d.Put(rec(keyN(i), obj))
	}
	d.Wait()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var negative atomic.Bool
	for r := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var held []*Handle
			defer func() {
				for _, h := range held {
					h.Close()
				}
			}()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				k := keyN((i*7 + r*13) % 200)
				if h, err := d.Get(k); err == nil {
					// Not checkHandle: its Fatalf is for the test's goroutine only.
					if got, err := io.ReadAll(h.Body()); err != nil || !bytes.Equal(got, body(k, obj)) {
						t.Errorf("%s: body differs (err %v)", k, err)
					}
					held = append(held, h)
				}
				if len(held) > 0 && i%16 == 0 { // a Handle read again after reclaims
					h := held[0]
					if got, err := io.ReadAll(h.Body()); err != nil || !bytes.Equal(got, body(h.Key, obj)) {
						t.Errorf("%s: body of a held Handle differs (err %v)", h.Key, err)
					}
				}
				if len(held) > 3 { // hold a few across reclaims, close the oldest
					held[0].Close()
					held = held[1:]
				}
				if d.pinned.Load() < 0 {
					negative.Store(true)
				}
			}
		}()
	}
	for i := 40; i < 400; i++ {
		d.Put(rec(keyN(i%200), obj))
		if i%20 == 0 {
			d.Wait()
		}
	}
	d.Wait()
	close(stop)
	wg.Wait()
	if negative.Load() {
		t.Error("pinned went negative")
	}
	st := d.Stats()
	if st.Evictions == 0 {
		t.Fatal("nothing was reclaimed")
	}
	if st.Pinned != 0 || deletedSegments(dir) != 0 {
		t.Errorf("pinned %d, %d unlinked segments open, with every Handle closed", st.Pinned, deletedSegments(dir))
	}
	if st.Bytes != dirBytes(dir) || d.reserved.Load() != 0 {
		t.Errorf("Bytes %d, segment files %d, reserved %d", st.Bytes, dirBytes(dir), d.reserved.Load())
	}
}
