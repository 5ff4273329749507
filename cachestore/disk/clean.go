package disk

import (
	"fmt"
	"os"
	"path/filepath"
)

// A clean Close leaves a marker naming the newest segment and the size it was fsynced at.
// At the next Open the loader then trusts that segment's records as it trusts sealed ones
// (header and metadata checksums now, the whole record on first Get) instead of reading and
// checksumming all of it to find a torn tail that a clean stop cannot leave: a restart after
// SIGTERM, the common case of an upgrade, loads in the time the headers take. The marker
// needs no durable removal: if the process appends to that segment after reading it and then
// crashes, the segment's size no longer matches and the loader verifies it whole again. A
// Close that stopped the loader before it checked the newest segment writes no marker unless
// the previous one trusted that segment: a crash left it, and only the marker would vouch.
const cleanName = "clean"

type cleanMark struct {
	id   uint64
	size int64
	ok   bool
}

// readClean reads and removes the marker; a missing or unreadable one trusts nothing.
func readClean(dir string) cleanMark {
	p := filepath.Join(dir, cleanName)
	b, err := os.ReadFile(p)
	if err != nil {
		return cleanMark{}
	}
	os.Remove(p)
	var m cleanMark
	if n, err := fmt.Sscanf(string(b), "%x %d\n", &m.id, &m.size); err != nil || n != 2 {
		return cleanMark{}
	}
	m.ok = true
	return m
}

// trusts reports whether s is the segment the marker names, at the size it was synced at.
func (m cleanMark) trusts(s *segment) bool {
	return m.ok && m.id == s.id && m.size == s.size
}

// writeClean records s, synced, as the newest segment at a clean Close.
func writeClean(dir string, s *segment) error {
	p := filepath.Join(dir, cleanName)
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(f, "%016x %d\n", s.id, s.size); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
