package disk

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// A Close that stops the loader before it reached the newest segment must not leave the
// clean-stop marker: that segment, written by a run that crashed, was never verified, and
// the marker would have the next load trust it (no cut at a torn tail). A restart loop that
// sends SIGTERM during the load after a crash is the case.
func TestDisk_closeDuringLoadDoesNotVouchForTheUnverifiedNewestSegment(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{Path: dir, Size: 16 << 20, SegmentSize: 1 << 20}
	d, _ := open(t, cfg)
	// Two records per segment, and more segments than the loader has workers: a worker
	// finishes the segment it has begun even after Close (newest first), so only a segment
	// no worker has begun is sure to be left unread when Close stops the load. With fewer
	// segments every one may be begun before Close and the load then completes, which is
	// allowed to leave the marker.
	var keys []string
	for i := range 2 * (loadWorkers + 2) {
		keys = append(keys, fmt.Sprintf("k%02d", i))
	}
	for _, k := range keys {
		d.Put(rec(k, 400<<10))
	}
	d.Wait()
	torn, newest := keys[len(keys)-2], keys[len(keys)-1]
	d.mu.RLock()
	first, last := d.index.get(keys[0]).seg, d.index.get(torn).seg
	e := d.index.get(torn)
	bodyAt := e.off + e.headOff + e.headLen
	sameSeg := d.index.get(newest).seg == last
	d.mu.RUnlock()
	if first == last || !sameSeg {
		t.Fatal("setup: the last two records are not alone in the newest segment")
	}
	path := last.path
	d.Close()
	os.Remove(filepath.Join(dir, cleanName)) // the run crashed: no marker
	f, _ := os.OpenFile(path, os.O_WRONLY, 0)
	f.WriteAt([]byte("damage"), bodyAt+1000) // a tail the crash left torn
	f.Close()

	// The next run is stopped while its loader still reads the first segment.
	fs := &faultFS{gate: make(chan struct{})}
	cfg.Logger, cfg.fs = quietLogger(), fs
	d, err := Open(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	closed := make(chan error)
	go func() { closed <- d.Close() }()
	select {
	case <-d.stop:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not stop the loader")
	}
	close(fs.gate)
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, cleanName)); err == nil {
		t.Error("a Close during the load left a clean-stop marker for a segment it never verified")
	}

	cfg.fs = nil
	d, _ = open(t, cfg)
	defer d.Close()
	mustGet(t, d, keys[0], 400<<10)
	if h, err := d.Get(newest); !errors.Is(err, ErrNotFound) {
		if err == nil {
			h.Close()
		}
		t.Errorf("the newest segment was not cut at the torn record: Get(%s) = %v, want ErrNotFound", newest, err)
	}
}
