package edge

import (
	"io"

	"github.com/shoal-cdn/shoal/cachestore"
	"github.com/shoal-cdn/shoal/cachestore/disk"
	"github.com/shoal-cdn/shoal/httpcache"
)

// A stale disk copy larger than the promote size is revalidated without its body in memory:
// the lookup keeps only its head (markDiskBodied), a 304 finds the same record again
// (staleDiskBody), streams its body to the fill's readers from the page cache, and has the
// disk tier write the record again with the freshened head, copying the body inside the tier
// (disk.PutFrom). A smaller copy was read whole and goes through memory's path unchanged:
// the 304 stores it in memory and writes it through to disk.

// markDiskBodied marks a stale disk copy whose body was left on disk. The mark is onDisk
// with no disk generation, which no stored object has: setObject and diskLookup give every
// object they mark onDisk the generation it was stored under.
func markDiskBodied(o *cachestore.Object) {
	o.Meta.OnDisk.Store(true)
}

// diskBodied reports whether o is a disk copy whose body is on disk only (Body is nil).
func diskBodied(o *cachestore.Object) bool {
	m := o.Meta
	return m != nil && o.Body == nil && m.DiskGen == 0 && m.OnDisk.Load()
}

// staleDiskBody finds record id, which the disk-bodied object o was read from, again, or
// nil when it is gone (evicted, purged, replaced since the lookup). The record is matched by
// its identity, not by o's response time: another record of the key can have the same one
// (the wall clock steps back or repeats, a copied record keeps it), and its body is not the
// one the origin's 304 validated. A record reclaim has copied forward is the same response
// in a new place: not found, so the fill fetches it whole, as for an evicted one. The caller
// closes the Handle.
func (p *pipeline) staleDiskBody(o *cachestore.Object, id disk.RecordID) *disk.Handle {
	if p.disk == nil {
		return nil
	}
	h, err := p.disk.d.GetNoHead(o.Key)
	if err != nil {
		return nil
	}
	if h.Record() != id {
		h.Close()
		return nil
	}
	return h
}

// serveStale answers from l.stale under stale-if-error (RFC 5861 section 4). It reports
// false when the object was a disk copy whose record has gone meanwhile.
func (p *pipeline) serveStale(x *exchange, l *lookup) bool {
	if !diskBodied(l.stale) {
		p.serveObject(x, l, l.stale, l.use)
		return true
	}
	h := p.staleDiskBody(l.stale, l.staleRecord)
	if h == nil {
		return false
	}
	p.serveDiskHandle(x, l, l.stale, l.use, h, false)
	return true
}

// refreshFromDisk completes a revalidation of a disk-bodied object (RFC 9111 section 4.3.4):
// it streams the stored body to the readers of j's Call under the freshened head h, which
// the caller has published, has the tier write the record again with that head, then
// finishes the Call. It takes body and reports whether the record was queued.
//
// A background revalidation (stale-while-revalidate) has no readers: its Call is joined by
// nobody else (revalidateInBackground), so the body is not read at all.
func (p *pipeline) refreshFromDisk(j *fillJob, h *fillHead, key string, body *disk.Handle, gen generations) bool {
	bufp := copyBuffers.Get().(*[]byte)
	defer copyBuffers.Put(bufp)
	r := body.Body()
	for j.revalidating == nil {
		k, err := r.Read(*bufp)
		if k > 0 {
			if _, werr := j.call.Write((*bufp)[:k]); werr != nil {
				body.Close() // the Call was aborted (fill timeout): nobody reads on
				return false
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			body.Close()
			p.metrics.fillsAborted.Inc()
			j.call.Finish(err)
			return false
		}
	}
	defer j.call.Finish(nil)
	if !h.decision.Store {
		body.Close()
		return false
	}
	old := j.stale
	obj := &cachestore.Object{Key: key, URL: old.URL, Status: old.Status, Header: httpcache.Pack(httpcache.StripUnstorable(h.header, h.decision)),
		RequestTime: cachestore.StampOf(h.reqTime), ResponseTime: cachestore.StampOf(h.respTime), Tags: cachestore.NewTags(surrogateKeys(h.header)...),
		Meta: cachestore.NewMeta(h.decision, h.header)}
	m := obj.Meta
	m.DiskGen = gen.disk
	p.rekeyed(j, key, h.vary)
	rec, ok := p.diskRecord(obj, m)
	if !ok {
		body.Close()
		return false
	}
	if p.disk.d.PutFrom(rec, body) {
		p.metrics.stored.Inc()
		return true
	}
	return false
}
