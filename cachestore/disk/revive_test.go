//go:build linux

package disk

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/shoal-cdn/shoal/internal/testenv"
	"golang.org/x/sys/unix"
)

// openRetrying opens a tier that probes its directory every few milliseconds once a failure
// turned it off; each probe's outcome (nil: the tier came back) arrives on the channel.
func openRetrying(t *testing.T, cfg Config) (*Disk, *prometheus.Registry, chan error) {
	t.Helper()
	probes := make(chan error, 1024)
	cfg.RetryInterval, cfg.RetryMaxInterval = 5*time.Millisecond, 20*time.Millisecond
	cfg.probed = func(err error) {
		select {
		case probes <- err:
		default:
		}
	}
	d, reg := open(t, cfg)
	t.Cleanup(func() { d.Close() })
	return d, reg, probes
}

// probeFails waits for a probe and requires it to have failed: the tier stays off while its
// directory is unusable.
func probeFails(t *testing.T, d *Disk, probes chan error) {
	t.Helper()
	select {
	case err := <-probes:
		if err == nil {
			t.Fatal("the tier came back while its directory was still unusable")
		}
		if !d.Disabled() {
			t.Fatal("a failed probe left the tier on")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no probe in 10 s")
	}
}

// comesBack waits for a successful probe and the index load it starts.
func comesBack(t *testing.T, d *Disk, probes chan error) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case err := <-probes:
			if err != nil {
				continue // probes armed before the fix
			}
			select {
			case <-d.reloaded():
			case <-deadline:
				t.Fatal("the index did not load in 10 s")
			}
			if d.Disabled() {
				t.Fatal("disabled right after coming back")
			}
			return
		case <-deadline:
			t.Fatal("the tier did not come back in 10 s")
		}
	}
}

// checkConsistent requires every indexed key in keys to be served byte-exact (the first Get
// after the load checksums the record), the index to count no more, and the segment files
// to hold no byte the tier does not count (a torn tail left behind).
func checkConsistent(t *testing.T, d *Disk, sizes map[string]int) int {
	t.Helper()
	served := 0
	for k, n := range sizes {
		h, err := d.Get(k)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			t.Fatalf("Get(%q): %v", k, err)
		}
		checkHandle(t, h, k, n)
		h.Close()
		served++
	}
	s := d.Stats()
	if int64(served) != s.Objects {
		t.Fatalf("served %d, indexed %d", served, s.Objects)
	}
	var onDisk int64
	ids, _ := listSegments(d.cfg.Path)
	for _, id := range ids {
		fi, err := os.Stat(segmentPath(d.cfg.Path, id))
		if err != nil {
			t.Fatal(err)
		}
		onDisk += fi.Size()
	}
	if onDisk != s.Bytes {
		t.Fatalf("segment files hold %d bytes, the tier counts %d", onDisk, s.Bytes)
	}
	return served
}

