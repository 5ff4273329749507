package edge

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/shoal-cdn/shoal/cachestore"
	"github.com/shoal-cdn/shoal/cachestore/disk"
	"github.com/shoal-cdn/shoal/edge/httpcache"
	"github.com/valyala/fasthttp"
)

// diskLookup answers a memory miss from the disk tier when it holds a copy: it reports the
// request's result and true, or false to go on to the origin (nothing on disk, tier loading
// or disabled, unreadable, not storable). A copy no larger than the promote size is read
// into memory; fresh, it is stored there again and served like any memory hit. A larger one
// is served from its segment file (sendfile on HTTP/1.1, see diskBody).
//
// A stale copy takes the memory object's path (RFC 9111 section 4.3, RFC 5861): served at
// once and revalidated in the background under stale-while-revalidate (and when soft-purged),
// otherwise validated with a conditional request first (diskrevalidate.go), and served on an
// origin error under stale-if-error.
//
// Cache-Status is the memory hit's, with detail "<node>/disk".
func (n *Node) diskLookup(ctx *fasthttp.RequestCtx, l *lookup) (string, bool) {
	t := n.disk
	if t == nil || !t.ready.Load() {
		return "", false
	}
	// Read before Get: a purge after these refuses the promoted copy in memory and, should
	// memory evict it again, on disk (see diskBan).
	gen := n.begin()
	h, err := t.d.Get(l.key)
	if errors.Is(err, disk.ErrNotFound) && len(l.vary) == 0 {
		h, err = n.diskVariant(ctx, l) // memory forgot the URL's Vary (diskvary.go)
	}
	if err != nil {
		return "", false
	}
	obj, use, ok := n.diskObject(l, h)
	if !ok {
		h.Close()
		return "", false
	}
	small := h.BodyLength() <= t.promote
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
	switch use.State {
	case httpcache.Fresh:
		n.diskHit(l)
		if !small {
			n.serveDiskHandle(ctx, l, obj, use, h)
			return "hit", true
		}
		obj.Generation = gen.memory
		meta := obj.Meta.(*objectMeta)
		meta.diskGen = gen.disk
		meta.onDisk.Store(true)
		n.store.Set(obj)
		n.serveObject(ctx, l, obj, use)
		return "hit", true
	case httpcache.StaleWhileRevalidate:
		n.diskHit(l)
		if small {
			n.serveObject(ctx, l, obj, use)
		} else {
			n.serveDiskHandle(ctx, l, obj, use, h)
		}
		n.revalidateInBackground(ctx, l, obj)
		return "stale", true
	}
	if !small {
		h.Close() // the revalidation finds the body again (staleDiskBody)
	}
	if use.OnlyIfCached {
		return n.gatewayTimeoutOnlyIfCached(ctx, l), true
	}
	l.stale, l.use = obj, use
	l.status.Fwd = "stale"
	if use.TTL > 0 && !obj.Meta.(*objectMeta).decision.NoCache {
		l.status.Fwd = "request" // as for memory: the request's own directives refused a fresh copy
	}
	return n.fill(ctx, l, false), true
}

func (n *Node) diskHit(l *lookup) {
	l.status.Hit, l.status.Fwd = true, ""
	l.status.Detail = n.name + "/disk"
	n.metrics.hits.Inc()
}

// diskObject rebuilds the stored response of a disk record and evaluates it for this
// request. It reports false when the record is not this key's or not a storable response;
// a soft-purged copy is at best stale-while-revalidate, as in memory.
func (n *Node) diskObject(l *lookup, h *disk.Handle) (*cachestore.Object, httpcache.Use, bool) {
	if h.Key != l.key {
		return nil, httpcache.Use{}, false
	}
	status, header, err := decodeHead(h.Head)
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
	meta := newObjectMeta(d, header)
	obj := &cachestore.Object{Key: h.Key, URL: h.URL, Status: status, Header: header, RequestTime: h.RequestTime,
		ResponseTime: h.ResponseTime, Tags: h.Tags, Meta: meta}
	use := l.rt.policy.Evaluate(l.req, meta.response(obj), d, n.now())
	if h.SoftPurged && use.State == httpcache.Fresh {
		use.State = httpcache.StaleWhileRevalidate
	}
	return obj, use, true
}

