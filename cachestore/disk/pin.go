package disk

import (
	"slices"
	"sync"
	"sync/atomic"
)

// A reclaimed segment is unlinked at once, but its file lives on while a Handle reads from
// it (a slow client's sendfile can take minutes), and a 1 GiB segment kept whole for one
// 64 KiB body is 1 GiB the file system has and Size does not show. So a reclaimed segment
// keeps only the records open Handles read: everything else is punched out of the file
// (fallocate FALLOC_FL_PUNCH_HOLE), and the rest again as each Handle closes. What stays
// allocated, block-aligned, is counted in Disk.pinned, which claims count against Size
// with the segments and the spools; it drops to zero when the last Handle closes. A file
// system that cannot punch holes keeps the whole file pinned until then.

// pinBlock is the allocation unit assumed when counting what a held range keeps allocated.
const pinBlock = 4 << 10

// holds tracks the records of one segment that open Handles read. Its own lock: Get and
// Handle.Close take it without Disk.mu.
type holds struct {
	mu     sync.Mutex
	n      map[int64]int32 // record offset -> open Handles
	size   map[int64]int64 // record offset -> record bytes
	gone   bool            // reclaimed: unlinked, punched
	pinned int64           // bytes of this file counted in Disk.pinned
	punch  bool            // the file system punches holes (false after one failed)
}

// hold notes a Handle on the record [off, off+size) and takes a reference to the file.
// Called under Disk.mu (read), as the reference is, so reclaim cannot slip in between.
func (s *segment) hold(off, size int64) {
	s.refs.Add(1)
	s.h.mu.Lock()
	if s.h.n == nil {
		s.h.n, s.h.size = map[int64]int32{}, map[int64]int64{}
	}
	s.h.n[off]++
	s.h.size[off] = size
	s.h.mu.Unlock()
}

// unhold ends a Handle on the record at off: on a reclaimed segment the bytes no other
// Handle reads leave the file, and the pin shrinks to what is still read. Then the
// reference is dropped (the last one closes the file and releases the rest of the pin).
func (s *segment) unhold(off int64) {
	s.h.mu.Lock()
	if s.h.n[off]--; s.h.n[off] <= 0 {
		delete(s.h.n, off)
		delete(s.h.size, off)
		if s.h.gone {
			s.repin()
		}
	}
	s.h.mu.Unlock()
	s.release()
}

// unpin is called once a segment leaves the store: its file is unlinked and what no Handle
// reads is punched out. pinned is where the tier counts the bytes still allocated.
// The caller has already counted the whole file in pinned.
func (s *segment) unpin(pinned *atomic.Int64) {
	s.h.mu.Lock()
	defer s.h.mu.Unlock()
	s.h.gone, s.h.punch, s.pin = true, true, pinned
	s.h.pinned = s.size
	if len(s.h.n) == 0 {
		return // no reader: the store's release, next, closes the file and frees it whole
	}
	s.repin()
}

// repin punches out every byte of the segment no held record needs (whole blocks only) and
// sets the pin to the blocks the held records touch. Under s.h.mu, on a reclaimed segment.
func (s *segment) repin() {
	type span struct{ lo, hi int64 }
	spans := make([]span, 0, len(s.h.n))
	for off := range s.h.n {
		spans = append(spans, span{off / pinBlock * pinBlock, (off + s.h.size[off] + pinBlock - 1) / pinBlock * pinBlock})
	}
	slices.SortFunc(spans, func(a, b span) int { return int(a.lo - b.lo) })
	var keep, at int64
	fd, canPunch := s.f.(interface{ Fd() uintptr })
	gap := func(lo, hi int64) {
		if hi > lo && s.h.punch && canPunch {
			err := punchHole(fd.Fd(), lo, hi-lo)
			if err != nil {
				s.h.punch = false // EOPNOTSUPP, or the file system failing: the file stays whole
			}
		}
	}
	for _, sp := range spans {
		if sp.lo > at {
			gap(at, sp.lo)
		}
		keep += max(sp.hi, at) - max(sp.lo, at)
		at = max(at, sp.hi)
	}
	end := (s.size + pinBlock - 1) / pinBlock * pinBlock
	gap(at, end)
	if !s.h.punch || !canPunch {
		keep = end
	}
	s.pin.Add(keep - s.h.pinned)
	s.h.pinned = keep
}

// dropPin gives back what the file still had pinned, when its last reference closes it.
func (s *segment) dropPin() {
	s.h.mu.Lock()
	if s.pin != nil {
		s.pin.Add(-s.h.pinned)
	}
	s.h.pinned = 0
	s.h.mu.Unlock()
}
