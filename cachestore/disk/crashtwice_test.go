package disk

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// copyDir copies the regular files of src into a new directory: what a crash of the
// process leaves (the page cache survives it), taken while the process still runs.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	ents, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if !e.Type().IsRegular() || e.Name() == "lock" {
			continue
		}
		in, err := os.Open(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out, err := os.Create(filepath.Join(dst, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(out, in); err != nil {
			t.Fatal(err)
		}
		in.Close()
		out.Close()
	}
	return dst
}

// Two crashes in a row: the first leaves a torn record at the end of the newest segment;
// the next run takes Puts while its loader has not reached that segment yet, which opens a
// newer one, and crashes too. The third run must still verify the torn segment whole and
// cut it (it is no longer the newest), not index the torn record as if it were sealed.
func TestDisk_secondCrashStillVerifiesTheFirstCrashsSegment(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{Path: dir, Size: 16 << 20, SegmentSize: 1 << 20}
	d, _ := open(t, cfg)
	for _, k := range []string{"a", "b", "c", "d"} {
		d.Put(rec(k, 400<<10)) // two per segment
	}
	d.Wait()
	d.mu.RLock()
	e := d.index.get("d")
	path, bodyAt := e.seg.path, e.off+e.headOff+e.headLen
	d.mu.RUnlock()
	d.Close()
	os.Remove(filepath.Join(dir, cleanName)) // the first crash: no marker
	f, _ := os.OpenFile(path, os.O_WRONLY, 0)
	f.WriteAt([]byte("torn"), bodyAt+1000)
	f.Close()

	// The second run: its loader is held before it reads anything; a Put opens a segment
	// newer than the torn one. Then it "crashes": its files are copied as they are.
	fs := &faultFS{gate: make(chan struct{})}
	cfg2 := cfg
	cfg2.Logger, cfg2.fs = quietLogger(), fs
	d2, err := Open(cfg2, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !d2.Put(rec("e", 1000)) {
		t.Fatal("Put while loading dropped")
	}
	d2.Wait()
	crashed := copyDir(t, dir)
	close(fs.gate)
	d2.Close()

	cfg.Path = crashed
	d, _ = open(t, cfg)
	defer d.Close()
	mustGet(t, d, "a", 400<<10)
	mustGet(t, d, "c", 400<<10)
	mustGet(t, d, "e", 1000)
	if h, err := d.Get("d"); !errors.Is(err, ErrNotFound) {
		if err == nil {
			h.Close()
		}
		t.Errorf("Get(d) = %v, want ErrNotFound: the torn record was indexed, the segment not cut at load", err)
	}
	if s := d.Stats(); s.CutBytes == 0 || s.Objects != 4 {
		t.Errorf("cut %d bytes, %d objects; want a cut and 4 objects", s.CutBytes, s.Objects)
	}
	// Verified and synced: the list is gone, and a clean restart keeps everything.
	if _, err := os.Stat(filepath.Join(crashed, verifyName)); err == nil {
		t.Error("the verify list outlived a complete load")
	}
	d.Close()
	d, _ = open(t, cfg)
	mustGet(t, d, "c", 400<<10)
	mustGet(t, d, "e", 1000)
}