func TestDisk_fullDiskComesBackWhenSpaceIsFreed(t *testing.T) {
	dir := mountTmpfs(t, "size=4m", 0)
	filler := filepath.Join(dir, "filler")
	if err := os.WriteFile(filler, make([]byte, 2<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := Config{Path: dir, Size: 64 << 20, SegmentSize: 1 << 20, AdmitFrequency: -1}
	d, reg, probes := openRetrying(t, cfg)
	sizes := map[string]int{"first": 1000}
	d.Put(rec("first", 1000))
	d.Wait()
	before, err := d.Get("first")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 40 && !d.Disabled(); i++ {
		sizes[keyN(i)] = 200 << 10
		d.Put(rec(keyN(i), 200<<10))
		d.Wait()
	}
	if !d.Disabled() {
		t.Fatal("the tier filled a 4 MiB file system without failing")
	}
	probeFails(t, d, probes) // still full: the probe finds no room for a segment
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	comesBack(t, d, probes)
	if g := gauge(t, reg, "shoal_cachestore_disk_disabled"); g != 0 {
		t.Fatalf("disabled gauge %v after coming back", g)
	}
	for name, want := range map[string]float64{"disabled_total": 1, "enabled_total": 1} {
		if got := gauge(t, reg, "shoal_cachestore_disk_"+name); got != want {
			t.Fatalf("%s = %v, want %v", name, got, want)
		}
	}
	checkHandle(t, before, "first", 1000) // a Handle taken before the failure still reads its record
	before.Close()
	if served := checkConsistent(t, d, sizes); served < 2 {
		t.Fatalf("only %d objects written before the disk filled are served", served)
	}
	mustGet(t, d, "first", 1000)
	// Writes go on, and a restart finds what the tier holds.
	sizes["after"] = 50 << 10
	if !d.Put(rec("after", 50<<10)) {
		t.Fatal("Put refused after coming back")
	}
	d.Wait()
	mustGet(t, d, "after", 50<<10)
	objects := d.Stats().Objects
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d2, _ := open(t, cfg)
	defer d2.Close()
	if served := checkConsistent(t, d2, sizes); int64(served) != objects {
		t.Fatalf("after a restart %d objects, %d before it", served, objects)
	}
}

func TestDisk_removedDirectoryComesBackWhenRecreated(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cache")
	os.Mkdir(dir, 0o755)
	d, reg, probes := openRetrying(t, Config{Path: dir, Size: 16 << 20, SegmentSize: 1 << 20})
	d.Put(rec("a", 1000))
	d.Wait()
	h, err := d.Get("a")
	if err != nil {
		t.Fatal(err)
	}
	old := h.Record()
	os.RemoveAll(dir)
	for i := 0; i < 8 && !d.Disabled(); i++ {
		d.Put(rec(keyN(i), 300<<10))
		d.Wait()
	}
	if !d.Disabled() {
		t.Fatal("writing into a removed directory did not fail")
	}
	probeFails(t, d, probes)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	comesBack(t, d, probes)
	checkHandle(t, h, "a", 1000) // its file is gone from the directory, not from the Handle
	h.Close()
	if _, err := d.Get("a"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get of an object whose directory was removed: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "lock")); err != nil {
		t.Fatalf("the new directory is not locked: %v", err)
	}
	d.Put(rec("b", 2000))
	d.Wait()
	mustGet(t, d, "b", 2000)
	hb, _ := d.Get("b")
	if hb.Record().Segment <= old.Segment {
		t.Fatalf("segment id %d reused after %d: a record id would name two records", hb.Record().Segment, old.Segment)
	}
	hb.Close()
	if g := gauge(t, reg, "shoal_cachestore_disk_pinned_bytes"); g != 0 {
		t.Fatalf("%v bytes still pinned with no Handle open", g)
	}
}

func TestDisk_eioComesBackWhenTheDeviceDoes(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(fs *faultFS, on bool)
	}{
		{"on write", func(fs *faultFS, on bool) { fs.failWrites.Store(on) }},
		{"on read", func(fs *faultFS, on bool) { fs.failReads.Store(on) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := &faultFS{}
			d, _, probes := openRetrying(t, Config{Path: t.TempDir(), Size: 16 << 20, SegmentSize: 1 << 20, fs: fs})
			sizes := map[string]int{}
			for i := range 6 {
				sizes[keyN(i)] = 100 << 10
				d.Put(rec(keyN(i), 100<<10))
			}
			d.Wait()
			tc.set(fs, true)
			sizes["b"] = 1000 // written when only reads fail
			d.Put(rec("b", 1000))
			d.Wait()
			d.Get("b")
			d.AddBan(Ban{Kind: BanKey, Value: "none"}) // the log fails too: kept in memory, segments set aside
			d.Get(keyN(0))
			if !d.Disabled() {
				t.Fatal("EIO did not turn the tier off")
			}
			probeFails(t, d, probes)
			tc.set(fs, false)
			comesBack(t, d, probes)
			checkConsistent(t, d, sizes)
			d.Put(rec("c", 1000))
			d.Wait()
			mustGet(t, d, "c", 1000)
		})
	}
}

