package edge

import (
	"errors"
	"io"
	"strings"
	"time"

	"github.com/shoal-cdn/shoal/httpcache"
)

// resultAborted is the result recorded for a response whose body did not reach the client
// whole: the origin or a peer cut it, a fill failed, or the client left.
const resultAborted = "aborted"

// resultAdoptMiss is the result of an owner's adoption probe this node had nothing for
// (gatewayTimeoutOnlyIfCached).
const resultAdoptMiss = "adopt_miss"

// streamBody sets r as the response body, like x.SetBodyStream, and lets the request's
// record (metrics, access log) wait for the body's end, so that it says how the body ended.
//
// A streamed miss announces "stored" in Cache-Status with its head, before its end is known.
// RFC 9211 section 2.5 says "stored" means the cache stored the response, not that it tried:
// when the body is then cut the object is not stored (copyBody), the header the client got
// was wrong, and only the aborted connection or stream tells the client (RFC 9112 section 8).
// The record then says result "aborted" and logs Cache-Status without "stored". A body that
// arrives whole and is still not stored (a chunked one that outgrew cache.max_object_size, a
// store that refused it) is recorded without "stored" too (outcomeBody.fill).
//
// The body is the exchange's own (exchange.outcome), not an allocation per streamed response,
// unless an earlier body of this exchange took it: SetBodyStream closes that one first.
func streamBody(x *exchange, r io.Reader, size int) {
	b := &x.outcome
	if x.streamed != nil {
		b = new(outcomeBody)
	}
	*b = outcomeBody{r: r, length: int64(size)}
	x.resp.SetBodyStream(b, size)
	x.streamed = b
}

// streamedBody is the streamed body of the response, if it is still the one streamBody set,
// or nil: only such a body can defer the record until the listener has closed it.
func streamedBody(x *exchange) *outcomeBody {
	b := x.streamed
	if b == nil || x.resp.BodySkipped() || x.resp.BodyStream() != io.Reader(b) {
		return nil
	}
	return b
}

// outcomeBody passes a response body through, counting what was read, and reports how it
// ended once the listener closes it.
type outcomeBody struct {
	r      io.Reader
	length int64 // Content-Length, negative without one
	n      int64
	eof    bool
	failed bool
	closed bool
	// rec is what recordEnd records the request with once the body ended, set by finish
	// (rec.p is nil until the handler returned): fields, not a closure, which cost every
	// streamed response an allocation (issue 15's pass profile).
	rec outcomeRecord
	// release, when set, gives the request's exchange back to its listener once recorded:
	// the record reads the exchange after handle returned.
	release interface{ release() }
	// fill is the fill the body streams from, if any: one that ends whole without storing
	// what its head announced as stored is recorded without "stored" (fillHead.unstored).
	fill *fillHead
}

func (b *outcomeBody) Read(p []byte) (int, error) {
	k, err := b.r.Read(p)
	b.n += int64(k)
	switch {
	case errors.Is(err, io.EOF):
		b.eof = true
	case err != nil:
		b.failed = true
	}
	return k, err
}

// whole reports whether the body was read to its end: to its EOF, or to its Content-Length
// (where fasthttp stops reading).
func (b *outcomeBody) whole() bool {
	return !b.failed && (b.eof || b.length >= 0 && b.n >= b.length)
}

// CloseWithError is how a listener closes the body after writing it, err saying why the write
// stopped early (the client went away). It is the body's only close: fasthttp calls Close and
// then CloseWithError on a body that has both, and the first would release the exchange
// (release) that holds the body, so the second would read a reused exchange's body. With no
// Close, every listener closes it once (fasthttp's closeBodyStreamReader, closeBody).
func (b *outcomeBody) CloseWithError(err error) error {
	if b.closed {
		return nil
	}
	b.closed = true
	if err != nil {
		b.failed = true
	}
	var cerr error
	if c, ok := b.r.(interface{ CloseWithError(error) error }); ok {
		cerr = c.CloseWithError(err)
	} else if c, ok := b.r.(io.Closer); ok {
		cerr = c.Close()
	}
	if b.rec.p != nil {
		b.recordEnd()
	}
	if b.release != nil {
		b.release.release()
	}
	return cerr
}

// withoutStored is a Cache-Status value without the "stored" parameter of its last member
// (this node's).
func withoutStored(cacheStatus string) string {
	i := strings.LastIndexByte(cacheStatus, ',') + 1
	return cacheStatus[:i] + strings.ReplaceAll(cacheStatus[i:], "; stored", "")
}

// cacheOutcome is what this node did with a request, and the one value its Cache-Status
// member (RFC 9211) is rendered from (member, setCacheStatus). A lookup holds one
// (lookup.status) and sets it with one call per decision: how the answer was produced
// (served), then what the forward brought back (filled), whether it joined another
// request's fill (collapse) and the freshness left (ttl). The peer hop (forward.go) and the
// unsafe-method answer (invalidate.go) build theirs with forwarded.
type cacheOutcome struct {
	served    served
	fwdStatus int // the status the next hop answered; 0 when it did not answer or was not asked
	stored    bool
	collapsed bool
	ttl       int64 // seconds of freshness left, negative when stale; sent when hasTTL
	hasTTL    bool
	detail    string // the node's name, with "/disk" for a disk-tier hit
	// beforeStale is the reason staleOnError replaced, which staleGone gives back.
	beforeStale served
}

