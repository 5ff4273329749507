package disk

import "io"

// bodySource is where the writer copies a body from that is not in memory.
type bodySource interface {
	io.ReaderAt
	io.Closer
}

// pending is one Put waiting for the writer, or a Wait marker.
type pending struct {
	rec   Record
	gen   uint64
	size  int64
	flush chan struct{} // a Wait marker instead of a record
	// body holds the body instead of rec.Body, bodyLen bytes from offset 0, which the writer
	// copies and then closes: a streamed record's unlinked spool file (Writer), or the Handle
	// of the record a revalidation refreshes (PutFrom).
	body     bodySource
	bodyLen  int64
	reserved int64 // the spool's room, released once it is closed (room.go)
	// room > 0 asks the writer to reclaim until that many bytes fit (askRoom).
	room int64
}

type rejectReason int

const (
	rejectAdmission rejectReason = iota // TinyLFU said no
	rejectQueue                         // the write queue was full
	rejectSize                          // larger than MaxObjectSize
	rejectLoading                       // it needed an eviction while the index was loading
	rejectRoom                          // a streamed record found no room: spools in flight hold it
	numRejects
)

func (r rejectReason) String() string {
	return [...]string{"admission", "queue", "size", "loading", "room"}[r]
}

// admits is TinyLFU's choice once the tier is full: the candidate must have been asked for
// AdmitFrequency times recently and more often than the object reclaim would drop next
// (the oldest segment's first live record not hit since written).
func (d *Disk) admits(key string) bool {
	f := d.admit.estimate(key)
	if f < d.cfg.AdmitFrequency {
		return false
	}
	victim, ok := d.victim()
	return !ok || f > d.admit.estimate(victim)
}

// victim looks at the first 64 records of the oldest segment for the next one to be evicted.
func (d *Disk) victim() (string, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if len(d.segs) == 0 {
		return "", false
	}
	s := d.segs[0]
	for _, e := range s.entries[:min(len(s.entries), 64)] {
		if d.index.get(e.key) == e && !e.hit.Load() {
			return e.key, true
		}
	}
	return "", false
}

// Put queues rec for writing and reports whether it was queued. It never blocks on I/O: a
// record is dropped when the tier is disabled or closed, larger than MaxObjectSize, refused
// by admission while the tier is full, or when the write queue holds QueueBytes already.
// rec.Head and rec.Body must not change afterwards.
func (d *Disk) Put(rec Record) bool {
	if d.disabled.Load() {
		return false
	}
	size := int64(headerSize + len(rec.Key) + len(rec.URL) + len(rec.Head) + len(rec.Body))
	for _, t := range rec.Tags {
		size += int64(2 + len(t))
	}
	if !d.accepts(rec.Key, size) {
		return false
	}
	gen := rec.Generation
	if gen == 0 {
		gen = d.gen.Load()
	}
	if d.queued.Add(size) > d.cfg.QueueBytes {
		d.queued.Add(-size)
		d.rejected[rejectQueue].Add(1)
		return false
	}
	p := &pending{rec: rec, gen: gen, size: size}
	d.closeMu.RLock()
	defer d.closeMu.RUnlock()
	if d.closed {
		d.queued.Add(-size)
		return false
	}
	select {
	case d.queue <- p:
		return true
	default:
		d.queued.Add(-size)
		d.rejected[rejectQueue].Add(1)
		return false
	}
}

// accepts checks a record of size bytes against MaxObjectSize and, once the tier is full,
// admission, counting a refusal.
func (d *Disk) accepts(key string, size int64) bool {
	if size > d.cfg.MaxObjectSize {
		d.rejected[rejectSize].Add(1)
		return false
	}
	// Full is sticky once reclaim has begun: it frees a segment at a time, and admitting
	// everything until that segment's room is used again would let a scan in.
	full := d.full.Load() || d.used.Load()+d.reserved.Load()+d.pinned.Load()+d.queued.Load()+size > d.cfg.Size
	if d.cfg.AdmitFrequency > 0 && full && !d.admits(key) {
		d.rejected[rejectAdmission].Add(1)
		return false
	}
	return true
}

// PutFrom queues rec with the body of h, an object Get returned, and reports whether it was
// queued. The writer goroutine copies the body from h's segment: a revalidated object (RFC
// 9111 section 4.3.4, a 304 that freshens the stored head) gets its new head without its
// body passing through memory. rec.Body is ignored. PutFrom takes h: it is closed once the
// copy is done or the record dropped, for the same reasons as Put's.
func (d *Disk) PutFrom(rec Record, h *Handle) bool {
	if d.disabled.Load() {
		h.Close()
		return false
	}
	size := int64(headerSize+len(rec.Key)+len(rec.URL)+len(rec.Head)) + h.bodyLen
	for _, t := range rec.Tags {
		size += int64(2 + len(t))
	}
	if !d.accepts(rec.Key, size) {
		h.Close()
		return false
	}
	gen := rec.Generation
	if gen == 0 {
		gen = d.gen.Load()
	}
	rec.Body = nil
	p := &pending{rec: rec, gen: gen, body: h, bodyLen: h.bodyLen}
	d.closeMu.RLock()
	defer d.closeMu.RUnlock()
	if !d.closed {
		select {
		case d.queue <- p:
			return true
		default:
			d.rejected[rejectQueue].Add(1)
		}
	}
	h.Close()
	return false
}

// Wait returns when every Put queued before it has been written or dropped. For tests and
// for an orderly handover; the request path never needs it.
func (d *Disk) Wait() {
	done := make(chan struct{})
	d.closeMu.RLock()
	if d.closed {
		d.closeMu.RUnlock()
		return
	}
	d.queue <- &pending{flush: done}
	d.closeMu.RUnlock()
	<-done
}
