package edge

import (
	"errors"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/shoal-cdn/shoal/cachestore"
	"github.com/shoal-cdn/shoal/edge/coalesce"
	"github.com/shoal-cdn/shoal/edge/httpcache"
	"github.com/valyala/fasthttp"
)

// serveObject answers from a stored object: the client's conditionals, HEAD and ranges are
// answered here, from memory, without copying the body.
func (n *Node) serveObject(ctx *fasthttp.RequestCtx, l *lookup, obj *cachestore.Object, use httpcache.Use) {
	stored := obj
	obj = n.variantFor(l, obj)
	meta := obj.Meta.(*objectMeta)
	resp := meta.response(obj)
	l.status.TTL, l.status.HasTTL = int64(use.TTL.Seconds()), true
	if use.TTL < 0 && use.TTL.Seconds() > float64(l.status.TTL) {
		l.status.TTL-- // floor, so a stale object never shows ttl=0
	}
	var skip []string
	if use.State == httpcache.Fresh || use.State == httpcache.StaleWhileRevalidate {
		skip = meta.decision.NoCacheFields
	}
	if conditional(l.req.Header) {
		if code := httpcache.EvaluateConditional(l.req.Method, l.req.Header, resp); code != 0 {
			n.writeConditional(ctx, l, code, obj.Header, use.Age)
			return
		}
	}
	// A memory hit on the stored representation itself, with the origin's Date (a head
	// without one gets the clock's, per response), is written from its template.
	if l.memoryHit && obj == stored && meta.date != 0 && (use.State == httpcache.Fresh || use.State == httpcache.StaleWhileRevalidate) {
		n.writeHitHead(ctx, l, obj, meta, use.Age, skip)
	} else {
		n.writeHead(ctx, l, obj.Status, obj.Header, use.Age, skip)
	}
	if l.head {
		ctx.Response.SkipBody = true
		ctx.Response.Header.SetContentLength(len(obj.Body))
		return
	}
	if obj.Status == fasthttp.StatusOK && n.serveRange(ctx, l, resp, obj.Body) {
		return
	}
	ctx.Response.SetBodyRaw(obj.Body)
}

// serveFill answers from a fill in progress: the head now, the body as it arrives.
func (n *Node) serveFill(ctx *fasthttp.RequestCtx, l *lookup, h *fillHead, body *coalesce.Reader, maxObject int64) {
	resp := httpcache.Response{Status: h.status, Header: h.header, RequestTime: h.reqTime, ResponseTime: h.respTime}
	age := httpcache.CurrentAge(resp, n.now())
	// The first response is identity; later hits may be compressed: say so to caches downstream.
	l.varyEncoding = compressible(l.rt, h.status, h.header, h.length, h.decision.NoTransform)
	if h.decision.Store {
		l.status.TTL, l.status.HasTTL = int64((h.decision.Lifetime - age).Seconds()), true
	}
	if conditional(l.req.Header) {
		if code := httpcache.EvaluateConditional(l.req.Method, l.req.Header, resp); code != 0 && h.status == fasthttp.StatusOK {
			body.Close()
			n.writeConditional(ctx, l, code, h.header, age)
			return
		}
	}
	var skip []string
	if l.status.Collapsed {
		// A follower gets the leader's answer as a cache would serve it: without the fields
		// the origin kept from the store (private="...") or from unvalidated reuse
		// (no-cache="..."), RFC 9111 sections 5.2.2.4 and 5.2.2.7.
		skip = append(append(skip, h.decision.PrivateFields...), h.decision.NoCacheFields...)
	}
	n.writeHead(ctx, l, h.status, h.header, age, skip)
	if l.head || bodyless(ctx.Method(), h.status) {
		body.Close()
		ctx.Response.SkipBody = true
		if l.head {
			setHeadLength(&ctx.Response.Header, h.length)
		}
		return
	}
	if h.status == fasthttp.StatusOK && len(l.req.Header.Get("Range")) > 0 && h.length >= 0 && h.length <= maxObject {
		// A miss with Range fetched the whole object; wait for it and answer the range.
		whole, err := io.ReadAll(body)
		body.Close()
		if err != nil {
			// The object arrived cut: nothing was sent yet, so say so rather than send the
			// part as a complete 200 (RFC 9112 section 6.3).
			ctx.SetConnectionClose()
			n.originError(ctx, l.r.pool, err)
			return
		}
		if n.serveRange(ctx, l, resp, whole) {
			return
		}
		ctx.Response.SetBodyRaw(whole)
		return
	}
	stream, length := n.compressStream(ctx, l.rt, &ctx.Response.Header, h.status, body, int(h.length))
	streamBody(ctx, stream, length)
}