// A ban made while the tier was off reached no log, and removing the segments for it failed
// (the directory was moved away). When the directory comes back with its old segments, none
// of them may be loaded: the banned object would be served again.
func TestDisk_banWhileOffIsNotUndoneByComingBack(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "cache")
	os.Mkdir(dir, 0o755)
	cfg := Config{Path: dir, Size: 16 << 20, SegmentSize: 1 << 20}
	d, _, probes := openRetrying(t, cfg)
	d.Put(rec("a", 1000))
	d.Put(rec("b", 1000))
	d.Wait()
	if err := os.Rename(dir, dir+".away"); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 8 && !d.Disabled(); i++ {
		d.Put(rec(keyN(i), 300<<10))
		d.Wait()
	}
	if !d.Disabled() {
		t.Fatal("writing into a moved directory did not fail")
	}
	d.AddBan(Ban{Kind: BanKey, Value: "a"})
	banGen := d.Begin()
	probeFails(t, d, probes)
	if err := os.Rename(dir+".away", dir); err != nil {
		t.Fatal(err)
	}
	comesBack(t, d, probes)
	if _, err := d.Get("a"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get(a) after a ban the log missed: %v", err)
	}
	mustGet(t, d, "b", 1000) // only what the ban matches is gone (missed.go)
	d.Close()
	d2, _ := open(t, cfg)
	defer d2.Close()
	if _, err := d2.Get("a"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after a restart: %v", err)
	}
	if g := d2.Begin(); g < banGen {
		t.Fatalf("generation %d after a restart, below the ban's %d", g, banGen)
	}
}

// The wait between probes doubles up to RetryMaxInterval, and starts over only once the tier
// has stayed on for that long.
func TestDisk_probesBackOff(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cache")
	os.Mkdir(dir, 0o755)
	var waits []time.Duration
	done := make(chan struct{})
	var d *Disk
	cfg := Config{Path: dir, Size: 16 << 20, SegmentSize: 1 << 20, Logger: quietLogger(),
		RetryInterval: time.Millisecond, RetryMaxInterval: 8 * time.Millisecond}
	cfg.probed = func(err error) { // on the writer goroutine, as d.retry is
		if err == nil || !strings.Contains(err.Error(), "cache directory") {
			t.Errorf("probe of a missing directory: %v", err)
		}
		if waits = append(waits, d.retry.wait); len(waits) == 6 {
			close(done)
		}
	}
	d, err := Open(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	<-d.Loaded()
	os.RemoveAll(dir)
	for i := 0; i < 8 && !d.Disabled(); i++ {
		d.Put(rec(keyN(i), 300<<10))
		d.Wait()
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("six probes did not run in 10 s")
	}
	want := []time.Duration{2, 4, 8, 8, 8, 8}
	for i, w := range want {
		if waits[i] != w*time.Millisecond {
			t.Fatalf("waits after each failed probe %v, want %v ms", waits, want)
		}
	}
}

// Gets, Puts and bans go on while the device fails and recovers, five times over: under
// -race, and every object served is byte-exact.
func TestDisk_failAndComeBackUnderLoad(t *testing.T) {
	fs := &faultFS{}
	d, _, probes := openRetrying(t, Config{Path: t.TempDir(), Size: 8 << 20, SegmentSize: 1 << 20, AdmitFrequency: -1, fs: fs})
	size := func(i int) int { return 4096 * (i%7 + 1) }
	sizes := map[string]int{}
	for i := range 200 {
		sizes[keyN(i)] = size(i)
	}
	sizes["trigger"] = 1000
	stop := make(chan struct{})
	bad := make(chan string, 1)
	var wg sync.WaitGroup
	worker := func(f func(i int)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				f(i)
			}
		}()
	}
	worker(func(i int) { d.Put(rec(keyN(i%200), size(i%200))) })
	worker(func(i int) {
		k := keyN(i * 7 % 200)
		h, err := d.Get(k)
		if err != nil {
			return
		}
		defer h.Close()
		got, err := io.ReadAll(h.Body())
		if err != nil && !fs.failReads.Load() || err == nil && !bytes.Equal(got, body(k, sizes[k])) {
			select {
			case bad <- fmt.Sprintf("%s: %d bytes, err %v", k, len(got), err):
			default:
			}
		}
	})
	worker(func(i int) {
		if i%50 == 0 {
			d.AddBan(Ban{Kind: BanKey, Value: keyN(i % 200)})
		}
		d.Wait()
	})
	for round := range 5 {
		fail := &fs.failWrites
		if round%2 == 1 {
			fail = &fs.failReads
		}
		fail.Store(true)
		for i := 0; i < 1000 && !d.Disabled(); i++ {
			d.Put(rec("trigger", 1000))
			d.Get(keyN(i % 200))
			d.Wait()
		}
		if !d.Disabled() {
			t.Fatalf("round %d: the failing device did not turn the tier off", round)
		}
		fail.Store(false)
		comesBack(t, d, probes)
	}
	close(stop)
	wg.Wait()
	select {
	case s := <-bad:
		t.Fatal(s)
	default:
	}
	d.Wait()
	<-d.reloaded()
	if !d.Disabled() {
		checkConsistent(t, d, sizes)
	}
}

