package disk

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// load rebuilds the index from the segments that existed at Open, oldest first, then
// compacts the ban log. Records a ban matches are not indexed: a purge made while the node
// was down is applied before anything loaded is served.
func (d *Disk) load(segs []*segment, done chan struct{}) {
	defer d.wg.Done()
	defer close(done)
	defer d.loading.Store(false)
	start := time.Now()
	if !d.loadAll(segs) {
		return
	}
	d.verifiedAll(segs)
	d.verified.Store(true)
	d.compactBans()
	if d.used.Load() > d.cfg.Size-2*d.cfg.SegmentSize {
		d.full.Store(true)
	}
	d.log.Info("disk: index loaded", "path", d.cfg.Path, "segments", len(segs), "objects", d.objects.Load(),
		"bytes", d.used.Load(), "took", time.Since(start))
	if d.used.Load() > d.cfg.Size {
		// Size was lowered since these segments were written: reclaim down to it now, not at
		// the next write, which a node serving hits only may never make. The writer reclaims
		// only once loading is over (reclaimUntil).
		d.loading.Store(false)
		d.askRoom(1)
	}
}

// loadAll scans segs with up to loadWorkers goroutines, newest first, and reports whether
// every one was indexed. Order does not matter to the index: a record replaces the key's entry
// only if it is in the same segment or a newer one (indexLoaded), as a sequential scan
// oldest first would leave it. The newest segment goes first because it is the one a crash
// most often leaves to be read whole (verify.go), and reading in parallel keeps several
// reads in flight on a cold page cache. A failure disables the tier and stops the others.
func (d *Disk) loadAll(segs []*segment) bool {
	workers := min(len(segs), max(runtime.GOMAXPROCS(0), 2), loadWorkers)
	next := make(chan int, len(segs))
	for i := len(segs) - 1; i >= 0; i-- {
		next <- i
	}
	close(next)
	var failed atomic.Bool
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, loadChunk) // one per worker, not per segment
			for i := range next {
				select {
				case <-d.stop:
					failed.Store(true)
					return
				default:
				}
				if failed.Load() {
					return
				}
				s := segs[i]
				from, ok := d.verify[s.id]
				if !ok {
					from = -1
				}
				if err := d.loadSegment(s, from, buf); err != nil {
					failed.Store(true)
					d.disable("load", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	return !failed.Load()
}

// loadWorkers bounds the goroutines that scan segments at load.
const loadWorkers = 8

// loadSegment indexes the records of s. From offset verifyFrom on (a segment a crash may
// have torn, past its last sync checkpoint: verify.go, synced.go) every record's checksum is
// verified; before it, and everywhere when verifyFrom is negative (sealed segments, fsynced
// when sealed, and the newest after a clean Close: clean.go), the header and metadata, and
// the body on first Get. The first bad record ends the segment: it and everything after it
// are cut off. buf is the caller's read buffer (loadChunk bytes).
func (d *Disk) loadSegment(s *segment, verifyFrom int64, buf []byte) error {
	end := s.size
	var off int64
	var bad error
	r := &segReader{f: s.f, end: end, buf: buf}
	var batch []*entry
	for off < end {
		hdr, err := r.at(off, headerSize)
		if err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				bad = fmt.Errorf("short header: %w", errBadRecord)
				break
			}
			return fmt.Errorf("reading %s: %w", s.path, err)
		}
		m, err := decodeHeader(hdr, end-off)
		if err != nil {
			bad = err
			break
		}
		// Header and metadata are read again as one slice (most often the same chunk, no
		// copy): the read may have replaced the chunk hdr pointed into.
		verifyAll := verifyFrom >= 0 && off >= verifyFrom
		n := headerSize + m.metaLen
		if verifyAll {
			n = m.size()
		}
		rec, err := r.at(off, n)
		if err != nil {
			return fmt.Errorf("reading %s: %w", s.path, err)
		}
		if verifyAll && recordSum(rec) != m.sum {
			bad = fmt.Errorf("record checksum: %w", errBadRecord)
			break
		}
		if err := decodeMeta(m, rec[:headerSize], rec[headerSize:headerSize+m.metaLen]); err != nil { // copies what it keeps
			bad = err
			break
		}
		e := newEntry(m, s, off)
		e.verified.Store(verifyAll)
		if batch = append(batch, e); len(batch) == 256 {
			d.indexLoaded(s, batch)
			batch = batch[:0]
		}
		off += m.size()
		r.big = m.size() > loadPeek
	}
	d.indexLoaded(s, batch)
	if off < end {
		d.log.Warn("disk: cutting a segment at its first bad record", "path", s.path, "offset", off,
			"dropped_bytes", end-off, "err", bad)
		if err := s.f.Truncate(off); err != nil {
			return fmt.Errorf("truncating %s: %w", s.path, err)
		}
		if err := s.f.Sync(); err != nil { // it is no longer the newest: make the cut last
			return fmt.Errorf("syncing %s: %w", s.path, err)
		}
		d.mu.Lock()
		s.size = off
		d.mu.Unlock()
		d.used.Add(off - end)
		d.cut.Add(end - off)
	}
	return nil
}