// writeHitHead is writeHead for a memory hit, from the object's template (hithead.go): it
// renders one when there is none and the slot may take it.
func (n *Node) writeHitHead(ctx *fasthttp.RequestCtx, l *lookup, obj *cachestore.Object, meta *objectMeta, age time.Duration, skip []string) {
	var rules *routeRules
	if r := l.rt.rulesFor(l.r); r != nil && r.Response != nil && !isForwarded(ctx) && l.sc != nil {
		// responsePolicy would apply them after this head: the template may carry them, and
		// the request's scratch tells responsePolicy so.
		rules = r
	}
	heads := l.rt.heads
	hh := heads.find(meta, rules, l.varyEncoding)
	if hh == nil {
		if heads == nil || !heads.claim(meta, rules, l.varyEncoding) {
			n.writeHead(ctx, l, obj.Status, obj.Header, age, skip)
			return
		}
		hh = n.renderHitHead(l, meta, rules, func(dst *fasthttp.ResponseHeader) {
			n.writeHeadTo(dst, l, obj.Status, obj.Header, 0, skip)
		})
		if hh == nil {
			n.writeHead(ctx, l, obj.Status, obj.Header, age, skip)
			return
		}
		heads.keep(hh)
	}
	n.copyHitHead(ctx, l, hh, age)
}

// conditional reports a request with a precondition (RFC 9110 section 13.1): without one,
// EvaluateConditional has nothing to evaluate and is not asked (it parses the stored
// validators first).
func conditional(h httpcache.Header) bool {
	for _, f := range h {
		if len(f.Name) > 3 && strings.EqualFold(f.Name[:3], "If-") {
			return true
		}
	}
	return false
}

// writeHead writes status and stored fields plus Age, Via and Cache-Status.
func (n *Node) writeHead(ctx *fasthttp.RequestCtx, l *lookup, status int, h httpcache.Header, age time.Duration, skip []string) {
	n.writeHeadTo(&ctx.Response.Header, l, status, h, age, skip)
}

// writeHeadTo is writeHead into any response head (a hit's template, hithead.go).
func (n *Node) writeHeadTo(dst *fasthttp.ResponseHeader, l *lookup, status int, h httpcache.Header, age time.Duration, skip []string) {
	date := h.Get("Date")
	var now time.Time
	if date == "" {
		now = n.now() // read the clock only for a response without its own Date
	}
	startHead(dst, status, date, now)
	if l.varyEncoding {
		h = h.Clone()
		addVary(&h, "Accept-Encoding")
	}
	consumed := l.rt.consumed
	for _, f := range h {
		if strings.EqualFold(f.Name, "Age") || containsName(consumed, f.Name) || containsName(skip, f.Name) {
			continue
		}
		if framingOrHopByHop(f.Name) {
			// Computed for this response by the listener, never replayed from storage: a
			// stored Transfer-Encoding or Content-Length would contradict the framing
			// actually written (RFC 9112 section 6), and a stored Connection or Keep-Alive
			// would describe a connection long gone (RFC 9110 section 7.6.1).
			continue
		}
		dst.Add(f.Name, f.Value)
	}
	setInt(dst, "Age", int64(age.Seconds()))
	if via := h.Get("Via"); via != "" {
		dst.Set("Via", via+", "+n.via())
	} else {
		dst.Set("Via", n.via())
	}
	setCacheStatus(dst, l.status)
}

