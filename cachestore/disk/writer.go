package disk

import (
	"errors"
	"fmt"
	"os"
	"time"
)

// writeLoop is the only goroutine that appends to segments and reclaims them, so appends
// need no lock of their own; Disk.mu guards only what Get and AddBan also see.
// While a failure keeps the tier off, it also probes the directory (revive.go).
func (d *Disk) writeLoop() {
	defer d.wg.Done()
	defer d.retry.stop()
	for {
		d.retry.arm(d)
		select {
		case p, ok := <-d.queue:
			if !ok {
				return
			}
			d.handle(p)
		case <-d.wake: // a failure turned the tier off: arm, above
		case <-d.retry.c:
			d.retry.c = nil
			d.probe()
		}
	}
}

// handle runs one request of the queue.
func (d *Disk) handle(p *pending) {
	if p.flush != nil {
		close(p.flush)
		return
	}
	d.queued.Add(-p.size)
	switch {
	case p.room > 0:
		d.roomAsked.Store(false)
		if !d.disabled.Load() {
			d.reclaimUntil(func() bool { return d.used.Load()+d.reserved.Load()+d.pinned.Load()+p.room <= d.cfg.Size })
		}
	case p.body != nil:
		if !d.disabled.Load() {
			d.writeSpool(p)
		}
		p.body.Close()
		d.unclaim(p.reserved)
	case !d.disabled.Load():
		d.write(p)
	}
}

var (
	errNoRoom    = errors.New("no room while the index loads")
	errSpoolRoom = errors.New("no room: spools in flight or open Handles on reclaimed segments hold it")
)

func (d *Disk) write(p *pending) {
	start := time.Now()
	hdr, err := encodeHeader(&p.rec, p.gen)
	if err != nil {
		d.rejected[rejectSize].Add(1)
		return
	}
	m, err := decodeHeader(hdr, 1<<62)
	if err == nil {
		err = decodeMeta(m, hdr, hdr[headerSize:])
	}
	if err != nil {
		d.log.Error("disk: record does not decode", "key", p.rec.Key, "err", err) // a bug, not an input
		return
	}
	n := m.size()
	if !d.roomFor(n) {
		return
	}
	seg, off, err := d.appendRecord(n, append(hdr, p.rec.Head...), p.rec.Body)
	if err != nil {
		d.disable("write", err)
		return
	}
	e := newEntry(m, seg, off)
	e.verified.Store(true) // written by this process: what the page cache holds is what we wrote
	d.index1(e)
	d.met.write.Observe(time.Since(start).Seconds())
}

// index1 publishes e unless a ban made since its fill started matches it.
func (d *Disk) index1(e *entry) {
	d.mu.Lock()
	defer d.mu.Unlock()
	e.seg.entries = append(e.seg.entries, e)
	e.seg.minGen = min(e.seg.minGen, e.gen)
	switch d.bans.judge(e) {
	case hardPurge:
		d.refused.Add(1)
		return
	case softPurge:
		e.soft.Store(true)
	}
	if d.index.put(e) {
		d.objects.Add(1)
	}
}

// appendRecord writes the parts of one record of n bytes at the end of the active segment,
// sealing it first if the record would overflow it.
func (d *Disk) appendRecord(n int64, parts ...[]byte) (*segment, int64, error) {
	s, err := d.segmentFor(n)
	if err != nil {
		return nil, 0, err
	}
	off := s.size // only this goroutine changes s.size
	pos := off
	for _, p := range parts {
		if _, err := s.f.WriteAt(p, pos); err != nil {
			return nil, 0, fmt.Errorf("appending to %s: %w", s.path, err)
		}
		pos += int64(len(p))
	}
	d.appended(s, off, pos)
	return s, off, nil
}

// segmentFor returns the segment a record of n bytes is appended to: the active one, or a
// new one when it would overflow.
func (d *Disk) segmentFor(n int64) (*segment, error) {
	d.mu.RLock()
	s := d.active
	d.mu.RUnlock()
	if s == nil || (s.size > 0 && s.size+n > d.cfg.SegmentSize) {
		return d.rotate()
	}
	return s, nil
}

// appended publishes the bytes [off, pos) written at the end of s.
func (d *Disk) appended(s *segment, off, pos int64) {
	d.mu.Lock()
	s.size = pos
	d.mu.Unlock()
	d.settle(pos - off) // claimed by makeRoom or reclaim
	s.startWriteback(pos)
	d.checkpoint(s, pos)
}

// rotate seals the active segment (fsync, so only the newest segment can hold a torn record
// after a crash) and opens the next one.
func (d *Disk) rotate() (*segment, error) {
	d.mu.RLock()
	old := d.active
	d.mu.RUnlock()
	if old != nil {
		if err := old.f.Sync(); err != nil {
			return nil, fmt.Errorf("sealing %s: %w", old.path, err)
		}
	}
	path := segmentPath(d.cfg.Path, d.nextID)
	f, err := d.cfg.fs.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, fmt.Errorf("creating segment: %w", err)
	}
	// Its own file system's: the directory may have been remounted since the last one.
	s := &segment{id: d.nextID, path: path, f: f, minGen: ^uint64(0), memory: memoryBacked(path)}
	s.refs.Store(1)
	d.nextID++
	d.mu.Lock()
	d.segs = append(d.segs, s)
	d.active = s
	d.mu.Unlock()
	return s, nil
}

