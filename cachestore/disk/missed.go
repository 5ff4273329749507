package disk

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Bans the log could not take. A ban made while the tier is off (or whose append fails) is
// kept in memory (banList, bans) and judged against every record the tier loads when it comes
// back, and the log is rewritten with it first (revive.go): so one purge while a disk is full
// costs the objects it matches, not the whole cache. Only the process knows such a ban, so
// a restart must not load what it purged: each missed ban renames the segment files aside
// (heldExt), and the next Open removes what is still aside, as it would after a crash; the
// tier coming back renames them back once the log holds the bans. A rename that fails (a
// read-only remount) falls back to removing the file. More than maxMissedBans missed bans
// are more than the process keeps: the segments are removed and the bans forgotten, as
// nothing older than them is left to match.

// heldExt is appended to a segment file's name while bans it may hold records of are in
// memory only; listSegments does not see such a file.
const heldExt = ".held"

// maxMissedBans is how many bans the tier keeps in memory only while its log cannot take
// them; one more and the segments are removed instead.
const maxMissedBans = 4096

// missedBan is AddBan's answer to a ban the log did not take. Under banMu.
func (d *Disk) missedBan() {
	d.missed.Store(true)
	d.missedBans++
	switch {
	case d.missedBans > d.maxMissed:
		d.dropSegments()
	case d.lockf != nil: // else the directory is another process's, or not there
		d.holdSegments()
	}
}

// holdSegments renames the directory's segment files aside, so that the next start cannot
// load a record a ban in memory only removed; one it cannot rename it removes. Under banMu.
func (d *Disk) holdSegments() {
	ids, err := listSegments(d.cfg.Path)
	if err != nil {
		return // the directory is gone, or unreadable: nothing a restart would load either
	}
	removed := 0
	for _, id := range ids {
		p := segmentPath(d.cfg.Path, id)
		if os.Rename(p, p+heldExt) == nil {
			continue
		}
		if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
			d.log.Error("disk: a ban could not be logged and a segment could neither be set aside nor removed: remove it before the next start",
				"path", p, "err", err)
			continue
		}
		removed++
	}
	if len(ids) > 0 {
		d.log.Warn("disk: a ban could not be logged; segments set aside until the tier is back, so a restart cannot serve what it purged",
			"path", d.cfg.Path, "segments", len(ids), "removed", removed)
	}
}

// dropSegments removes the segment files, set aside or not, when the tier holds the
// directory (else the tier removes them when it takes it, revive.go), and forgets the bans
// in memory: too many bans missed the log to keep. Records filled before now are refused
// from here on (the ban set's floor). Under banMu.
func (d *Disk) dropSegments() {
	d.overflow = true
	var n int
	var err error
	if d.lockf != nil {
		n, err = removeSegments(d.cfg.Path, true)
	}
	d.mu.Lock()
	d.banList = nil
	set := newBanSet()
	set.floor = d.gen.Load()
	d.bans = set
	d.missedBans = 0
	d.mu.Unlock()
	if err != nil {
		d.log.Error("disk: too many bans could not be logged and the segments could not all be removed: remove them before the next start",
			"path", d.cfg.Path, "err", err)
		return
	}
	d.log.Warn("disk: too many bans could not be logged; segments removed", "path", d.cfg.Path, "segments", n, "bans", d.maxMissed)
}

// removeSegments removes dir's segment files set aside (heldExt) and, when all, the others
// too; it returns how many it removed. Removing works on a full file system, and Handles
// still open keep reading their files.
func removeSegments(dir string, all bool) (int, error) {
	des, err := os.ReadDir(dir)
	if err != nil {
		if os.IsNotExist(err) {
			return 0, nil
		}
		return 0, err
	}
	n := 0
	var errs []error
	for _, de := range des {
		name := de.Name()
		if de.IsDir() || !strings.HasSuffix(name, segmentExt+heldExt) && !(all && strings.HasSuffix(name, segmentExt)) {
			continue
		}
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !os.IsNotExist(err) {
			errs = append(errs, err)
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}

// unholdSegments renames the segment files set aside back, once the ban log holds every ban
// made while they were aside, and removes those live does not name: a segment reclaim took
// out (and may have punched holes in) as a ban set it aside. Under banMu.
func unholdSegments(dir string, live map[uint64]*segment) error {
	des, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, de := range des {
		name, ok := strings.CutSuffix(de.Name(), heldExt)
		if !ok || de.IsDir() || !strings.HasSuffix(name, segmentExt) {
			continue
		}
		from := filepath.Join(dir, de.Name())
		if id, err := strconv.ParseUint(strings.TrimSuffix(name, segmentExt), 16, 64); err != nil || live[id] == nil {
			if err := os.Remove(from); err != nil && !os.IsNotExist(err) {
				return fmt.Errorf("removing a reclaimed segment set aside: %w", err)
			}
			continue
		}
		if err := os.Rename(from, filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("renaming a segment set aside back: %w", err)
		}
	}
	return nil
}
