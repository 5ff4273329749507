package disk

import "time"

// Get returns the object stored under key, or one of ErrNotFound, ErrLoading, ErrDisabled,
// ErrCorrupt. The first Get of an object loaded from disk reads and checksums the whole
// record; a mismatch drops the object. The caller must Close the Handle.
func (d *Disk) Get(key string) (*Handle, error) {
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
		seg: e.seg, recOff: e.off, bodyOff: e.off + e.headOff + e.headLen, bodyLen: e.bodyLen}
	if e.verified.Load() {
		h.Head = make([]byte, e.headLen)
		if _, err := e.seg.f.ReadAt(h.Head, e.off+e.headOff); err != nil {
			e.seg.unhold(e.off)
			d.disable("read", err)
			return nil, ErrDisabled
		}
	} else {
		rec := make([]byte, e.size)
		if _, err := e.seg.f.ReadAt(rec, e.off); err != nil {
			e.seg.unhold(e.off)
			d.disable("read", err)
			return nil, ErrDisabled
		}
		if recordSum(rec) != e.sum {
			e.seg.unhold(e.off)
			d.corrupt.Add(1)
			d.drop(e)
			d.log.Warn("disk: checksum mismatch, object dropped", "key", key, "segment", e.seg.path, "offset", e.off)
			return nil, ErrCorrupt
		}
		e.verified.Store(true)
		h.Head = append([]byte(nil), rec[e.headOff:e.headOff+e.headLen]...) // not the whole record's buffer
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
