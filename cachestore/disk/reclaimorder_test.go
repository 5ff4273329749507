package disk

import (
	"os"
	"testing"
	"time"
)

// A reclaimed segment's file is gone before its room is given back: a Writer that claims the
// room at once must not put its spool beside a segment file still on disk (the directory
// held Size plus a segment in TestWriter_spoolsCountAgainstSize about once in 30 runs). The
// test holds roomMu, where reclaim releases the room, and waits for the file to go.
func TestDisk_reclaimRemovesTheSegmentBeforeReleasingItsRoom(t *testing.T) {
	d, _ := open(t, Config{Path: t.TempDir(), Size: 16 << 20, SegmentSize: 1 << 20, AdmitFrequency: -1})
	defer d.Close()
	for i := range 6 {
		d.Put(rec(keyN(i), 400<<10))
	}
	d.Wait()
	d.mu.Lock()
	if len(d.segs) < 2 {
		d.mu.Unlock()
		t.Fatalf("setup: %d segments", len(d.segs))
	}
	s := d.segs[0]
	d.segs = d.segs[1:] // as reclaimUntil does; the writer is idle after Wait
	d.mu.Unlock()
	used := d.used.Load()

	d.roomMu.Lock()
	done := make(chan error, 1)
	go func() { done <- d.reclaim(s) }()
	gone := false
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if _, err := os.Stat(s.path); os.IsNotExist(err) {
			gone = true
			break
		}
	}
	stillCounted := d.used.Load() == used
	d.roomMu.Unlock()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !gone {
		t.Fatal("the reclaimed segment's file was still there while its room could not have been released")
	}
	if !stillCounted {
		t.Error("the room was released before roomMu was free")
	}
	if d.used.Load() != used-s.size {
		t.Errorf("used = %d after the reclaim, want %d", d.used.Load(), used-s.size)
	}
}
