//go:build linux

package disk

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// A directory missing at Open (a disk not mounted yet) left the tier off until the process
// restarted, while one that failed later came back by itself. It comes on once the
// directory exists, counted and logged as a later failure's recovery, with the bans made
// meanwhile applied.
func TestDisk_missingDirectoryAtOpenComesOnWhenCreated(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cache")
	d, reg, probes := openRetrying(t, Config{Path: dir, Size: 16 << 20, SegmentSize: 1 << 20})
	if !d.Disabled() {
		t.Fatal("a tier on a missing directory is on")
	}
	d.AddBan(Ban{Kind: BanKey, Value: "x"})
	banGen := d.Begin()
	probeFails(t, d, probes)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	comesBack(t, d, probes)
	select {
	case <-d.Opened():
	default:
		t.Fatal("Opened not closed once the tier came on")
	}
	if got := gauge(t, reg, "shoal_cachestore_disk_enabled_total"); got != 1 {
		t.Fatalf("enabled_total %v, want 1", got)
	}
	if !d.Put(rec("a", 1000)) {
		t.Fatal("Put dropped once the tier came on")
	}
	d.Wait()
	mustGet(t, d, "a", 1000)
	if g := d.Begin(); g < banGen {
		t.Fatalf("generation %d, below the %d of a ban made while the directory was missing", g, banGen)
	}
}

// A directory another process holds at Open is left alone (nothing written in it, its
// modification time kept: the other process's restart reads it as its last activity), and
// taken once that process lets go: its objects are served, but not one a ban made meanwhile
// matches.
func TestDisk_lockedDirectoryAtOpenComesOnWhenReleased(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{Path: dir, Size: 16 << 20, SegmentSize: 1 << 20}
	owner, _ := open(t, cfg)
	owner.Put(rec("a", 1000))
	owner.Put(rec("b", 1000))
	owner.Wait()
	past := time.Now().Add(-time.Hour).Truncate(time.Second)
	if err := os.Chtimes(dir, past, past); err != nil {
		t.Fatal(err)
	}
	d, _, probes := openRetrying(t, cfg)
	if !d.Disabled() {
		t.Fatal("a tier opened a directory another holds")
	}
	d.AddBan(Ban{Kind: BanKey, Value: "a"})
	probeFails(t, d, probes)
	probeFails(t, d, probes)
	if fi, err := os.Stat(dir); err != nil || !fi.ModTime().Equal(past) {
		t.Fatalf("the held directory was written: %v, %v", fi.ModTime(), err)
	}
	if _, err := os.Stat(filepath.Join(dir, ".probe")); !os.IsNotExist(err) {
		t.Fatalf("a probe file in the held directory: %v", err)
	}
	owner.Close()
	comesBack(t, d, probes)
	if s := d.Since(); s.IsZero() || s.Before(past) {
		t.Fatalf("Since %v: not the directory's last activity", s)
	}
	if _, err := d.Get("a"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get(a), banned while the tier was off: %v", err)
	}
	mustGet(t, d, "b", 1000)
	d.Close()
	d2, _ := open(t, cfg)
	defer d2.Close()
	if _, err := d2.Get("a"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get(a) after a restart: %v", err)
	}
}

