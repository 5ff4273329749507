package disk

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// After a clean Close the newest segment is loaded like a sealed one: records are checked on
// first read, so a damaged body costs that record only (ErrCorrupt, never served) and the
// loader does not read the segment whole. Without the marker (a crash) the loader verifies
// the newest segment and cuts it at the damage, as a torn tail.
func TestDisk_cleanCloseLoadsTheNewestSegmentLazily(t *testing.T) {
	for _, crashed := range []bool{false, true} {
		dir := t.TempDir()
		cfg := Config{Path: dir, Size: 64 << 20, SegmentSize: 32 << 20}
		d, _ := open(t, cfg)
		for _, k := range []string{"a", "b", "c"} {
			d.Put(rec(k, 100<<10))
		}
		d.Wait()
		d.mu.RLock()
		e := d.index.get("b")
		path, bodyAt := e.seg.path, e.off+e.headOff+e.headLen
		d.mu.RUnlock()
		if err := d.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(dir, cleanName)); err != nil {
			t.Fatalf("no clean-stop marker after Close: %v", err)
		}
		if crashed {
			os.Remove(filepath.Join(dir, cleanName))
		}
		f, _ := os.OpenFile(path, os.O_WRONLY, 0)
		f.WriteAt([]byte("damage"), bodyAt+1000)
		f.Close()

		d, _ = open(t, cfg)
		if _, err := d.Get("b"); err == nil {
			t.Errorf("crashed=%v: a damaged record was served", crashed)
		}
		mustGet(t, d, "a", 100<<10)
		hc, errC := d.Get("c")
		if errC == nil {
			hc.Close()
		}
		switch {
		case !crashed && errC != nil:
			t.Errorf("after a clean stop the record after the damaged one is lost: %v", errC)
		case crashed && !errors.Is(errC, ErrNotFound):
			t.Errorf("after a crash the newest segment was not cut at the damage: Get(c) = %v", errC)
		}
		if !crashed {
			mustGet(t, d, "c", 100<<10)
		}
		d.Close()
	}
}