// served says how the answer was produced: from the store (a hit), or forward for one of the
// reasons RFC 9211 section 2.2 lists (fwd=...).
type served uint8

const (
	// servedUnlabelled is the zero value: neither a hit nor a forward reason. An
	// only-if-cached 504 says only the node's name; so does an origin answer served after a
	// before the lookup decided anything.
	servedUnlabelled served = iota
	servedHit               // hit: from the store (memory, disk, or a finished fill kept joinable)
	servedStale             // hit; fwd=stale: the origin failed and stale-if-error served the stored copy
	fwdURIMiss              // fwd=uri-miss: nothing stored for the URL
	fwdVaryMiss             // fwd=vary-miss: stored, but not the variant the request selects
	fwdRequest              // fwd=request: a fresh copy the request's own directives refused
	fwdStale                // fwd=stale: a stale copy, validated with the origin
	fwdMiss                 // fwd=miss: sent to the key's owner (the peer hop)
	fwdMethod               // fwd=method: an unsafe method on a cache route
	fwdBypass               // fwd=bypass: a pass route
)

// hit and fwd are the member's hit flag and fwd parameter for each way of serving.
func (s served) hit() bool { return s == servedHit || s == servedStale }

func (s served) fwd() string {
	switch s {
	case servedStale, fwdStale:
		return "stale"
	case fwdURIMiss:
		return "uri-miss"
	case fwdVaryMiss:
		return "vary-miss"
	case fwdRequest:
		return "request"
	case fwdMiss:
		return "miss"
	case fwdMethod:
		return "method"
	case fwdBypass:
		return "bypass"
	}
	return ""
}

// newCacheOutcome is a lookup's outcome before any decision: this node's name and nothing else.
func newCacheOutcome(node string) cacheOutcome { return cacheOutcome{detail: node} }

// forwarded is the member of an answer that went forward for why, with the next hop's status
// (0 omits it).
func forwarded(node string, why served, fwdStatus int) cacheOutcome {
	return cacheOutcome{served: why, fwdStatus: fwdStatus, detail: node}
}

// serve records how the answer is produced. A forward keeps the fill's result (filled), the
// collapse and the ttl, which later decisions set.
func (o *cacheOutcome) serve(s served) { o.served = s }

// diskHit is a hit on the disk tier: detail says so ("<node>/disk").
func (o *cacheOutcome) diskHit(node string) {
	o.served, o.detail = servedHit, node+"/disk"
}

// staleOnError is RFC 5861 section 4's stale-if-error: the stored copy answers for an origin
// that failed with status (0: it did not answer).
func (o *cacheOutcome) staleOnError(status int) {
	o.beforeStale = o.served
	o.served, o.fwdStatus = servedStale, status
}

// staleGone undoes staleOnError when the stale copy could not be read (its disk body went
// since the lookup): the origin's answer is served, with the reason the lookup had for
// going to the origin (fwd=stale or fwd=request).
func (o *cacheOutcome) staleGone() {
	o.served, o.fwdStatus = o.beforeStale, 0
}

// filled records the fill's answer: the status the origin sent (304 on a revalidation) and
// whether the response is stored.
func (o *cacheOutcome) filled(originStatus int, stored bool) {
	o.fwdStatus, o.stored = originStatus, stored
}

// collapse records whether the answer comes from another request's fill (RFC 9211 section
// 2.6). Each fill attempt sets it again: a request that leaves a shared fill to fetch alone
// is no longer collapsed.
func (o *cacheOutcome) collapse(joined bool) { o.collapsed = joined }

// setTTL records the freshness left in whole seconds, rounded down: a response less than a
// second stale says ttl=-1, never 0, because RFC 9211 section 2.3 makes a negative ttl the
// mark of a stale response, and a peer that forwarded the request keeps no hot copy of one
// (staleAnswer).
func (o *cacheOutcome) setTTL(d time.Duration) {
	s := int64(d / time.Second)
	if d < 0 && d%time.Second != 0 {
		s--
	}
	o.ttl, o.hasTTL = s, true
}

// cacheName is the node's name in Cache-Status (RFC 9211 section 2: the cache's identifier).
// splitOwnerMember finds an owner's member by it, so every member the node writes uses it.
const cacheName = "shoal"

// member renders the outcome as httpcache.CacheStatus, which writes the field.
func (o cacheOutcome) member() httpcache.CacheStatus {
	return httpcache.CacheStatus{Cache: cacheName, Hit: o.served.hit(), Fwd: o.served.fwd(), FwdStatus: o.fwdStatus,
		Stored: o.stored, Collapsed: o.collapsed, TTL: o.ttl, HasTTL: o.hasTTL, Detail: o.detail}
}

// AppendTo appends the member as it is sent to dst (httpcache.CacheStatus.AppendTo).
func (o cacheOutcome) AppendTo(dst []byte) []byte { return o.member().AppendTo(dst) }

// String is the member as it is sent.
func (o cacheOutcome) String() string { return o.member().String() }
