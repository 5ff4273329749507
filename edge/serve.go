package edge

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/shoal-cdn/shoal/cachestore"
	"github.com/shoal-cdn/shoal/edge/compress"
	"github.com/shoal-cdn/shoal/httpcache"
)

// serveObject answers from a stored object: the client's conditionals, HEAD and ranges are
// answered here, from memory, without copying the body.
func (p *pipeline) serveObject(x *exchange, l *lookup, obj *cachestore.Object, use httpcache.Use) {
	stored := obj
	obj = p.variantFor(l, obj)
	meta := obj.Meta
	l.status.setTTL(use.TTL)
	var skip []string
	if use.State == httpcache.Fresh || use.State == httpcache.StaleWhileRevalidate {
		skip = meta.NoCacheFields()
	}
	// The object as httpcache reads it is built only for a precondition or a Range: a hit
	// with neither (nearly every one) does not convert its times again.
	if conditional(l.req.Header) {
		if code := httpcache.EvaluateConditional(l.req.Method, l.req.Header, meta.Response(obj)); code != 0 {
			p.writeConditional(x, l, code, obj.Header.View(), use.Age)
			return
		}
	}
	// A memory hit on the stored representation itself, with the origin's Date (a head
	// without one gets the clock's, per response), is written from its template.
	if l.memoryHit && obj == stored && meta.Date != 0 && (use.State == httpcache.Fresh || use.State == httpcache.StaleWhileRevalidate) {
		p.writeHitHead(x, l, obj, meta, use.Age, skip)
	} else {
		p.writeHead(x, l, int(obj.Status), obj.Header.View(), use.Age, skip)
	}
	if l.head {
		x.resp.SkipBody()
		x.resp.Head().SetContentLength(len(obj.Body))
		return
	}
	if obj.Status == http.StatusOK && l.req.Header.Get("Range") != "" && p.serveRange(x, l, meta.Response(obj), obj.Body) {
		return
	}
	x.resp.SetBody(obj.Body)
}

// serveFill answers from a fill in progress: the head now, the body as it arrives.
func (p *pipeline) serveFill(x *exchange, l *lookup, h *fillHead, body *fillReader, maxObject int64) {
	resp := httpcache.Response{Status: h.status, Header: h.header, RequestTime: h.reqTime, ResponseTime: h.respTime}
	age := httpcache.CurrentAge(resp, p.now())
	// The first response is identity; later hits may be compressed: say so to caches downstream.
	l.varyEncoding = compressible(l.rt, h.status, httpcache.ViewOf(h.header), h.length, h.decision.NoTransform)
	if h.decision.Store {
		l.status.setTTL(h.decision.Lifetime - age)
	}
	if conditional(l.req.Header) {
		// Against the representation this answer carries: the coded one when compressStream
		// will code it, as a hit is evaluated against the variant variantFor picks.
		sent := resp
		if enc := fillCoding(x, l, h.length); enc != compress.Identity {
			sent.Header = codedHead(h.header, enc)
		}
		if code := httpcache.EvaluateConditional(l.req.Method, l.req.Header, sent); code != 0 && h.status == http.StatusOK {
			body.Close()
			p.writeConditional(x, l, code, httpcache.ViewOf(sent.Header), age)
			return
		}
	}
	var skip []string
	if l.status.collapsed {
		// A follower gets the leader's answer as a cache would serve it: without the fields
		// the origin kept from the store (private="...") or from unvalidated reuse
		// (no-cache="..."), RFC 9111 sections 5.2.2.4 and 5.2.2.7.
		skip = append(append(skip, h.decision.PrivateFields...), h.decision.NoCacheFields...)
	}
	p.writeHead(x, l, h.status, httpcache.ViewOf(h.header), age, skip)
	if l.head || bodyless(x.req.Method(), h.status) {
		body.Close()
		x.resp.SkipBody()
		if l.head {
			setHeadLength(x.resp.Head(), h.length)
			p.codeHeadAnswer(x, l.rt, x.resp.Head(), h.status, h.length)
		}
		return
	}
	if h.status == http.StatusOK && len(l.req.Header.Get("Range")) > 0 && h.length > maxObject {
		// Larger than memory keeps: the range streams by as the fill does (nginx's range
		// filter and Varnish's on a streaming object do the same), rather than the whole
		// object with 200 to a player seeking near its end, or read whole per client.
		if a := p.rangesOf(x, l, resp, h.length); a.ranges != nil || a.done {
			if a.done {
				body.Close()
				return
			}
			streamBody(x, a.stream(body), int(a.length))
			x.streamed.fill = h
			if h.pending {
				x.resp.FlushHead()
			}
			return
		}
	}
	if h.status == http.StatusOK && len(l.req.Header.Get("Range")) > 0 && h.length >= 0 && h.length <= maxObject {
		// A miss with Range fetched the whole object; wait for it and answer the range.
		whole, err := io.ReadAll(body)
		body.Close()
		if err != nil {
			// The object arrived cut: nothing was sent yet, so say so rather than send the
			// part as a complete 200 (RFC 9112 section 6.3).
			x.resp.SetConnectionClose()
			p.originError(x, l.r.pool, err)
			return
		}
		if p.serveRange(x, l, resp, whole) {
			return
		}
		x.resp.SetBody(whole)
		return
	}
	stream, length := p.compressStream(x, l.rt, x.resp.Head(), h.status, body, int(h.length))
	if stream == io.ReadCloser(body) {
		if whole, ok := body.Whole(); ok && (h.length < 0 || int64(len(whole)) == h.length) {
			// The fill ended whole before this answer began (a leader's inline fill, a
			// lingering one): the body as bytes, like a hit's, not a stream of them.
			body.Close()
			x.resp.SetBody(whole)
			return
		}
	}
	streamBody(x, stream, length)
	x.streamed.fill = h
	if h.pending {
		x.resp.FlushHead()
	}
}

