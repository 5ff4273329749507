package edge

import (
	"errors"
	"io"
	"net/http"
	"os"
	"syscall"

	"github.com/shoal-cdn/shoal/cachestore"
	"github.com/shoal-cdn/shoal/cachestore/disk"
	"github.com/shoal-cdn/shoal/httpcache"
)

// diskLookup answers a memory miss from the disk tier when it holds a copy: it reports the
// request's result and true, or false to go on to the origin (nothing on disk, tier loading
// or disabled, unreadable, not storable). A copy no larger than the promote size is read
// into memory; fresh, it is stored there again and served like any memory hit. A larger one
// is served from its segment file (sendfile on HTTP/1.1, see diskFile), and what its head
// decodes to is kept by record, so its next fresh hit decodes nothing (diskmeta.go).
//
// A stale copy takes the memory object's path (RFC 9111 section 4.3, RFC 5861): served at
// once and revalidated in the background under stale-while-revalidate (and when soft-purged),
// otherwise validated with a conditional request first (diskrevalidate.go), and served on an
// origin error under stale-if-error.
//
// Cache-Status is the memory hit's, with detail "<node>/disk".
//
// A fresh hit is served before handle returns and keeps nothing of l, as a memory hit does;
// every other path that reports true owns l first (lookup.own): a revalidation or a fill
// outlives the request's scratch. On false the caller owns l.
func (p *pipeline) diskLookup(x *exchange, l *lookup) (string, bool) {
	t := p.disk
	if t == nil || !t.ready.Load() {
		return "", false
	}
	// Read before Get: a purge after these refuses the promoted copy in memory and, should
	// memory evict it again, on disk (see diskBan).
	gen := p.begin()
	h, err := t.d.GetNoHead(l.key) // the head only when not decoded already (diskmeta.go)
	if errors.Is(err, disk.ErrNotFound) && len(l.vary) == 0 {
		l.own()                      // memory's Vary record keeps the URL
		h, err = p.diskVariant(x, l) // memory forgot the URL's Vary (diskvary.go)
	}
	if err != nil {
		return "", false
	}
	if h.Key != l.key {
		h.Close()
		return "", false
	}
	small := h.BodyLength() <= t.promote
	if !small {
		if obj := t.metas.find(h.Record(), l.rt); obj != nil {
			if use := p.diskUse(l, h, obj); use.State == httpcache.Fresh {
				p.diskHit(l)
				p.serveDiskHandle(x, l, obj, use, h, true)
				return "hit", true
			}
			// Stale: the paths below may mark or keep the object; they get one of their own.
		}
	}
	obj, use, ok := p.diskObject(l, h)
	if !ok {
		h.Close()
		return "", false
	}
	if small {
		body := make([]byte, h.BodyLength())
		_, err := h.ReadAt(body, 0)
		h.Close()
		if err != nil {
			return "", false
		}
		obj.Body = body
	} else {
		markDiskBodied(obj)
	}
	l.staleRecord = h.Record() // for staleDiskBody, should a revalidation need the body again
	switch use.State {
	case httpcache.Fresh:
		p.diskHit(l)
		if !small {
			kept := t.metas.keep(h.Record(), l.rt, obj)
			p.serveDiskHandle(x, l, obj, use, h, kept)
			return "hit", true
		}
		obj.Generation = gen.memory
		meta := obj.Meta
		meta.DiskGen = gen.disk
		meta.OnDisk.Store(true)
		obj.Compact() // as a fill stores it: one allocation less, and charged so (Cost)
		p.store.Set(obj)
		p.serveObject(x, l, obj, use)
		return "hit", true
	case httpcache.StaleWhileRevalidate:
		l.own()
		p.diskHit(l)
		if small {
			p.serveObject(x, l, obj, use)
		} else {
			p.serveDiskHandle(x, l, obj, use, h, false)
		}
		p.revalidateInBackground(x, l, obj)
		return "stale", true
	}
	if !small {
		h.Close() // the revalidation finds the body again (staleDiskBody)
	}
	l.own()
	if use.OnlyIfCached {
		return p.gatewayTimeoutOnlyIfCached(x, l), true
	}
	l.stale, l.use = obj, use
	if use.TTL > 0 && !obj.Meta.NoCache() {
		l.status.serve(fwdRequest) // as for memory: the request's own directives refused a fresh copy
	} else {
		l.status.serve(fwdStale)
	}
	return p.fill(x, l, false), true
}

func (p *pipeline) diskHit(l *lookup) {
	l.status.diskHitDetail(p.disk.detail)
	p.metrics.hits.Inc()
}

// diskHitDetail is cacheOutcome.diskHit with its detail ("<node>/disk") made once, when the
// tier opened, instead of a string per hit.
func (o *cacheOutcome) diskHitDetail(detail string) { o.served, o.detail = servedHit, detail }

// diskObject rebuilds the stored response of a disk record (reading its head if the Handle
// has none) and evaluates it for this request. It reports false when the head cannot be
// read or decoded or is not a storable response.
func (p *pipeline) diskObject(l *lookup, h *disk.Handle) (*cachestore.Object, httpcache.Use, bool) {
	head, err := h.ReadHead()
	if err != nil {
		return nil, httpcache.Use{}, false
	}
	status, header, err := decodeHandleHead(head)
	if err != nil {
		return nil, httpcache.Use{}, false
	}
	resp := httpcache.Response{Status: status, Header: header, RequestTime: h.RequestTime, ResponseTime: h.ResponseTime}
	// The request side of the storing decision was taken at fill time; what the response
	// says is all a hit needs (freshness, no-cache fields), as for an adopted copy.
	d := l.rt.policy.Storable(httpcache.Request{Method: "GET"}, resp)
	if !d.Store {
		return nil, httpcache.Use{}, false
	}
	meta := cachestore.NewMeta(d, header)
	obj := &cachestore.Object{Key: h.Key, URL: h.URL, Status: int32(status), Header: httpcache.Pack(header), RequestTime: cachestore.StampOf(h.RequestTime),
		ResponseTime: cachestore.StampOf(h.ResponseTime), Tags: cachestore.NewTags(h.Tags...), Meta: meta}
	return obj, p.diskUse(l, h, obj), true
}

