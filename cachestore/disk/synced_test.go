package disk

import (
	"errors"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
)

// countFS counts the bytes read through ReadAt.
type countFS struct{ read atomic.Int64 }

func (fs *countFS) OpenFile(name string, flag int, perm os.FileMode) (file, error) {
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &countFile{File: f, fs: fs}, nil
}

type countFile struct {
	*os.File
	fs *countFS
}

func (f *countFile) ReadAt(p []byte, off int64) (int, error) {
	n, err := f.File.ReadAt(p, off)
	f.fs.read.Add(int64(n))
	return n, err
}

// After a crash the loader verifies the newest segment only past its last sync checkpoint:
// what the writer fsynced cannot be torn. Past it a torn record is still cut; before it,
// records are loaded like a sealed segment's (the load reads a fraction of the segment
// instead of all of it), so a damaged body there is refused on its first Get, and only that
// record is lost (reading the segment whole cut it there, and every record after it).
func TestDisk_crashLoadVerifiesOnlyPastTheLastSync(t *testing.T) {
	for _, rot := range []bool{false, true} {
		name := "torn tail"
		if rot {
			name = "torn tail and a damaged body before the checkpoint"
		}
		t.Run(name, func(t *testing.T) { crashLoadPastSync(t, rot) })
	}
}

func crashLoadPastSync(t *testing.T, rot bool) {
	dir := t.TempDir()
	const n, obj = 40, 100 << 10
	cfg := Config{Path: dir, Size: 64 << 20, SegmentSize: 32 << 20}
	d, _ := open(t, cfg)
	d.syncEvery = 1 << 20
	for i := range n {
		d.Put(rec(keyN(i), obj))
	}
	d.Wait()
	d.mu.RLock()
	last, early := d.index.get(keyN(n-1)), d.index.get(keyN(1))
	path, size := last.seg.path, last.seg.size
	tornAt := last.off + last.headOff + last.headLen + 1000
	earlyAt := early.off + early.headOff + early.headLen + 10
	d.mu.RUnlock()
	sm := readSynced(dir)
	if !sm.ok || sm.off < 3<<20 || sm.off > size {
		t.Fatalf("sync checkpoint %+v, segment of %d bytes", sm, size)
	}
	d.Close()
	os.Remove(filepath.Join(dir, cleanName)) // a crash: no marker
	f, _ := os.OpenFile(path, os.O_RDWR, 0)
	f.WriteAt([]byte("torn"), tornAt) // past the checkpoint: the crash's torn tail
	if rot {
		f.WriteAt([]byte("rot"), earlyAt) // before it: not a crash's doing
	}
	f.Close()

	fs := &countFS{}
	cfg.fs = fs
	d, reg := open(t, cfg)
	defer d.Close()
	read := fs.read.Load()
	t.Logf("segment of %d bytes, checkpoint at %d: the load read %d bytes", size, sm.off, read)
	if read > size-sm.off+int64(n)*loadPeek+loadChunk {
		t.Errorf("the load read %d bytes of a %d-byte segment synced up to %d", read, size, sm.off)
	}
	if h, err := d.Get(keyN(n - 1)); !errors.Is(err, ErrNotFound) {
		if err == nil {
			h.Close()
		}
		t.Errorf("torn record past the checkpoint: Get = %v, want ErrNotFound (cut at load)", err)
	}
	if d.Stats().CutBytes == 0 {
		t.Error("nothing cut")
	}
	if rot {
		if _, err := d.Get(keyN(1)); !errors.Is(err, ErrCorrupt) {
			t.Errorf("damaged record before the checkpoint: Get = %v, want ErrCorrupt", err)
		}
		if v := gauge(t, reg, "shoal_cachestore_disk_corrupt_total"); v != 1 {
			t.Errorf("corrupt_total %v", v)
		}
	}
	for i := range n - 1 {
		if i != 1 || !rot {
			mustGet(t, d, keyN(i), obj)
		}
	}
}
