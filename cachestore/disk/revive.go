package disk

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// A failure of the directory (full, EIO, removed, remounted read-only) turns the tier off
// (disable). An operator who frees space, remounts or recreates the directory expects the
// tier back without a restart, so the writer goroutine probes the directory, after
// RetryInterval and then twice as long after each failed probe up to RetryMaxInterval: it
// must exist, have room for a segment, and take a file written, synced and read back. When
// it does, the tier reopens the directory as a restart would, without dropping what it
// still holds open:
//
//   - The index is rebuilt from the segment files by the loader, as at Open: Get answers
//     ErrLoading meanwhile, and the newest segment (the one the failure may have torn) is
//     verified past its last sync checkpoint and cut at its first bad record, as is the
//     tail of any segment this process knows to be longer than what it finished writing.
//     Nothing the failure tore can be indexed, so nothing torn is served.
//   - Segment files still in the directory that this process has open are reused (their
//     Handles' holds and file descriptors stay), so a hole punched later for one never
//     falls under a Handle taken before the failure. Those no longer in the directory
//     (removed with it, or by the operator) are let go of like reclaimed segments.
//   - Bans: a ban made while the tier was off never reached the log, and the segments were
//     removed for it (dropSegments); whatever of them is still there is removed before
//     anything loads. The ban log is rewritten with the bans this process knows and those
//     it finds, so the next restart keeps both. Generations only go up, and segment ids
//     too, so a Handle.Record never names two records.
//
// Only a tier whose Open took the directory comes back: one that never had it (missing at
// start, another process's lock) stays off until restart, since the node's start-up gate
// (the purges it missed while down) ran without it.

// revival is the writer goroutine's schedule of probes while the tier is off.
type revival struct {
	t    *time.Timer
	c    <-chan time.Time // fires when the next probe is due; nil when none is armed
	wait time.Duration    // the wait before the next probe
	off  time.Time        // when the tier went off; zero while it is on
	on   time.Time        // when it last came back
}

// arm schedules a probe when the tier is off and none is due yet.
func (r *revival) arm(d *Disk) {
	if r.c != nil || !d.disabled.Load() || d.cfg.RetryInterval < 0 {
		return
	}
	if r.off.IsZero() {
		r.off = time.Now()
		switch {
		case r.on.IsZero() || r.off.Sub(r.on) >= d.cfg.RetryMaxInterval:
			r.wait = d.cfg.RetryInterval
		default: // back on only briefly: keep backing off
			r.wait = min(2*r.wait, d.cfg.RetryMaxInterval)
		}
	}
	r.t = time.NewTimer(r.wait)
	r.c = r.t.C
}

func (r *revival) stop() {
	if r.t != nil {
		r.t.Stop()
	}
}

// probe tries to bring the tier back, and backs off when it cannot.
func (d *Disk) probe() {
	err := d.revive()
	r := &d.retry
	if err != nil {
		r.wait = min(2*r.wait, d.cfg.RetryMaxInterval)
		d.log.Debug("disk: cache directory still unusable", "path", d.cfg.Path, "err", err, "next_probe", r.wait)
	} else {
		d.log.Warn("disk: cache tier enabled, loading its index", "path", d.cfg.Path, "off_for", time.Since(r.off).Round(time.Millisecond))
		r.off, r.on = time.Time{}, time.Now()
	}
	if d.cfg.probed != nil {
		d.cfg.probed(err)
	}
}

var errStillLoading = errors.New("the index is still loading")

// probeDir checks dir can take the tier's writes again: an existing directory with room for
// a segment, where a file can be written, synced and read back through fs.
// The directory's modification time is put back: LastActive must still say when the tier
// last wrote there, since the purges made meanwhile reached no log.
func probeDir(fs fsys, dir string, need int64) error {
	if err := isDir(dir); err != nil {
		return err
	}
	if fi, err := os.Stat(dir); err == nil {
		defer func() { os.Chtimes(dir, time.Time{}, fi.ModTime()) }() // zero: the access time is left as it is
	}
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return fmt.Errorf("statfs %s: %w", dir, err)
	}
	if free := int64(st.Bavail) * int64(st.Bsize); free < need {
		return fmt.Errorf("%d bytes free in %s, a segment needs %d", free, dir, need)
	}
	p := filepath.Join(dir, ".probe")
	f, err := fs.OpenFile(p, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("creating a file in %s: %w", dir, err)
	}
	defer os.Remove(p)
	defer f.Close()
	buf := make([]byte, pinBlock)
	if _, err := f.WriteAt(buf, 0); err != nil {
		return fmt.Errorf("writing %s: %w", p, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", p, err)
	}
	if _, err := f.ReadAt(buf, 0); err != nil {
		return fmt.Errorf("reading %s: %w", p, err)
	}
	return nil
}

