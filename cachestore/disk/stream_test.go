package disk

import (
	"errors"
	"os"
	"testing"
)

// stream writes rec(key, n)'s body through a Writer in chunks of 100,000 bytes (not a
// divisor of the copy buffer), announcing length, and commits unless cut is true, in which
// case only half the body is written before Commit.
func stream(t *testing.T, d *Disk, key string, n int, length int64, cut bool) bool {
	t.Helper()
	r := rec(key, n)
	w, ok := d.NewWriter(r, length)
	if !ok {
		t.Fatalf("NewWriter(%s) refused", key)
	}
	defer w.Abort()
	b := r.Body
	if cut {
		b = b[:n/2]
	}
	for len(b) > 0 {
		k := min(len(b), 100000)
		if _, err := w.Write(b[:k]); err != nil {
			return false
		}
		b = b[k:]
	}
	return w.Commit()
}

func TestWriter_streamedRecordsAreByteExactBeforeAndAfterRestart(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{Path: dir, Size: 64 << 20, SegmentSize: 16 << 20, MaxObjectSize: 16 << 20}
	d, _ := open(t, cfg)
	sizes := map[string]int{"known": 12<<20 + 3, "unknown": 5 << 20, "empty": 0, "tiny": 1}
	for k, n := range sizes {
		length := int64(n)
		if k == "unknown" {
			length = -1
		}
		if !stream(t, d, k, n, length, false) {
			t.Fatalf("%s: not committed", k)
		}
	}
	d.Put(rec("after", 1000)) // a buffered Put still lands after the streamed ones
	d.Wait()
	for k, n := range sizes {
		mustGet(t, d, k, n)
	}
	mustGet(t, d, "after", 1000)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d, _ = open(t, cfg) // loaded records are checksummed on first read
	defer d.Close()
	for k, n := range sizes {
		mustGet(t, d, k, n)
	}
	mustGet(t, d, "after", 1000)
}

// A body that ends short, outgrows its announced length or MaxObjectSize, or is aborted is
// never visible, and leaves no spool file behind.
func TestWriter_incompleteBodiesAreNeverStored(t *testing.T) {
	dir := t.TempDir()
	d, _ := open(t, Config{Path: dir, Size: 64 << 20, MaxObjectSize: 4 << 20})
	defer d.Close()
	if stream(t, d, "short", 1<<20, 1<<20, true) {
		t.Error("short body committed")
	}
	if stream(t, d, "longer-than-announced", 1<<20, 1<<19, false) {
		t.Error("body longer than its Content-Length committed")
	}
	if stream(t, d, "over-max", 5<<20, -1, false) {
		t.Error("body over max_object_size committed")
	}
	if _, ok := d.NewWriter(rec("announced-over-max", 0), 5<<20); ok {
		t.Error("announced length over max_object_size accepted")
	}
	w, _ := d.NewWriter(rec("aborted", 0), -1)
	w.Write(body("aborted", 1000))
	w.Abort()
	if w.Commit() {
		t.Error("Commit after Abort queued the record")
	}
	d.Wait()
	for _, k := range []string{"short", "longer-than-announced", "over-max", "announced-over-max", "aborted"} {
		if _, err := d.Get(k); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get(%s) = %v, want ErrNotFound", k, err)
		}
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if e.Name() != "lock" && e.Name() != "bans.log" && e.Name()[len(e.Name())-4:] != ".seg" {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}

// A ban made while the body streams refuses the record, as for a buffered Put.
func TestWriter_banDuringTheStreamRefusesTheRecord(t *testing.T) {
	d, _ := open(t, Config{Path: t.TempDir(), Size: 64 << 20})
	defer d.Close()
	r := rec("k", 100)
	r.Generation = d.Begin()
	w, _ := d.NewWriter(r, 100)
	w.Write(r.Body[:50])
	d.AddBan(Ban{Kind: BanURL, Value: r.URL})
	w.Write(r.Body[50:])
	w.Commit()
	d.Wait()
	if _, err := d.Get("k"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get = %v, want ErrNotFound", err)
	}
}

// A streamed record cut anywhere by a crash (its header is written last, after the body) is
// never served after a restart; the records before it are.
func TestWriter_tornStreamedRecordNeverServed(t *testing.T) {
	for _, cut := range []int64{1, 1000, 3 << 20} {
		dir := t.TempDir()
		cfg := Config{Path: dir, Size: 64 << 20, SegmentSize: 32 << 20, MaxObjectSize: 16 << 20}
		d, _ := open(t, cfg)
		d.Put(rec("before", 5000))
		d.Wait()
		stream(t, d, "streamed", 4<<20, 4<<20, false)
		d.Wait()
		d.Close()
		ids, err := listSegments(dir)
		if err != nil || len(ids) != 1 {
			t.Fatalf("segments %v, %v", ids, err)
		}
		path := segmentPath(dir, ids[0])
		fi, _ := os.Stat(path)
		os.Truncate(path, fi.Size()-cut)
		d, _ = open(t, cfg)
		if _, err := d.Get("streamed"); err == nil {
			t.Errorf("cut %d: a torn streamed record was served", cut)
		}
		mustGet(t, d, "before", 5000)
		d.Close()
	}
}

// A crash after the body reached the segment but before its header did leaves zeros where
// the header goes: the loader cuts there and the streamed record is not served.
func TestWriter_streamedRecordWithoutItsHeaderNeverServed(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{Path: dir, Size: 64 << 20, SegmentSize: 32 << 20, MaxObjectSize: 16 << 20}
	d, _ := open(t, cfg)
	d.Put(rec("before", 5000))
	stream(t, d, "streamed", 4<<20, 4<<20, false)
	d.Wait()
	d.mu.RLock()
	e := d.index.get("streamed")
	path, off := e.seg.path, e.off
	d.mu.RUnlock()
	d.Close()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt(make([]byte, headerSize), off)
	f.Close()
	d, _ = open(t, cfg)
	defer d.Close()
	if _, err := d.Get("streamed"); err == nil {
		t.Error("a streamed record without its header was served")
	}
	mustGet(t, d, "before", 5000)
}