// writeHitHead is writeHead for a memory hit, from the object's template (hithead.go): it
// renders one when there is none and the slot may take it.
func (p *pipeline) writeHitHead(x *exchange, l *lookup, obj *cachestore.Object, meta *cachestore.Meta, age time.Duration, skip []string) {
	var rules *routeRules
	if r := l.rt.rulesFor(l.r); r != nil && r.Response != nil && !x.forwarded && l.sc != nil {
		// responsePolicy would apply them after this head: the template may carry them, and
		// the request's scratch tells responsePolicy so.
		rules = r
	}
	heads := l.rt.heads
	hh := heads.find(meta, rules, l.varyEncoding)
	if hh == nil {
		if heads == nil || !heads.claim(meta, rules, l.varyEncoding) {
			p.writeHead(x, l, int(obj.Status), obj.Header.View(), age, skip)
			return
		}
		hh = p.renderHitHead(l, meta, rules, storedList(obj.Header.View(), "Cache-Status"), func(dst responseHead) {
			p.writeHeadTo(dst, l, int(obj.Status), obj.Header.View(), 0, skip)
		})
		if hh == nil {
			p.writeHead(x, l, int(obj.Status), obj.Header.View(), age, skip)
			return
		}
		heads.keep(hh)
	}
	p.copyHitHead(x, l, hh, age)
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
func (p *pipeline) writeHead(x *exchange, l *lookup, status int, h httpcache.HeaderView, age time.Duration, skip []string) {
	p.writeHeadTo(x.resp.Head(), l, status, h, age, skip)
}

// writeHeadTo is writeHead into any response head (a hit's template, hithead.go).
func (p *pipeline) writeHeadTo(dst responseHead, l *lookup, status int, h httpcache.HeaderView, age time.Duration, skip []string) {
	date := h.Get("Date")
	var now time.Time
	if date == "" {
		now = p.now() // read the clock only for a response without its own Date
	}
	startHead(dst, status, date, now)
	if l.varyEncoding {
		varied := h.Clone()
		addVary(&varied, "Accept-Encoding")
		h = httpcache.ViewOf(varied)
	}
	consumed := l.rt.consumed
	var via, prior string // the stored Via and Cache-Status lines, each joined (storedList)
	for i := range h.Len() {
		f := h.Field(i)
		switch {
		case strings.EqualFold(f.Name, "Via"):
			via = joinList(via, f.Value)
			continue // written below, for this response
		case strings.EqualFold(f.Name, "Cache-Status"):
			prior = joinList(prior, f.Value)
			continue
		case strings.EqualFold(f.Name, "Age") || containsName(consumed, f.Name) || containsName(skip, f.Name):
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
	// Every line of the stored Via, then the node's member last (RFC 9110 section 7.6.3).
	if via != "" {
		dst.Set("Via", via+", "+p.via())
	} else {
		dst.Set("Via", p.via())
	}
	setCacheStatus(dst, prior, l.status)
}

// storedList is a list field of a stored (or just filled) response, its lines joined as
// one list (RFC 9110 section 5.3): the Via and Cache-Status members of the proxies and
// caches upstream of the node (a Varnish or a CDN shield in front of the origin). The
// node's member goes after them: RFC 9110 section 7.6.3 has each intermediary append to
// Via, and RFC 9211 section 2 asks a cache adding its member to preserve the existing value.
// Only a response with more than one line allocates.
func storedList(h httpcache.HeaderView, name string) string {
	out := ""
	for i := range h.Len() {
		if f := h.Field(i); strings.EqualFold(f.Name, name) {
			out = joinList(out, f.Value)
		}
	}
	return out
}

// relayedList is storedList for a head relayed as the origin or the owner sent it (a pass,
// a forward): empty, without walking the head, when it has no such field.
func relayedList(h responseHead, name string) string {
	if len(h.Peek(name)) == 0 {
		return ""
	}
	out := ""
	for k, v := range h.All() {
		if bytes.EqualFold(k, []byte(name)) {
			out = joinList(out, string(v))
		}
	}
	return out
}

// cacheStatusMember is what setCacheStatus renders: a cacheOutcome, or an
// httpcache.CacheStatus built by hand (pass.go's fwd=bypass; forwarded(n.name, fwdBypass,
// status) is the same member).
type cacheStatusMember interface{ AppendTo(dst []byte) []byte }

// setCacheStatus sets the response's Cache-Status (RFC 9211) to the upstream members
// (prior, from storedList or relayedList; empty for none) followed by m,
// rendered without allocating (generic rather than an interface parameter, so m is not
// boxed). The one line replaces every Cache-Status line dst holds: SetBytesV alone
// rewrote the first and left a second line of the origin's after the node's member.
func setCacheStatus[M cacheStatusMember](dst responseHead, prior string, m M) {
	p := headSeeds.Get().(*headSeed)
	p.buf = p.buf[:0]
	if prior != "" {
		p.buf = append(append(p.buf, prior...), ", "...)
		dst.Del("Cache-Status")
	}
	p.buf = m.AppendTo(p.buf)
	dst.SetBytesV("Cache-Status", p.buf)
	headSeeds.Put(p)
}

// writeConditional answers a client's conditional from the cache: 304 with the fields RFC
// 9110 section 15.4.5 keeps, or 412.
func (p *pipeline) writeConditional(x *exchange, l *lookup, code int, h httpcache.HeaderView, age time.Duration) {
	if code == http.StatusNotModified {
		h = httpcache.ViewOf(httpcache.NotModifiedHeader(h))
	} else {
		h = httpcache.HeaderView{}
	}
	p.writeHead(x, l, code, h, age, nil)
	x.resp.SkipBody()
	if code != http.StatusNotModified {
		// The 412's own content is empty, and says so on every listener: HTTP/1.1's head
		// starts with Content-Length: 0, an HTTP/2 head with no length at all, and a skipped
		// body gave it none (RFC 9110 section 8.6).
		x.resp.Head().SetContentLength(0)
	}
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
func (p *pipeline) serveRange(x *exchange, l *lookup, resp httpcache.Response, body []byte) bool {
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
		x.resp.Head().SetStatusCode(http.StatusRequestedRangeNotSatisfiable)
		x.resp.Head().Set("Content-Range", httpcache.ContentRangeUnsatisfied(size))
		x.resp.SetBody(nil)
		return true
	}
	if err != nil || len(ranges) == 0 {
		return false // an invalid Range is ignored (RFC 9110 section 14.2)
	}
	x.resp.Head().SetStatusCode(http.StatusPartialContent)
	if len(ranges) == 1 {
		r := ranges[0]
		x.resp.Head().Set("Content-Range", httpcache.ContentRange(r, size))
		x.resp.SetBody(body[r.Start : r.End+1])
		return true
	}
	ctype, out := httpcache.MultipartByteranges(ranges, body, string(x.resp.Head().ContentType()), newBoundary())
	x.resp.Head().SetContentType(ctype)
	x.resp.SetBody(out)
	return true
}

// setInt sets a numeric field without allocating a string for the number.
func setInt(dst responseHead, name string, v int64) {
	p := headSeeds.Get().(*headSeed)
	p.buf = strconv.AppendInt(p.buf[:0], v, 10)
	dst.SetBytesV(name, p.buf)
	headSeeds.Put(p)
}

// setHeadLength gives a HEAD answer the framing its GET would have (RFC 9110 section 9.3.2):
// the origin's length when known, else chunked, which RFC 9112 section 6.1 allows on a HEAD
// response; never the 0 of the empty body actually sent, which tells a client or a cache
// downstream that the object is empty. length < 0 means unknown.
func setHeadLength(h responseHead, length int64) {
	h.SetContentLength(int(max(length, -1)))
}

// headAnswerLength is the length an upstream's answer to HEAD gives for its GET (RFC 9110
// section 9.3.2), or -1 when it gives none: the answer's head has a length only when the
// Content-Length field was there (fasthttp alone would read its absence as 0).
func headAnswerLength(h *fieldList) int64 {
	return int64(max(h.ContentLength(), -1)) // -2: no Content-Length field
}