// sameFile reports whether f is the file at path (not one that replaced it).
func sameFile(f interface{ Stat() (os.FileInfo, error) }, path string) bool {
	a, err := f.Stat()
	if err != nil {
		return false
	}
	b, err := os.Stat(path)
	return err == nil && os.SameFile(a, b)
}

// unlinked reports whether f's file has no name left (or cannot be asked).
func unlinked(f file) bool {
	fi, err := f.Stat()
	if err != nil {
		return true
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && st.Nlink == 0
}

// revive reopens the directory of a tier a failure turned off, or opens for the first time
// one Open could not take; nil when the tier is on again (its index loading). Writer
// goroutine only. Everything that can fail is done before the tier's state is touched, so a
// failed attempt leaves the tier off as it was.
func (d *Disk) revive() (err error) {
	if d.loading.Load() {
		return errStillLoading // a load failed by a writer's fault goes on: let it end first
	}
	dir := d.cfg.Path
	first := !d.opened.Load()
	var since time.Time
	if first {
		since = LastActive(dir) // before the lock or anything else is written
	}
	if err := isDir(dir); err != nil {
		return err
	}
	lf := d.lockf // only this goroutine changes d.lockf once Open returned
	if !sameFile(lf, filepath.Join(dir, "lock")) {
		// Missing at Open, removed or remounted since: lock before writing anything, so a
		// directory another process holds is left as it is.
		if lf, err = lockDir(dir); err != nil {
			return err
		}
	}
	var opened []*segment
	var bl *banLog
	known := map[*segment]int64{} // reused segments: the size this process wrote
	defer func() {
		if err == nil {
			return
		}
		d.mu.Lock()
		for s, n := range known {
			s.size = n
		}
		d.mu.Unlock()
		for _, s := range opened {
			s.release()
		}
		if bl != nil {
			bl.close()
		}
		if lf != d.lockf {
			lf.Close()
		}
	}()
	if err := probeDir(d.cfg.fs, dir, d.cfg.SegmentSize); err != nil {
		return err
	}
	d.banMu.Lock() // no ban between the missed check and the new log
	defer d.banMu.Unlock()
	if d.overflow {
		// Too many bans missed the log (missed.go): nothing kept may be loaded.
		if _, err := removeSegments(dir, true); err != nil {
			return fmt.Errorf("removing the segments after more bans than kept missed the log: %w", err)
		}
	}
	bl, logged, err := openBanLog(d.cfg.fs, dir)
	if err != nil {
		return err
	}
	bans, gen := d.mergeBans(logged)
	if d.missed.Load() || len(bans) != len(logged) {
		if err := bl.rewrite(bans, gen); err != nil {
			return err
		}
	}
	// The log now holds every ban this process knows: what this process set aside for the
	// bans that missed it may be loaded again (missed.go). Segments set aside by another
	// process (the directory was not ours a moment ago) are removed, as Open removes them.
	old := map[uint64]*segment{}
	for _, s := range d.segs { // only this goroutine changes d.segs
		old[s.id] = s
	}
	if lf == d.lockf && d.lockf != nil {
		err = unholdSegments(dir, old)
	} else {
		_, err = removeSegments(dir, false)
	}
	if err != nil {
		return err
	}
	ids, err := listSegments(dir)
	if err != nil {
		return err
	}
	var segs []*segment
	extra := map[uint64]int64{}
	nextID := d.nextID
	for _, id := range ids {
		path := segmentPath(dir, id)
		if s := old[id]; s != nil && sameFile(s.f, path) {
			fi, err := s.f.Stat()
			if err != nil {
				return fmt.Errorf("stat %s: %w", path, err)
			}
			switch {
			case fi.Size() > s.size:
				extra[id] = s.size // past it: an append the failure cut short
			case fi.Size() < s.size:
				extra[id] = 0 // cut by someone else: nothing in it is vouched for
			}
			d.mu.Lock()
			known[s], s.size = s.size, fi.Size()
			d.mu.Unlock()
			segs = append(segs, s)
		} else {
			s, err := d.openSegment(id)
			if err != nil {
				return err
			}
			opened = append(opened, s)
			segs = append(segs, s)
		}
		nextID = max(nextID, id+1)
	}
	d.clean = readClean(dir)
	verify := map[uint64]int64{}
	if len(segs) > 0 {
		if verify, err = d.toVerify(segs, extra); err != nil {
			return err
		}
	}
	if first {
		d.since = since // read by Since once firstLoad is closed, after this
	}
	d.reopen(segs, known, nextID, lf, bl, bans, gen, verify, first)
	return nil
}

// mergeBans returns the bans this process knows and those of a ban log it did not write
// (the directory Open found may have been replaced), in generation order, and the highest
// generation of either. Under banMu.
func (d *Disk) mergeBans(logged []*Ban) ([]*Ban, uint64) {
	type id struct {
		kind  BanKind
		soft  bool
		value string
		gen   uint64
		time  int64
	}
	key := func(b *Ban) id { return id{b.Kind, b.Soft, b.Value, b.Generation, unixNano(b.Time)} }
	d.mu.RLock()
	bans := slices.Clone(d.banList)
	d.mu.RUnlock()
	have := map[id]bool{}
	for _, b := range bans {
		have[key(b)] = true
	}
	gen := d.gen.Load()
	for _, b := range logged {
		gen = max(gen, b.Generation)
		if b.Kind != banMark && !have[key(b)] {
			bans = append(bans, b)
		}
	}
	slices.SortStableFunc(bans, func(a, b *Ban) int { return cmp.Compare(a.Generation, b.Generation) })
	return bans, gen
}

// reopen swaps in the reopened directory and starts loading its index; the tier is on from
// here. Segments no longer in the directory are let go of: reclaimed (their bytes pinned
// for open Handles) when unlinked, else only closed once their Handles are.
func (d *Disk) reopen(segs []*segment, reused map[*segment]int64, nextID uint64, lf *os.File, bl *banLog,
	bans []*Ban, gen uint64, verify map[uint64]int64, first bool) {
	d.mu.Lock()
	var used int64
	for _, s := range segs {
		s.entries, s.minGen = nil, ^uint64(0)
		used += s.size
	}
	for _, s := range d.segs {
		if _, ok := reused[s]; ok {
			continue
		}
		s.retired.Store(true)
		if unlinked(s.f) {
			d.roomMu.Lock()
			d.pinned.Add(s.size)
			d.roomMu.Unlock()
			s.unpin(&d.pinned)
		}
		s.release()
	}
	d.segs, d.active, d.nextID = segs, nil, nextID
	d.index = newObjIndex()
	d.objects.Store(0)
	d.used.Store(used)
	d.full.Store(false)
	set := newBanSet()
	set.floor = d.bans.floor
	for _, b := range bans {
		set.add(b)
	}
	d.bans, d.banList = set, bans
	d.gen.Store(max(gen, d.gen.Load()))
	if d.banlog != nil {
		d.banlog.close()
	}
	d.banlog = bl
	if lf != d.lockf {
		if d.lockf != nil {
			d.lockf.Close()
		}
		d.lockf = lf
	}
	d.verify = verify
	d.verified.Store(false)
	done := make(chan struct{})
	if first {
		done = d.firstLoad
	}
	d.revived = done
	d.missed.Store(false)
	d.missedBans, d.overflow = 0, false // under banMu (revive)
	d.opened.Store(true)
	d.loading.Store(true) // before disabled goes: Get answers ErrLoading, not from the empty index
	d.disabled.Store(false)
	d.mu.Unlock()
	d.revivals.Add(1)
	d.wg.Add(1) // this goroutine holds the group: Close's Wait cannot have returned
	go d.load(slices.Clone(segs), done)
}

// reloaded returns the channel closed when the load of the last revival ends (nil: none yet).
func (d *Disk) reloaded() <-chan struct{} {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.revived
}