// roomFor makes room for and claims a record of n bytes, counting a refusal; false: drop it.
func (d *Disk) roomFor(n int64) bool {
	err := d.makeRoom(n)
	switch {
	case err == nil:
		return true
	case errors.Is(err, errNoRoom):
		d.rejected[rejectLoading].Add(1)
	case errors.Is(err, errSpoolRoom):
		d.rejected[rejectRoom].Add(1)
	default:
		d.disable("reclaim", err)
	}
	return false
}

// makeRoom reclaims the oldest segments until n more bytes fit in Size, and claims them: the
// append that follows settles the claim.
func (d *Disk) makeRoom(n int64) error {
	return d.reclaimUntil(func() bool { return d.claim(n) })
}

// reclaimUntil reclaims the oldest segments until fits reports true.
func (d *Disk) reclaimUntil(fits func() bool) error {
	for !fits() {
		if d.loading.Load() {
			return errNoRoom // the loader still adds entries to the oldest segments
		}
		d.mu.Lock()
		if len(d.segs) == 0 {
			d.mu.Unlock()
			if d.reserved.Load() > 0 || d.pinned.Load() > 0 {
				return errSpoolRoom // held until spools finish and Handles close: refuse this one
			}
			// Spools and Handles may have given their room back since fits failed: only a
			// record that still does not fit with nothing else held is a fault (roomFor
			// disables on it).
			if fits() {
				return nil
			}
			return fmt.Errorf("record does not fit in %d bytes", d.cfg.Size)
		}
		d.full.Store(true)
		s := d.segs[0]
		if s == d.active {
			d.active = nil // the next append opens a new segment
		}
		d.segs = d.segs[1:]
		d.mu.Unlock()
		if err := d.reclaim(s); err != nil {
			return err
		}
		// Reclaim is when old generations leave the disk, and so when bans can be forgotten;
		// without this, every Delete would stay in memory and in the log for good.
		d.mu.RLock()
		many := len(d.banList) > d.maxBans
		d.mu.RUnlock()
		if many {
			d.compactBans()
		}
	}
	return nil
}

// maxBans is how long the ban list may grow before reclaim tries to compact it.
const maxBans = 4096

// reclaim drops segment s (already out of d.segs): its live records leave the index, except
// those hit since they were written and still fresh, up to half the segment's bytes, which
// are copied to the active segment (FIFO with re-insertion, a CLOCK on segments).
func (d *Disk) reclaim(s *segment) error {
	// The file goes before its room is released: a Writer may claim that room at once, and
	// its spool must not sit beside a segment still in the directory. The records kept for
	// re-insertion and open Handles read through the open descriptor.
	if err := os.Remove(s.path); err != nil && !os.IsNotExist(err) {
		d.log.Warn("disk: removing reclaimed segment", "path", s.path, "err", err)
	}
	now := time.Now().UnixNano()
	var keep []*entry
	var keepBytes int64
	d.mu.Lock()
	for _, e := range s.entries {
		if d.index.get(e.key) != e {
			continue // replaced, banned or dropped since
		}
		if e.hit.Load() && (e.expires == 0 || e.expires > now) && keepBytes+e.size <= s.size/2 {
			keep = append(keep, e) // stays indexed at its old place until copied
			keepBytes += e.size
			continue
		}
		d.index.remove(e)
		d.objects.Add(-1)
		d.evictions.Add(1)
	}
	// The copies are claimed as the segment is released, so no Writer takes their room. The
	// file is still on disk, whole, until the copies are made and unpin punches out what no
	// Handle reads: it moves from used to pinned (pin.go), and pinned shrinks from there.
	d.roomMu.Lock()
	d.used.Add(-s.size)
	d.pinned.Add(s.size)
	d.reserved.Add(keepBytes)
	d.roomMu.Unlock()
	d.mu.Unlock()
	defer func() {
		s.unpin(&d.pinned)
		s.release()
	}()
	for i, e := range keep {
		if err := d.reinsert(e); err != nil {
			for _, e := range keep[i:] {
				d.unclaim(e.size)
				d.drop(e) // unpin is about to punch its bytes out of the file
			}
			return err
		}
	}
	return nil
}

// reinsert copies e's record bytes, unchanged, to the active segment.
func (d *Disk) reinsert(e *entry) error {
	rec := make([]byte, e.size)
	if _, err := e.seg.f.ReadAt(rec, e.off); err != nil {
		return fmt.Errorf("re-inserting from %s: %w", e.seg.path, err)
	}
	if recordSum(rec) != e.sum {
		d.unclaim(e.size)
		d.corrupt.Add(1)
		d.drop(e)
		return nil
	}
	seg, off, err := d.appendRecord(e.size, rec)
	if err != nil {
		return err
	}
	ne := &entry{key: e.key, urlv: e.urlv, tags: e.tags, seg: seg, off: off, size: e.size,
		headOff: e.headOff, headLen: e.headLen, bodyLen: e.bodyLen, reqTime: e.reqTime,
		respTime: e.respTime, expires: e.expires, gen: e.gen, sum: e.sum}
	ne.verified.Store(true)
	ne.soft.Store(e.soft.Load())
	d.mu.Lock()
	defer d.mu.Unlock()
	seg.entries = append(seg.entries, ne)
	seg.minGen = min(seg.minGen, ne.gen)
	if d.index.get(e.key) == e { // not banned, replaced or dropped while copying
		d.index.put(ne)
		d.reinserted.Add(1)
	}
	return nil
}
