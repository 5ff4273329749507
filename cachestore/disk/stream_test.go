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