// indexLoaded publishes loaded entries of s, in segment order, under one lock: a ban added
// meanwhile has either already been judged against them here or scans them in the index.
func (d *Disk) indexLoaded(s *segment, batch []*entry) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, e := range batch {
		s.entries = append(s.entries, e)
		s.minGen = min(s.minGen, e.gen)
		v := d.bans.judge(e)
		if v == hardPurge {
			continue
		}
		e.soft.Store(v == softPurge)
		if old := d.index.get(e.key); old != nil && old.seg.id > s.id {
			continue // a Put made while loading is newer
		}
		if d.index.put(e) {
			d.objects.Add(1)
		}
	}
}

// loadChunk is how much of a segment the loader reads at once: the headers of small records
// come many to a read instead of two preads each.
const loadChunk = 1 << 20

// loadPeek is what the loader reads at a header that follows a large record: the header,
// and the key, URL and tags of most records.
const loadPeek = 4 << 10

// segReader serves reads of a segment from a chunk read ahead, or directly when they are
// larger than a chunk. A returned slice is valid until the next call.
type segReader struct {
	f        file
	end      int64
	buf      []byte
	off, len int64 // what buf holds
	big      bool  // the last record was larger than loadPeek: peek at the next header
}

func (r *segReader) at(off, n int64) ([]byte, error) {
	if off >= r.off && off+n <= r.off+r.len {
		return r.buf[off-r.off : off-r.off+n], nil
	}
	if off+n > r.end {
		return nil, io.ErrUnexpectedEOF
	}
	if n > int64(len(r.buf)) {
		p := make([]byte, n)
		if _, err := r.f.ReadAt(p, off); err != nil {
			return nil, err
		}
		return p, nil
	}
	// After a record larger than a peek, the next header is read with a peek instead of a
	// chunk: a chunk would mostly hold the body after it, which loading does not need
	// (64 KiB records: 16 MB read for 4,000 instead of 256 MB).
	want := int64(len(r.buf))
	if r.big && n <= loadPeek {
		want = loadPeek
	}
	m, err := r.f.ReadAt(r.buf[:min(want, r.end-off)], off)
	r.off, r.len = off, int64(m)
	if int64(m) < n {
		if err == nil || errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return r.buf[:n], nil
}

// compactBans rewrites the ban log without the bans no record on disk is old enough to
// match (a ban matches only generations below its own), once the log has grown.
func (d *Disk) compactBans() {
	d.banMu.Lock()
	defer d.banMu.Unlock()
	d.mu.Lock()
	defer d.mu.Unlock()
	minGen := ^uint64(0)
	for _, s := range d.segs {
		minGen = min(minGen, s.minGen)
	}
	var keep []*Ban
	var floor uint64
	for _, b := range d.banList {
		if b.Generation > minGen {
			keep = append(keep, b)
		} else {
			floor = max(floor, b.Generation)
		}
	}
	if len(keep) == len(d.banList) {
		return
	}
	if err := d.banlog.rewrite(keep, d.gen.Load()); err != nil {
		d.log.Warn("disk: compacting ban log", "err", err) // the old log is still whole
		return
	}
	d.banList = keep
	d.bans = newBanSet()
	d.bans.floor = floor // a late Put filled before a forgotten ban is refused
	for _, b := range keep {
		d.bans.add(b)
	}
}
