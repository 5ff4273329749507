package disk

import (
	"testing"
)

// A ban made while the tier was disabled (ENOSPC or EIO on a write) reached no ban log, and
// the segments stayed: the next start, its file system healthy again, loaded them and served
// what the ban had removed (a lone node purged 20 URLs after its tmpfs filled, restarted,
// and served 15 of them from disk). A tier that owns its directory and cannot log a ban
// drops its segments; one that never got the directory's lock leaves them to their owner.
func TestDisk_banWhileDisabledSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	fs := &faultFS{}
	d, _ := open(t, Config{Path: dir, Size: 16 << 20, fs: fs})
	d.Put(rec("purged", 1000))
	d.Put(rec("kept", 1000))
	d.Wait()
	fs.failWrites.Store(true)
	d.Put(rec("c", 1000))
	d.Wait()
	if !d.Disabled() {
		t.Fatal("a failed write did not disable the tier")
	}
	other, _ := open(t, Config{Path: dir, Size: 16 << 20}) // no lock: disabled, not the owner
	other.AddBan(Ban{Kind: BanAll})
	other.Close()
	if ids, _ := listSegments(dir); len(ids) == 0 {
		t.Fatal("a tier without the directory's lock removed the owner's segments")
	}
	d.AddBan(Ban{Kind: BanKey, Value: "purged"})
	d.Close()

	d, _ = open(t, Config{Path: dir, Size: 16 << 20})
	defer d.Close()
	if h, err := d.Get("purged"); err == nil {
		h.Close()
		t.Fatal("an object banned while the tier was disabled was served after a restart")
	}
}