// A ban made while the tier is off removed every segment ("a tier that cannot keep its bans
// cannot keep its objects"): one purge while a disk was full dropped the whole cache. The ban
// is kept in memory and applied when the tier comes back; only what it matches goes. Until
// then the segments are set aside, so a stop meanwhile still cannot serve what it purged.
func TestDisk_banWhileOffCostsOnlyWhatItMatches(t *testing.T) {
	fs := &faultFS{}
	dir := t.TempDir()
	cfg := Config{Path: dir, Size: 16 << 20, SegmentSize: 1 << 20, fs: fs}
	d, _, probes := openRetrying(t, cfg)
	for i := range 20 {
		d.Put(rec(keyN(i), 100<<10))
	}
	d.Wait()
	fs.failWrites.Store(true)
	d.Put(rec("c", 1000))
	d.Wait()
	if !d.Disabled() {
		t.Fatal("a failed write did not disable the tier")
	}
	d.AddBan(Ban{Kind: BanKey, Value: keyN(3)})
	if ids, _ := listSegments(dir); len(ids) != 0 {
		t.Fatalf("%d segments a restart would load while a ban is in memory only", len(ids))
	}
	probeFails(t, d, probes)
	fs.failWrites.Store(false)
	comesBack(t, d, probes)
	check := func(d *Disk) {
		t.Helper()
		if _, err := d.Get(keyN(3)); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Get of the banned key: %v", err)
		}
		for i := range 20 {
			if i != 3 {
				mustGet(t, d, keyN(i), 100<<10)
			}
		}
	}
	check(d)
	d.Close()
	d2, _ := open(t, Config{Path: dir, Size: 16 << 20, SegmentSize: 1 << 20})
	defer d2.Close()
	check(d2)
}

// More bans missed than the tier keeps in memory: it cannot know what they purged, so
// nothing it held comes back.
func TestDisk_tooManyBansWhileOffDropEverything(t *testing.T) {
	fs := &faultFS{}
	d, _, probes := openRetrying(t, Config{Path: t.TempDir(), Size: 16 << 20, SegmentSize: 1 << 20, fs: fs})
	d.maxMissed = 3
	for i := range 4 {
		d.Put(rec(keyN(i), 1000))
	}
	d.Wait()
	fs.failWrites.Store(true)
	d.Put(rec("c", 1000))
	d.Wait()
	for i := range 4 {
		d.AddBan(Ban{Kind: BanKey, Value: "other" + keyN(i)})
	}
	probeFails(t, d, probes)
	fs.failWrites.Store(false)
	comesBack(t, d, probes)
	for i := range 4 {
		if _, err := d.Get(keyN(i)); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Get(%q) after more missed bans than kept: %v", keyN(i), err)
		}
	}
}

// A probe of the directory while the tier is off changed its modification time (a file
// created and removed): a crash then made a restart think the tier was active until
// moments ago, and ask its peers for too few of the purges it missed.
func TestDisk_probeKeepsTheDirectorysModificationTime(t *testing.T) {
	fs := &faultFS{}
	dir := t.TempDir()
	d, _, probes := openRetrying(t, Config{Path: dir, Size: 16 << 20, SegmentSize: 1 << 20, fs: fs})
	d.Put(rec("a", 1000))
	d.Wait()
	fs.failWrites.Store(true)
	d.Put(rec("b", 1000))
	d.Wait()
	if !d.Disabled() {
		t.Fatal("a failed write did not disable the tier")
	}
	past := time.Now().Add(-time.Hour).Truncate(time.Second)
	if err := os.Chtimes(dir, past, past); err != nil {
		t.Fatal(err)
	}
	probeFails(t, d, probes)
	probeFails(t, d, probes)
	if fi, err := os.Stat(dir); err != nil || !fi.ModTime().Equal(past) {
		t.Fatalf("a probe moved the directory's modification time to %v (%v)", fi.ModTime(), err)
	}
}

// A segment reclaim took out just as a missed ban set the files aside must not come back
// with the others: reclaim may have punched holes in it.
func TestDisk_unholdRenamesBackOnlyLiveSegments(t *testing.T) {
	dir := t.TempDir()
	for _, id := range []uint64{1, 2} {
		if err := os.WriteFile(segmentPath(dir, id)+heldExt, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := unholdSegments(dir, map[uint64]*segment{1: {id: 1}}); err != nil {
		t.Fatal(err)
	}
	ids, _ := listSegments(dir)
	if len(ids) != 1 || ids[0] != 1 {
		t.Fatalf("segments after unhold %v, want [1]", ids)
	}
	if n, _ := removeSegments(dir, false); n != 0 {
		t.Fatalf("%d files still set aside", n)
	}
}