// setCacheStatus sets the response's Cache-Status (RFC 9211), rendered without allocating.
func setCacheStatus(dst *fasthttp.ResponseHeader, status httpcache.CacheStatus) {
	p := headSeeds.Get().(*headSeed)
	p.buf = status.AppendTo(p.buf[:0])
	dst.SetBytesV("Cache-Status", p.buf)
	headSeeds.Put(p)
}

// writeConditional answers a client's conditional from the cache: 304 with the fields RFC
// 9110 section 15.4.5 keeps, or 412.
func (n *Node) writeConditional(ctx *fasthttp.RequestCtx, l *lookup, code int, h httpcache.Header, age time.Duration) {
	if code == fasthttp.StatusNotModified {
		h = httpcache.NotModifiedHeader(h)
	} else {
		h = nil
	}
	n.writeHead(ctx, l, code, h, age, nil)
	ctx.Response.SkipBody = true
}

func containsName(list []string, name string) bool {
	for _, l := range list {
		if strings.EqualFold(l, name) {
			return true
		}
	}
	return false
}

// serveRange answers a Range request from a complete body (RFC 9110 section 14). It reports
// false when the request has no usable Range and the whole body should be sent.
func (n *Node) serveRange(ctx *fasthttp.RequestCtx, l *lookup, resp httpcache.Response, body []byte) bool {
	rangeHeader := l.req.Header.Get("Range")
	if rangeHeader == "" {
		return false
	}
	if ir := l.req.Header.Get("If-Range"); ir != "" && !httpcache.IfRangeMatches(ir, resp) {
		return false
	}
	size := int64(len(body))
	ranges, err := httpcache.ParseRange(rangeHeader, size)
	if errors.Is(err, httpcache.ErrRangeNotSatisfiable) {
		ctx.SetStatusCode(fasthttp.StatusRequestedRangeNotSatisfiable)
		ctx.Response.Header.Set("Content-Range", httpcache.ContentRangeUnsatisfied(size))
		ctx.Response.SetBodyRaw(nil)
		return true
	}
	if err != nil || len(ranges) == 0 {
		return false // an invalid Range is ignored (RFC 9110 section 14.2)
	}
	ctx.SetStatusCode(fasthttp.StatusPartialContent)
	if len(ranges) == 1 {
		r := ranges[0]
		ctx.Response.Header.Set("Content-Range", httpcache.ContentRange(r, size))
		ctx.Response.SetBodyRaw(body[r.Start : r.End+1])
		return true
	}
	boundary := "shoal" + strconv.FormatUint(fillSeq.Add(1), 36)
	ctype, out := httpcache.MultipartByteranges(ranges, body, string(ctx.Response.Header.ContentType()), boundary)
	ctx.Response.Header.SetContentType(ctype)
	ctx.Response.SetBodyRaw(out)
	return true
}

// setInt sets a numeric field without allocating a string for the number.
func setInt(dst *fasthttp.ResponseHeader, name string, v int64) {
	p := headSeeds.Get().(*headSeed)
	p.buf = strconv.AppendInt(p.buf[:0], v, 10)
	dst.SetBytesV(name, p.buf)
	headSeeds.Put(p)
}

// setHeadLength gives a HEAD answer the framing its GET would have (RFC 9110 section 9.3.2):
// the origin's length when known, else chunked, which RFC 9112 section 6.1 allows on a HEAD
// response; never the 0 of the empty body actually sent, which tells a client or a cache
// downstream that the object is empty. length < 0 means unknown.
func setHeadLength(h *fasthttp.ResponseHeader, length int64) {
	h.SetContentLength(int(max(length, -1)))
}

// headAnswerLength is the length an upstream's answer to HEAD gives for its GET (RFC 9110
// section 9.3.2), or -1 when it gives none. fasthttp reads such an answer without
// Content-Length as length 0, so a 0 counts only when the field is there.
func headAnswerLength(h *fasthttp.ResponseHeader) int64 {
	length := int64(h.ContentLength())
	if length == 0 && len(h.Peek("Content-Length")) == 0 {
		return -1
	}
	return max(length, -1)
}