// serveDiskHandle answers from a large disk object without reading it into memory: the
// client's conditionals and HEAD as for any hit, one range as a 206 from the same file; a
// request for several ranges gets the whole body (RFC 9110 section 14.2 allows ignoring
// Range). It closes h.
func (n *Node) serveDiskHandle(ctx *fasthttp.RequestCtx, l *lookup, obj *cachestore.Object, use httpcache.Use, h *disk.Handle) {
	resp := obj.Meta.(*objectMeta).response(obj)
	l.status.TTL, l.status.HasTTL = int64(use.TTL.Seconds()), true
	if code := httpcache.EvaluateConditional(l.req.Method, l.req.Header, resp); code != 0 {
		h.Close()
		n.writeConditional(ctx, l, code, obj.Header, use.Age)
		return
	}
	n.writeHead(ctx, l, obj.Status, obj.Header, use.Age, obj.Meta.(*objectMeta).decision.NoCacheFields)
	length := h.BodyLength()
	if l.head {
		h.Close()
		ctx.Response.SkipBody = true
		ctx.Response.Header.SetContentLength(int(length))
		return
	}
	start := int64(0)
	if obj.Status == fasthttp.StatusOK {
		if r, ok := n.diskRange(ctx, l, resp, length); ok {
			if r == nil {
				h.Close()
				return
			}
			start, length = r.Start, r.End-r.Start+1
		}
	}
	body, err := diskBody(h, start)
	defer h.Close()
	if err != nil {
		// The segment could not be opened again (tests' in-memory file systems): copy out
		// through the page cache instead.
		buf := make([]byte, length)
		_, rerr := h.ReadAt(buf, start)
		if rerr != nil {
			ctx.Response.Reset()
			n.log.Warn("disk tier: read failed", "key", l.key, "err", rerr)
			plainError(ctx, fasthttp.StatusBadGateway, "cached object unreadable")
			return
		}
		ctx.Response.SetBodyRaw(buf)
		return
	}
	ctx.SetBodyStream(&diskFile{f: body, n: length}, int(length))
}

// diskFile is a disk hit's body: n bytes of f from its offset. It never reads past them,
// whoever writes it: HTTP/1.1 bounds a stream by Content-Length, but the HTTP/2 adapter
// (Response.BodyWriteTo) copies a stream to its end, which for a bare segment file is the
// other objects that follow. WriteTo hands the writer an *io.LimitedReader of the *os.File,
// the one shape fasthttp's fixed-size writer passes on to the connection's ReadFrom
// (sendfile). fasthttp closes it after the response.
type diskFile struct {
	f *os.File
	n int64
}

func (b *diskFile) Read(p []byte) (int, error) {
	if b.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > b.n {
		p = p[:b.n]
	}
	k, err := b.f.Read(p)
	b.n -= int64(k)
	return k, err
}

func (b *diskFile) WriteTo(w io.Writer) (int64, error) {
	lr := &io.LimitedReader{R: b.f, N: b.n}
	var k int64
	var err error
	if rf, ok := w.(io.ReaderFrom); ok {
		k, err = rf.ReadFrom(lr)
	} else {
		k, err = io.Copy(writerOnly{w}, lr)
	}
	b.n -= k
	if err == nil && b.n > 0 {
		err = io.ErrUnexpectedEOF
	}
	return k, err
}

func (b *diskFile) Close() error { return b.f.Close() }

// diskBody opens the body of h as a file of its own, positioned at the body; h may be
// closed right after.
// The segment file of the Handle is shared by every reader and must not be seeked; a new
// open file description of the same inode (through /proc/self/fd, which works even when
// the segment has been reclaimed and unlinked) has its own offset. fasthttp hands an
// *os.File body to the connection's ReadFrom, which is sendfile(2) on Linux; the HTTP/2
// adapter reads it, from the page cache. fasthttp closes it after the response.
func diskBody(h *disk.Handle, start int64) (*os.File, error) {
	seg := h.File()
	if seg == nil {
		return nil, fmt.Errorf("edge: disk handle has no file")
	}
	f, err := os.Open(fmt.Sprintf("/proc/self/fd/%d", seg.Fd()))
	if err != nil {
		return nil, fmt.Errorf("edge: reopen segment: %w", err)
	}
	if _, err := f.Seek(h.BodyOffset()+start, 0); err != nil {
		f.Close()
		return nil, fmt.Errorf("edge: seek segment: %w", err)
	}
	return f, nil
}

// diskRange applies a single Range of the request to a disk object of size bytes: it reports
// false to send the whole body, and true with the range to send (the status and
// Content-Range set), or with nil when the answer (416) is complete.
func (n *Node) diskRange(ctx *fasthttp.RequestCtx, l *lookup, resp httpcache.Response, size int64) (*httpcache.ByteRange, bool) {
	rangeHeader := l.req.Header.Get("Range")
	if rangeHeader == "" {
		return nil, false
	}
	if ir := l.req.Header.Get("If-Range"); ir != "" && !httpcache.IfRangeMatches(ir, resp) {
		return nil, false
	}
	ranges, err := httpcache.ParseRange(rangeHeader, size)
	if errors.Is(err, httpcache.ErrRangeNotSatisfiable) {
		ctx.SetStatusCode(fasthttp.StatusRequestedRangeNotSatisfiable)
		ctx.Response.Header.Set("Content-Range", httpcache.ContentRangeUnsatisfied(size))
		ctx.Response.SetBodyRaw(nil)
		return nil, true
	}
	if err != nil || len(ranges) != 1 {
		return nil, false
	}
	r := ranges[0]
	ctx.SetStatusCode(fasthttp.StatusPartialContent)
	ctx.Response.Header.Set("Content-Range", httpcache.ContentRange(r, size))
	return &r, true
}
