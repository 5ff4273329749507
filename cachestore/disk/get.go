package disk

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/cespare/xxhash/v2"
)

// Get returns the object stored under key, or one of ErrNotFound, ErrLoading, ErrDisabled,
// ErrCorrupt. The first Get of an object loaded from disk reads and checksums the whole
// record; a mismatch drops the object. The caller must Close the Handle.
func (d *Disk) Get(key string) (*Handle, error) { return d.get(key, true) }

// GetNoHead is Get without reading the stored response head (a pread(2) per call): the
// Handle's Head is nil unless this Get verified the record and so has it anyway; ReadHead
// reads it. For a caller that keeps what it decoded from a head by Handle.Record.
func (d *Disk) GetNoHead(key string) (*Handle, error) { return d.get(key, false) }

func (d *Disk) get(key string, head bool) (*Handle, error) {
	start := time.Now()
	d.admit.touch(key)
	if d.disabled.Load() {
		return nil, ErrDisabled
	}
	if d.loading.Load() {
		return nil, ErrLoading
	}
	d.mu.RLock()
	e := d.index.get(key)
	if e != nil {
		e.seg.hold(e.off, e.size) // under mu: a reclaim cannot drop the store's reference in between
	}
	d.mu.RUnlock()
	if e == nil {
		d.misses.Add(1)
		return nil, ErrNotFound
	}
	h := &Handle{Key: e.key, URL: e.url(), Tags: e.tags, RequestTime: fromNano(e.reqTime),
		ResponseTime: fromNano(e.respTime), Expires: fromNano(e.expires), Generation: e.gen, SoftPurged: e.soft.Load(),
		d: d, seg: e.seg, recOff: e.off, headOff: e.off + e.headOff, bodyOff: e.off + e.headOff + e.headLen, bodyLen: e.bodyLen}
	if !e.verified.Load() {
		rec, bp, err := d.verifyRecord(e)
		switch {
		case errors.Is(err, errBadRecord):
			e.seg.unhold(e.off)
			d.corrupt.Add(1)
			d.drop(e)
			d.log.Warn("disk: checksum mismatch, object dropped", "key", key, "segment", e.seg.path, "offset", e.off)
			return nil, ErrCorrupt
		case err != nil:
			e.seg.unhold(e.off)
			d.disable("read", err)
			return nil, ErrDisabled
		}
		e.verified.Store(true)
		if rec != nil {
			// The body was just read: the Handle serves ReadAt from these bytes, not a
			// second read of the file, and gives the buffer back to the pool at Close.
			h.mem, h.memBuf = rec[e.headOff+e.headLen:], bp
			h.Head = append([]byte(nil), rec[e.headOff:e.headOff+e.headLen]...) // not the whole record's buffer
		}
	}
	if h.Head == nil && head {
		if _, err := h.ReadHead(); err != nil {
			e.seg.unhold(e.off)
			d.disable("read", err)
			return nil, ErrDisabled
		}
	}
	e.hit.Store(true)
	d.hits.Add(1)
	d.met.read.Observe(time.Since(start).Seconds())
	return h, nil
}

// drop removes e from the index if it is still what its key maps to.
func (d *Disk) drop(e *entry) {
	d.mu.Lock()
	if d.index.remove(e) {
		d.objects.Add(-1)
	}
	d.mu.Unlock()
}

// KeysWithPrefix returns up to limit indexed keys that start with prefix, in byte order; none
// while the index loads or when the tier is disabled. It costs a B-tree seek and the keys
// returned. The edge uses it to find the variants of a URL whose Vary memory has forgotten
// (after a restart), since a variant's key is its URL, a NUL byte and its secondary key.
func (d *Disk) KeysWithPrefix(prefix string, limit int) []string {
	if d.disabled.Load() || d.loading.Load() || limit <= 0 {
		return nil
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.index.withPrefix(prefix, limit)
}

// keepMax is the largest record whose bytes the first Get after a load keeps for the
// Handle: the edge reads bodies this small into memory anyway. Records are checksummed
// through pooled buffers of verifyChunk bytes, so the first Get of a 1 GiB object does not
// allocate 1 GiB, and restart-to-warm, where every object's first Get verifies, makes no
// garbage per object.
const (
	keepMax     = verifyChunk
	verifyChunk = 256 << 10
)

var verifyBufs = sync.Pool{New: func() any { b := make([]byte, verifyChunk); return &b }}

// verifyRecord reads e's record and checks its whole-record checksum: errBadRecord on a
// mismatch, an I/O error otherwise. When the record is no larger than keepMax it returns
// its bytes, in the pooled buffer bp that the caller puts back when done with them.
func (d *Disk) verifyRecord(e *entry) (rec []byte, bp *[]byte, err error) {
	bp = verifyBufs.Get().(*[]byte)
	buf := *bp
	if e.size <= keepMax {
		rec = buf[:e.size]
		if _, err := e.seg.f.ReadAt(rec, e.off); err != nil {
			verifyBufs.Put(bp)
			return nil, nil, err
		}
		if recordSum(rec) != e.sum {
			verifyBufs.Put(bp)
			return nil, nil, errBadRecord
		}
		return rec, bp, nil
	}
	defer verifyBufs.Put(bp)
	dig := xxhash.New()
	for done := int64(0); done < e.size; {
		n := min(int64(len(buf)), e.size-done)
		if _, err := e.seg.f.ReadAt(buf[:n], e.off+done); err != nil {
			return nil, nil, err
		}
		p := buf[:n]
		if done == 0 { // the header's own checksums are not covered (recordSum)
			if n < headerSize {
				return nil, nil, fmt.Errorf("short record: %w", errBadRecord)
			}
			dig.Write(p[:64])
			p = p[headerSize:]
		}
		dig.Write(p)
		done += n
	}
	if dig.Sum64() != e.sum {
		return nil, nil, errBadRecord
	}
	return nil, nil, nil
}