// A node whose disk traffic is all large streamed fills writes only spools until a Commit:
// a spool that cannot be created (the directory removed) or written (the file system full)
// is the directory's failure as a segment write's is. It logged a warning per fill and
// left the tier on, writing each body until the file system refused it; now the tier turns
// off, and comes back when the directory is usable again.
func TestWriter_spoolFailureTurnsTheTierOffUntilFixed(t *testing.T) {
	t.Run("directory removed", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "cache")
		os.Mkdir(dir, 0o755)
		d, _, probes := openRetrying(t, Config{Path: dir, Size: 64 << 20, SegmentSize: 16 << 20})
		os.RemoveAll(dir)
		if streamRec(d, "a", 1<<20) {
			t.Fatal("a streamed record was committed in a removed directory")
		}
		if !d.Disabled() {
			t.Fatal("a spool that could not be created left the tier on")
		}
		probeFails(t, d, probes)
		os.Mkdir(dir, 0o755)
		comesBack(t, d, probes)
		if !streamRec(d, "b", 1<<20) {
			t.Fatal("streaming refused after coming back")
		}
		d.Wait()
		mustGet(t, d, "b", 1<<20)
	})
	t.Run("file system full", func(t *testing.T) {
		dir := mountTmpfs(t, "size=4m", 0)
		filler := filepath.Join(dir, "filler")
		os.WriteFile(filler, make([]byte, 3584<<10), 0o644)
		d, _, probes := openRetrying(t, Config{Path: dir, Size: 64 << 20, SegmentSize: 1 << 20, MaxObjectSize: 8 << 20})
		if streamRec(d, "a", 1<<20) {
			t.Fatal("a 1 MiB record was committed with 512 KiB free")
		}
		if !d.Disabled() {
			t.Fatal("a spool the file system refused left the tier on")
		}
		probeFails(t, d, probes)
		os.Remove(filler)
		comesBack(t, d, probes)
		if !streamRec(d, "b", 1<<20) {
			t.Fatal("streaming refused after coming back")
		}
		d.Wait()
		mustGet(t, d, "b", 1<<20)
	})
}

// Whether a segment's pages are all in memory (tmpfs) was asked once, of the directory at
// Open; a tier whose directory is remounted on a file system with a device (here the tmpfs
// mounted over it goes, its files staying open) wrote its next segments there and kept
// answering Resident true for them, so a hit whose pages had left the page cache was sent
// by the raw sendfile that holds the Go scheduler's P while the device reads. Each segment
// now knows its own file system.
func TestHandle_residentAsksEachSegmentsFileSystem(t *testing.T) {
	dir := t.TempDir()
	if memoryBacked(dir) {
		t.Skip("the test directory is on tmpfs: no file system with a device to remount onto")
	}
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size=16m"); err != nil {
		t.Fatal(err)
	}
	mounted := true
	t.Cleanup(func() {
		if mounted {
			unix.Unmount(dir, unix.MNT_DETACH)
		}
	})
	d, _ := open(t, Config{Path: dir, Size: 64 << 20, SegmentSize: 1 << 20, AdmitFrequency: -1})
	defer d.Close()
	d.Put(rec("on-tmpfs", 600<<10))
	d.Wait()
	if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
		t.Fatal(err)
	}
	mounted = false
	d.Put(rec("on-disk", 600<<10)) // does not fit the first segment: a new one, on the disk's file system
	d.Wait()
	mustGet(t, d, "on-tmpfs", 600<<10)
	h, err := d.Get("on-disk")
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if memoryBacked(h.File().Name()) {
		t.Fatal("the second segment is on tmpfs")
	}
	testenv.DropPageCache(t, h.File(), func() bool { return !h.Resident(0, h.BodyLength()) })
	if h.Resident(0, h.BodyLength()) {
		t.Fatal("a record on a file system with a device is resident after its pages were dropped")
	}
}
