package disk

import (
	"bytes"
	"fmt"
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
// synced that segment. Any number of crashes in a row then find every torn tail.
const verifyName = "verify"

// readVerify returns the ids the last runs left to verify; a missing file lists none, and
// an unreadable line is skipped (its segment is then trusted like a sealed one, as before
// this file existed).
func readVerify(dir string) []uint64 {
	b, err := os.ReadFile(filepath.Join(dir, verifyName))
	if err != nil {
		return nil
	}
	var ids []uint64
	for _, line := range strings.Fields(string(b)) {
		if id, err := strconv.ParseUint(line, 16, 64); err == nil {
			ids = append(ids, id)
		}
	}
	return ids
}

// writeVerify replaces the list with ids, durably (file synced, renamed into place, the
// directory synced), or removes it when ids is empty.
func writeVerify(dir string, ids []uint64) error {
	p := filepath.Join(dir, verifyName)
	if len(ids) == 0 {
		if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
			return err
		}
		return nil // not synced: a list that comes back costs one more verification
	}
	var b bytes.Buffer
	for _, id := range ids {
		fmt.Fprintf(&b, "%016x\n", id)
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

// toVerify is the set of segments the loader must read whole: those the list names that
// still exist, plus the newest unless a clean Close vouched for it. It is made durable
// before Open returns, so a crash from here on still finds them listed.
func (d *Disk) toVerify(segs []*segment) (map[uint64]bool, error) {
	listed := readVerify(d.cfg.Path)
	want := map[uint64]bool{}
	var ids []uint64
	for _, s := range segs {
		if slices.Contains(listed, s.id) || s == segs[len(segs)-1] && !d.clean.trusts(s) {
			want[s.id] = true
			ids = append(ids, s.id)
		}
	}
	if !slices.Equal(ids, listed) {
		if err := writeVerify(d.cfg.Path, ids); err != nil {
			return nil, fmt.Errorf("writing %s: %w", verifyName, err)
		}
	}
	return want, nil
}

// verifiedAll is called once the loader has read every listed segment whole: they are
// synced (a crash-left tail may have been in the page cache only, and from now on the
// segment is trusted like a sealed one), then the list is cleared.
func (d *Disk) verifiedAll(segs []*segment) {
	if len(d.verify) == 0 {
		return
	}
	for _, s := range segs {
		if d.verify[s.id] {
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