// diskUse evaluates a disk object for this request; a soft-purged copy is at best
// stale-while-revalidate, as in memory.
func (p *pipeline) diskUse(l *lookup, h *disk.Handle, obj *cachestore.Object) httpcache.Use {
	use := l.rt.policy.Evaluate(l.req, obj.Meta.Response(obj), obj.Meta.Decision(), p.now())
	if h.SoftPurged && use.State == httpcache.Fresh {
		use.State = httpcache.StaleWhileRevalidate
		use.TTL = min(use.TTL, -1e9) // ttl=-1 in Cache-Status: stale, as for memory (serveCache)
	}
	return use
}

// serveDiskHandle answers from a large disk object without reading it into memory: the
// client's conditionals and HEAD as for any hit, one range as a 206 from the same file,
// several as a multipart/byteranges 206 read part by part, as a memory hit answers them. kept says obj is the record's kept decoding (diskmeta.go), whose Meta stays the
// same from hit to hit, so the head comes from a hit template as a memory hit's does. It
// closes h.
func (p *pipeline) serveDiskHandle(x *exchange, l *lookup, obj *cachestore.Object, use httpcache.Use, h *disk.Handle, kept bool) {
	resp := obj.Meta.Response(obj)
	l.status.setTTL(use.TTL)
	if conditional(l.req.Header) {
		if code := httpcache.EvaluateConditional(l.req.Method, l.req.Header, resp); code != 0 {
			h.Close()
			p.writeConditional(x, l, code, obj.Header.View(), use.Age)
			return
		}
	}
	if kept && obj.Meta.Date != 0 {
		p.writeHitHead(x, l, obj, obj.Meta, use.Age, obj.Meta.NoCacheFields())
	} else {
		p.writeHead(x, l, int(obj.Status), obj.Header.View(), use.Age, obj.Meta.NoCacheFields())
	}
	length := h.BodyLength()
	if l.head {
		h.Close()
		x.resp.SkipBody()
		x.resp.Head().SetContentLength(int(length))
		return
	}
	start := int64(0)
	if obj.Status == http.StatusOK {
		switch a := p.rangesOf(x, l, resp, length); {
		case a.done:
			h.Close()
			return
		case len(a.ranges) == 1:
			start, length = a.ranges[0].Start, a.ranges[0].Length()
		case len(a.ranges) > 1:
			// Several ranges: read through the Handle part by part, never whole.
			x.resp.SetBodyStream(a.readAt(h), int(a.length))
			return
		}
	}
	f := h.File()
	if f == nil {
		// A tier on a file system that is not the OS's (tests): copy out instead.
		defer h.Close()
		buf := make([]byte, length)
		if _, err := h.ReadAt(buf, start); err != nil {
			x.resp.Reset()
			p.log.Warn("disk tier: read failed", "key", l.key, "err", err)
			plainError(x, http.StatusBadGateway, "cached object unreadable")
			return
		}
		x.resp.SetBody(buf)
		return
	}
	x.resp.SetBodyStream(&diskFile{h: h, f: f, off: h.BodyOffset() + start, n: length}, int(length))
}

// diskFile is a disk hit's body: n bytes of the segment file f from offset off, which it
// never reads past, whoever writes it (HTTP/1.1 bounds a stream by Content-Length, but the
// HTTP/2 adapter copies a stream to its end, which for a bare segment file is the other
// objects that follow). It owns the Handle, so the segment stays open (even if reclaimed)
// until fasthttp closes the body after the response.
//
// The segment's descriptor is shared by every reader, so nothing here uses its file offset:
// Read is pread(2), and on HTTP/1.1 WriteTo sends it to the socket handleHTTP1 found with
// sendfile(2) at an explicit offset (sendfile.go). Opening the segment again per hit for a private offset (through
// /proc/self/fd) cost an open, a seek and a close per response.
type diskFile struct {
	h   *disk.Handle
	f   *os.File
	off int64
	n   int64

	sock   syscall.Conn    // the client's bare socket, set by handleHTTP1; nil copies instead
	corked syscall.RawConn // sock, when handleHTTP1 corked it (cork.go); uncorked once sent
}

func (b *diskFile) Read(p []byte) (int, error) {
	if b.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > b.n {
		p = p[:b.n]
	}
	// Through the Handle: a failed read turns the tier off, and a body the Handle has just
	// read to verify it is not read again.
	k, err := b.h.ReadAt(p, b.off-b.h.BodyOffset())
	b.off += int64(k)
	b.n -= int64(k)
	if err == io.EOF {
		if b.n > 0 {
			return k, io.ErrUnexpectedEOF
		}
		err = nil
	}
	return k, err
}

func (b *diskFile) Close() error {
	b.uncork() // a body never written (its head's write failed) leaves no cork behind
	if testHookCork != nil {
		testHookCork("closed", b.sockCorked())
	}
	return b.h.Close()
}
