package disk

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// A segment left by a crash may end in a torn record, and only reading it whole (every
// record's checksum) finds where to cut it. That used to be "the newest segment at Open",
// but a run that crashes again before its loader reached that segment has written newer
// ones meanwhile (a Put while loading opens a new segment), so at the next Open the torn
// one is no longer the newest and would be trusted like a sealed segment. So the ids of
// the segments still to verify are kept in a file, written and synced at Open before
// anything is written, and each id leaves it only once the loader has verified, cut and
// synced that segment. Any number of crashes in a row then find every torn tail. Each id
// carries the offset to verify from: the segment's last sync checkpoint (synced.go).
const verifyName = "verify"

// readVerify returns the segments the last runs left to verify, each with the offset to
// verify from (a line "id" alone, or with a bad offset, means 0); a missing file lists none,
// and an unreadable line is skipped (its segment is then trusted like a sealed one, as
// before this file existed).
func readVerify(dir string) map[uint64]int64 {
	b, err := os.ReadFile(filepath.Join(dir, verifyName))
	if err != nil {
		return nil
	}
	ids := map[uint64]int64{}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		id, err := strconv.ParseUint(f[0], 16, 64)
		if err != nil {
			continue
		}
		var from int64
		if len(f) > 1 {
			if from, err = strconv.ParseInt(f[1], 10, 64); err != nil || from < 0 {
				from = 0
			}
		}
		ids[id] = from
	}
	return ids
}

// writeVerify replaces the list with ids (segment id and the offset to verify from),
// durably (file synced, renamed into place, the directory synced), or removes it when ids
// is empty.
func writeVerify(dir string, ids map[uint64]int64) error {
	p := filepath.Join(dir, verifyName)
	if len(ids) == 0 {
		if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
			return err
		}
		return nil // not synced: a list that comes back costs one more verification
	}
	var b bytes.Buffer
	for _, id := range slices.Sorted(maps.Keys(ids)) {
		fmt.Fprintf(&b, "%016x %d\n", id, ids[id])
	}
	tmp := p + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(b.Bytes()); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, p); err != nil {
		return err
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// toVerify is the set of segments the loader must verify, each from an offset: those the
// list names that still exist, plus the newest unless a clean Close vouched for it, from its
// last sync checkpoint (synced.go). It is made durable before Open returns, so a crash from
// here on still finds them listed. extra adds segments to verify from the offsets given (a
// tier coming back after a failure: revive.go).
func (d *Disk) toVerify(segs []*segment, extra map[uint64]int64) (map[uint64]int64, error) {
	listed := readVerify(d.cfg.Path)
	synced := readSynced(d.cfg.Path)
	want := map[uint64]int64{}
	for _, s := range segs {
		if from, ok := listed[s.id]; ok {
			want[s.id] = min(from, s.size)
		} else if s == segs[len(segs)-1] && !d.clean.trusts(s) {
			var from int64
			if synced.ok && synced.id == s.id && synced.off <= s.size {
				from = synced.off
			}
			want[s.id] = from
		}
		if from, ok := extra[s.id]; ok {
			if have, ok := want[s.id]; !ok || from < have {
				want[s.id] = from
			}
		}
	}
	if !maps.Equal(want, listed) {
		if err := writeVerify(d.cfg.Path, want); err != nil {
			return nil, fmt.Errorf("writing %s: %w", verifyName, err)
		}
	}
	return want, nil
}

// verifiedAll is called once the loader has verified every listed segment: they are synced
// (a crash-left tail may have been in the page cache only, and from now on the segment is
// trusted like a sealed one), then the list is cleared.
func (d *Disk) verifiedAll(segs []*segment) {
	if len(d.verify) == 0 {
		return
	}
	for _, s := range segs {
		if _, ok := d.verify[s.id]; ok {
			if err := s.f.Sync(); err != nil {
				d.log.Warn("disk: syncing a verified segment", "path", s.path, "err", err)
				return // listed still: the next load verifies it again
			}
		}
	}
	if err := writeVerify(d.cfg.Path, nil); err != nil {
		d.log.Warn("disk: clearing the verify list", "err", err)
	}
}
