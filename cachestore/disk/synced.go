package disk

import (
	"fmt"
	"os"
	"path/filepath"
)

// A segment a crash left is read whole at the next load, to find a torn tail: with segments
// of up to 1 GiB that is up to 1 GiB read and checksummed before anything loaded is served
// (42 ms for 256 MiB from the page cache here; seconds from a disk after a reboot). But a
// torn record can only lie past what was last fsynced. So the writer fsyncs the active
// segment every syncEvery bytes and then records in a small file, `synced`, the segment and
// the record boundary the fsync covered; at Open, that offset goes into the verify list
// (verify.go) with the segment, and the loader verifies only the records from there on (the
// ones before it are loaded like a sealed segment's: header and metadata checked now, the
// whole record on first Get). The file is replaced atomically (rename) after the segment's
// fsync, so it never names more than is durable; a lost or unreadable one means 0: verify
// the segment whole, as before.
const (
	syncedName = "synced"
	syncEvery  = 64 << 20
)

type syncMark struct {
	id  uint64
	off int64
	ok  bool
}

// readSynced reads the last checkpoint of the active segment.
func readSynced(dir string) syncMark {
	b, err := os.ReadFile(filepath.Join(dir, syncedName))
	if err != nil {
		return syncMark{}
	}
	var m syncMark
	if n, err := fmt.Sscanf(string(b), "%x %d\n", &m.id, &m.off); err != nil || n != 2 || m.off < 0 {
		return syncMark{}
	}
	m.ok = true
	return m
}

// writeSynced records that segment id is durable up to off: written to a temporary file,
// synced, renamed over the last one.
func writeSynced(dir string, id uint64, off int64) error {
	p := filepath.Join(dir, syncedName)
	f, err := os.OpenFile(p+".tmp", os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(f, "%016x %d\n", id, off); err != nil {
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
	return os.Rename(p+".tmp", p)
}

// checkpoint fsyncs s and records it as durable up to pos, a record boundary, once
// syncEvery bytes were appended since the last checkpoint. Writer goroutine only. A failure
// leaves the last checkpoint, which still holds: the next load verifies more.
func (d *Disk) checkpoint(s *segment, pos int64) {
	if pos-s.synced < d.syncEvery {
		return
	}
	if err := s.f.Sync(); err != nil {
		d.log.Warn("disk: syncing the active segment", "path", s.path, "err", err)
		return
	}
	if err := writeSynced(d.cfg.Path, s.id, pos); err != nil {
		d.log.Warn("disk: writing the sync checkpoint", "err", err)
		return
	}
	s.synced = pos
}
