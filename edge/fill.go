package edge

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shoal-cdn/shoal/cachestore"
	"github.com/shoal-cdn/shoal/cachestore/disk"
	"github.com/shoal-cdn/shoal/conf"
	"github.com/shoal-cdn/shoal/edge/coalesce"
	"github.com/shoal-cdn/shoal/httpcache"
	"github.com/shoal-cdn/shoal/origin"
	"github.com/valyala/fasthttp"
)

// fillCall and fillReader are one coalesced origin fetch and a reader of its body, with the
// fill's head as what the leader publishes.
type (
	fillCall   = coalesce.Call[*fillHead]
	fillReader = coalesce.Reader[*fillHead]
)

// fillHead is what a fill publishes to its readers once the origin's head arrived.
type fillHead struct {
	status    int
	header    httpcache.Header
	length    int64 // -1 when unknown
	reqTime   time.Time
	respTime  time.Time
	decision  httpcache.StoreDecision
	shareable bool // followers may use it: it is going to be stored
	// errorShared: not stored, but followers take it all the same (sharedError): an
	// origin error they would otherwise each ask the origin for again.
	errorShared bool
	secondary   string // the secondary key it was fetched for ("" without Vary)
	vary        []string
	originCode  int // the status the origin answered with (304 on a revalidation)
	// pending: the origin's body had not all arrived with its head (answer.pending): a
	// client streaming it gets the head at once (FlushHead), not once body bytes came.
	pending bool
	// dropped is set when a fill that meant to store (shareable) ended with its body whole
	// but nothing stored: larger than cache.max_object_size once its chunks were counted,
	// refused by the store or the disk tier. Set before the Call finishes, so a reader that
	// read to the end sees it (unstored).
	dropped atomic.Bool
}

// unstored reports a fill whose readers' heads said "stored" (RFC 9211 section 2.5) that
// stored nothing after all: the access record of a streamed answer says so (finish).
func (h *fillHead) unstored() bool { return h.dropped.Load() }

// conditionalFields are stripped from a fill request: the cache wants the whole object, and
// answers the client's own conditionals and ranges from it.
var conditionalFields = []string{"If-None-Match", "If-Modified-Since", "If-Match", "If-Unmodified-Since", "If-Range", "Range"}

// fillAttempts bounds the fills one request tries: the one it joins, the one of the variant
// that fill's Vary selects for it, and then one of its own. Only a follower is sent on (a
// fill it may not share, a lingering fill it may not use), and an alone fill always leads,
// so the last attempt always answers.
const fillAttempts = 3

// fillNext is what a fill attempt tells fill: answered, or try again.
type fillNext uint8

const (
	fillAnswered    fillNext = iota
	fillAgainAlone           // try again with a private fetch
	fillAgainShared          // try again by joining the fill of l.key (the variant's key, just set)
)

// fill joins (or starts) the one origin fetch for l.key and serves its result. alone starts a
// private fetch that nobody joins: responses that must not be shared. A request sent on by
// the fill it joined tries again (fillAttempt), at most fillAttempts times in all, the last
// alone.
func (p *pipeline) fill(x *exchange, l *lookup, alone bool) string {
	// One miss per request, as /stats and shoal_edge_cache_misses_total promise: a follower
	// sent on to fetch again is still the one request.
	p.metrics.misses.Inc()
	for attempt := 1; ; attempt++ {
		if attempt == fillAttempts {
			// A variant's fill that sends us on again (its Vary changed between
			// responses) would keep doing so: fetch alone, which always answers.
			alone = true
		}
		result, next, followed := p.fillAttempt(x, l, alone)
		switch next {
		case fillAnswered:
			if followed {
				// Once per request, by the attempt that answered it: a follower sent on
				// to its variant's fill joined twice, and counted twice, and one that
				// went on to fetch alone followed nobody.
				p.metrics.coalesced.Inc()
			}
			return result
		case fillAgainAlone:
			alone = true
		case fillAgainShared:
			alone = false
		}
	}
}

// fillAttempt is one attempt of fill: it joins or starts the fetch and serves its result, or,
// as a follower of a fill it may not use, says how to try again. It never sends a leader on.
// followed says the attempt joined another request's fill.
func (p *pipeline) fillAttempt(x *exchange, l *lookup, alone bool) (_ string, _ fillNext, followed bool) {
	coalesceKey := l.key
	if alone {
		coalesceKey = "\x00alone" + strconv.FormatUint(fillSeq.Add(1), 10)
	}
	maxObject := int64(l.rt.cfg.Cache.MaxObjectSize)
	call, reader, leader := p.fills.Join(coalesceKey, coalesce.Options{KeepLimit: maxObject})
	l.status.collapse(!leader)
	if !call.HeadDone() {
		p.processing(x) // the forwarding peer waits for the origin's head through us
	}
	// Whether the join found the fill finished is decided at the join: a follower that
	// joined a fetch in flight and looks only after it ended still waited for it.
	lingering := reader.JoinedLate()
	if leader {
		p.startFill(x, l, call, true)
	} else {
		followed = true
	}
	h, err := call.Head()
	if err != nil {
		reader.Close()
		if l.stale != nil && l.use.StaleIfError {
			l.status.staleOnError(0)
			if p.serveStale(x, l) {
				return "stale", fillAnswered, followed
			}
			l.status.staleGone()
		}
		if unvalidated(l, err) {
			p.log.Warn("origin request failed", "pool", l.r.pool.Name(), "err", err)
			plainError(x, http.StatusGatewayTimeout, "gateway timeout: the stored response must be validated and origin pool "+l.r.pool.Name()+" could not be reached")
			return "error", fillAnswered, followed
		}
		p.originError(x, l.r.pool, err)
		return "error", fillAnswered, followed
	}
	if lingering && h.shareable && h.secondary == secondaryOf(h.vary, requestViewFor(x, h.vary)) {
		// A finished fill kept joinable until the store shows its object (Group.Linger):
		// its response is a stored one in all but name, so it answers only if this request
		// may use it as is, and then it is a hit.
		resp := httpcache.Response{Status: h.status, Header: h.header, RequestTime: h.reqTime, ResponseTime: h.respTime}
		if l.rt.policy.Evaluate(l.req, resp, h.decision, p.now()).State != httpcache.Fresh {
			// Not fresh enough for this request: ask the origin, alone (joining again would
			// find the same lingering fill).
			reader.Close()
			return "", fillAgainAlone, followed
		}
		// Counted as a coalesced miss in the metrics (it did join a fill); a hit to the client.
		l.status.collapse(false)
		l.status.serve(servedHit)
		p.serveFill(x, l, h, reader, int64(l.rt.cfg.Cache.MaxObjectSize))
		return "hit", fillAnswered, followed
	}
	if staleOnError(h.status) && l.stale != nil && l.use.StaleIfError {
		// RFC 5861 section 4: these statuses are the errors stale-if-error covers.
		l.status.staleOnError(h.status)
		if p.serveStale(x, l) {
			reader.Close()
			return "stale", fillAnswered, followed
		}
		l.status.staleGone() // the disk copy is gone: the origin's answer
	}
	if !leader && !h.shareable && !h.errorShared || !leader && h.secondary != secondaryOf(h.vary, requestViewFor(x, h.vary)) {
		// Not ours to share (private, uncacheable, another variant): fetch alone, or join
		// the fill of the variant this request selects under the response's Vary.
		reader.Close()
		if len(h.vary) > 0 && h.shareable {
			if sk, ok := httpcache.SecondaryKey(h.vary, requestViewFor(x, h.vary)); ok {
				l.key = l.url + "\x00" + sk
				return "", fillAgainShared, followed
			}
		}
		return "", fillAgainAlone, followed
	}
	l.status.filled(h.originCode, h.shareable)
	p.serveFill(x, l, h, reader, int64(l.rt.cfg.Cache.MaxObjectSize))
	return "miss", fillAnswered, followed
}

// unvalidated reports a validation that failed for want of an origin to ask, of a stored
// response whose own directives forbid serving it stale (must-revalidate, proxy-revalidate,
// s-maxage, no-cache). RFC 9111 section 5.2.2.2 (and 4.2.4): the cache "MUST generate an error
// response rather than reuse the stale response", and it "SHOULD be 504 (Gateway Timeout)
// unless another error status code is more applicable": a connection refused, reset or closed
// before any response byte is a 504 there (a miss meeting the same failure stays nginx's
// 502). More applicable stay: 503 when the pool has no server or is saturated (the node
// knows why), 502 when the origin answered something that is no HTTP response, and a fill
// timeout is a 504 anyway.
func unvalidated(l *lookup, err error) bool {
	if l.stale == nil || l.stale.Meta == nil || !l.stale.Meta.Decision().MustRevalidate && !l.stale.Meta.NoCache() {
		return false
	}
	var oe *origin.Error
	return errors.As(err, &oe) && (oe.Kind == origin.KindConnect || oe.Kind == origin.KindReset)
}

// secondaryOf is the variant a request selects under the given Vary names ("" without Vary).
func secondaryOf(vary []string, req httpcache.Header) string {
	if len(vary) == 0 {
		return ""
	}
	sk, _ := httpcache.SecondaryKey(vary, req)
	return sk
}

// sharedError reports an origin error the followers of its fill take as their answer though
// it is not stored: a 500, 502, 503 or 504 that no rule keeps from sharing (no-store,
// private, an Authorization the response does not allow, Vary: *, a Set-Cookie), refused
// by the storage rules only for giving no freshness. The followers asked while the origin
// was making it, for the same object. Sent on to fetch alone, as for any response not
// stored, each of them asked the failing origin again at once: a burst of 5xx under N
// concurrent requests for a hot object became N origin requests per round, the herd a
// coalesced fill exists to prevent, and the way a few 5xx turn into an outage (Varnish and
// nginx's proxy_cache_lock release their waiters to the origin likewise).
func sharedError(status int, header httpcache.Header, d httpcache.StoreDecision) bool {
	return staleOnError(status) && !d.Store && statusOnly(d.Reason) && !header.Has("Set-Cookie")
}

// staleOnError lists the statuses RFC 5861 section 4 counts as an error.
func staleOnError(status int) bool {
	switch status {
	case 500, 502, 503, 504:
		return true
	}
	return false
}

func requestViewFor(x *exchange, vary []string) httpcache.Header {
	return requestView(x.req, vary)
}

// startFill runs the fetch for the Call. A leader with a client waiting (hints not nil)
// fetches on its own goroutine when the origin's own bounds end every stall of the fetch
// within cache.fill_timeout (fillInline): the head, and a body of known length up to
// inlineBody, arrive before startFill returns, with no goroutine to start, hand over to and
// wait for; a longer body goes on in a goroutine of its own once the head is published, so
// the leader streams it as it arrives like every other reader. Otherwise (a background
// revalidation, or a pool whose timeouts exceed the fill's) the whole fill runs in its own
// goroutine, which copies what it needs out of the client's request (which fasthttp
// recycles); a client that goes away never ends a fill either way.
//
// lead says x is the leader's, waiting for the head: startFill returns once the head is
// published or the Call ended, having relayed the Link fields of each 103 Early Hints the
// origin sent before its final response as it came (a fill in its own goroutine hands up
// to four to the leader; more are dropped). Without lead
// (a background revalidation) it returns at once.
func (p *pipeline) startFill(x *exchange, l *lookup, call *fillCall, lead bool) {
	out := x.outgoing()
	p.originRequestPolicy(x, l.rt.rulesFor(l.r), out)
	// GET whatever the client asked: a HEAD miss still fetches the object the cache stores.
	out.setMethod(http.MethodGet)
	for _, f := range conditionalFields {
		out.Del(f)
	}
	if l.stale != nil {
		for _, f := range httpcache.ConditionalHeaders(l.stale.Meta.Response(l.stale)) {
			out.Set(f.Name, f.Value)
		}
	}
	var ipBuf [len("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff%") + 16]byte
	setForwardingFields(out, clientIPIn(ipBuf[:0], x.clientAddr()), x.scheme(), p.requestVia(x))
	inline := lead && fillInline(l.rt.cfg, l.r.pool.Name())
	job := newFillJob()
	job.lookup = *l
	job.out = out
	job.view = x.req // borrowed while the fill runs on the request's goroutine
	// Only fetch reads the target, so a fill whose fetches run on the request's goroutine
	// borrows its hash key from the request; one that outlives the handler owns a copy.
	job.target = p.borrowedTarget(x, l.r)
	job.call = call
	job.target.Idempotent = true
	p.bg.start()
	p.metrics.inFlightFills.Inc()
	if !inline {
		job.target.HashKey = strings.Clone(job.target.HashKey)
		job.view = x.req.clone()
		var hints chan earlyHints
		if lead {
			hints = make(chan earlyHints, 4)
			job.target.OnInterim = interimToChan(hints)
		}
		go p.runFill(job)
		if lead {
			p.waitHead(x, call, hints)
		}
		return
	}
	// The fetch runs on x's goroutine: it relays each 103 to x as it comes, as a pass does
	// (TestReview4_leaderRelaysEarlyHintsBeforeTheFinalHead).
	job.client = x
	job.target.OnInterim = job.onInterim
	// The fill timer cannot answer this client while its goroutine waits in the fetch, and
	// an origin's inactivity bound does not end a head that trickles in: the head's wait
	// ends when the timer's would (TestReview4_leaderOfATrickledHeadIsAnsweredAtTheFillTimeout).
	job.target.HeadDeadline = time.Now().Add(l.rt.cfg.Cache.FillTimeout.D())
	if !p.fillHead(job) {
		return
	}
	if job.h.length < 0 || job.h.length > inlineBody {
		// The request's view outlives handle in the body's goroutine (fillObject,
		// diskWriter read it at store time).
		job.view = x.req.clone()
		go p.fillBody(job)
		return
	}
	p.fillBody(job)
}

// inlineBody is the largest body of known length a leader copies on its own goroutine
// before it answers (startFill): it arrives in a read or two, and the Call keeps it, so no
// Write waits for the leader's own reader. The copy buffer's size.
const inlineBody = 32 << 10

// fillInline reports whether a leader may fetch on its own goroutine from the named pool:
// every attempt the pool may make (1 + retries) may wait in its queue (when it has
// max_conns) and for its connect, and those waits together end within cache.fill_timeout;
// the head's reads end by the fill's deadline whatever the origin does
// (origin.Target.HeadDeadline), and first_byte_timeout bounds each later read of the body
// too. So the leader's client waits no longer for one stall than the fill timer would let
// it; the timer still ends the Call for the followers. With the defaults (connect_timeout
// 2s, retries 2, queue_timeout 5s, first_byte_timeout 15s, fill_timeout 30s) it does.
func fillInline(cfg *conf.Config, pool string) bool {
	pc := cfg.Origins[pool]
	if pc == nil {
		return false
	}
	limit := cfg.Cache.FillTimeout.D()
	attempt := pc.ConnectTimeout.D()
	if pc.MaxConns > 0 {
		attempt += pc.QueueTimeout.D()
	}
	attempts := time.Duration(1 + max(pc.Retries, 0))
	return pc.FirstByteTimeout.D() <= limit && attempt <= limit/attempts
}

type fillJob struct {
	lookup
	out *fieldList // the request sent to the origin (outgoing), written once per fetch
	// view is the client's request as the fill's variant decisions see it (Vary): the
	// client's own while the fill runs on its goroutine, a copy before any goroutine of the
	// fill's outlives handle (the listener reuses the client's).
	view   *fieldList
	target origin.Target
	call   *fillCall

	// client is the leader's exchange when the fill runs on its goroutine (startFill): the
	// 103s its fetch receives are relayed to it as they come (relayInterim, on the same
	// goroutine). onInterim is relayInterim, made once per pooled job.
	client    *exchange
	onInterim origin.InterimFunc

	// The fill's state from its head to its end (fillHead, fillBody, end).
	//
	// timer is the fill timeout (expire), made once per pooled job and armed again for each
	// fill; fired records that it expired during this fill (a Reset or the last Stop found it
	// so): its function may then still be on its way, so the job is not reused.
	timer      *time.Timer
	fired      bool
	timeout    time.Duration
	generation generations
	a          *answer
	done       func()
	h          *fillHead
	spool      diskStream
	stored     bool
	whole      bool // the body arrived whole and the object was handed on: Finish(nil)
}

// fillJobs holds finished jobs with their timers (newFillJob, end): a fill allocates
// neither.
var fillJobs sync.Pool

func newFillJob() *fillJob {
	if j, ok := fillJobs.Get().(*fillJob); ok {
		return j
	}
	j := &fillJob{}
	j.onInterim = j.relayInterim
	j.timer = time.AfterFunc(time.Hour, j.expire)
	j.timer.Stop()
	return j
}

// relayInterim relays the Link fields of a 103 the fetch received to the leader's client. It
// runs within the fetch, on the client's goroutine (startFill), before the final head.
func (j *fillJob) relayInterim(status int, h *fasthttp.ResponseHeader) {
	if links := hintsOf(status, h); j.client != nil && len(links) > 0 {
		j.client.resp.Interim(http.StatusEarlyHints, links)
	}
}

// expire is the fill timer's function: the origin stalled for cache.fill_timeout. It runs
// on the timer's goroutine; j.call is set before the timer is armed and kept until the job
// is reused, which end allows only when this function cannot be pending.
func (j *fillJob) expire() { j.call.Abort(errFillTimeout) }

var copyBuffers = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// runFill fetches from the origin, publishes the head, streams the body to the readers and
// stores the object when it is complete and storable. It always ends the Call: the fill
// timeout bounds the wait for the head and every stall of the body after it (not the whole
// transfer, which may legitimately take long), so no reader waits forever.
func (p *pipeline) runFill(j *fillJob) {
	if p.fillHead(j) {
		p.fillBody(j)
	}
}

// end releases what the fill held, on whichever goroutine ran its last part: it finishes
// the Call when the body arrived whole, then lets go of the disk copy, the origin's
// answer, the timer and the request.
func (p *pipeline) end(j *fillJob) {
	if j.whole {
		// It lingers even when memory now shows the object: a request whose lookup missed
		// just before the Set joins just after this (the lookup and the Join are two steps),
		// and finds the finished Call instead of starting a second fetch
		// (TestNode_lateJoinAfterAStoredFillFetchesNothing).
		j.call.Finish(nil)
	}
	j.spool.abort() // a fill that ends short stores nothing; after commit a no-op
	if j.a != nil {
		j.a.closeBody()
		j.done()
		j.a.free()
	}
	reusable := j.timer.Stop() && !j.fired
	putOutgoing(j.out)
	p.metrics.inFlightFills.Dec()
	if j.revalidating != nil && !j.stored {
		// A background revalidation that stores nothing releases the stale object's mark,
		// so that a later request may try again.
		j.revalidating.Store(false)
	}
	p.bg.done()
	if reusable {
		// Nothing of this fill (its stale object, its head, its client) stays reachable.
		*j = fillJob{timer: j.timer, onInterim: j.onInterim}
		fillJobs.Put(j)
	}
}

// fillHead fetches the head, decides what the fill keeps, and publishes the head to the
// readers. It reports whether the body is to be copied (fillBody); false means the fill
// ended (an error, a revalidation answered by a 304) and end has run.
func (p *pipeline) fillHead(j *fillJob) (body bool) {
	ended := false // the job was handed to a goroutine that ends it
	defer func() {
		if !body && !ended {
			p.end(j)
		}
	}()
	j.timeout = j.rt.cfg.Cache.FillTimeout.D()
	j.timer.Reset(j.timeout)

	j.generation = p.begin()
	generation := j.generation
	a, done, sent, received, err := p.fetch(j)
	var staleBody *disk.Handle // the body of a disk-bodied stale object (diskrevalidate.go)
	refetch := false
	if err == nil && a.status == http.StatusNotModified && j.stale != nil {
		// RFC 9111 sections 4.3.3-4.3.4: a 304 whose validators select no stored response
		// (the origin changed the object between our copy and its answer) updates nothing.
		// The object is wanted, not an error: ask once more without the conditional fields.
		refetch = !httpcache.NotModifiedMatches(j.stale.Header.View(), a.storedHeader())
		if !refetch && diskBodied(j.stale) {
			staleBody = p.staleDiskBody(j.stale, j.staleRecord)
			refetch = staleBody == nil // the disk copy went (evicted, purged) since the lookup
		}
	}
	if refetch {
		a.closeBody()
		done()
		a.free()
		for _, f := range conditionalFields {
			j.out.Del(f)
		}
		j.stale = nil
		a, done, sent, received, err = p.fetch(j)
	}
	if err != nil {
		p.metrics.fillsAborted.Inc()
		j.call.Finish(err)
		return false
	}
	j.a, j.done = a, done
	if err := unsolicited(a.status, j.out); err != nil {
		// Nothing to store and nothing the client asked for: a 502 (or stale-if-error), as
		// Varnish fails a fetch with "304 response but not conditional fetch".
		p.metrics.fillsAborted.Inc()
		j.call.Finish(err)
		return false
	}

	status := a.status
	header := a.storedHeader()
	if !header.Has("Date") {
		// RFC 9110 section 6.6.1: a cache adds the Date a response lacks when it stores it,
		// the time it was received; hits then say when it was generated, not when served.
		header.Add("Date", received.UTC().Format(http.TimeFormat))
	}
	if status == http.StatusNotModified && j.stale != nil {
		stored, detached := p.finishRevalidation(j, header, sent, received, generation, staleBody)
		if detached {
			ended = true // the body's goroutine ends the job and sets j.stored
			return false
		}
		j.stored = stored
		return false
	}
	h := &fillHead{status: status, header: header, length: int64(a.length), reqTime: sent,
		respTime: received, originCode: status, pending: a.pending}
	j.h = h
	if h.length < 0 {
		h.length = -1
	}
	h.vary = httpcache.VaryNames(header)
	// The request as the rules see it, with the fields this response varies on: the lookup
	// may not have known the Vary names yet.
	view := requestView(j.view, h.vary)
	h.secondary = secondaryOf(h.vary, view)
	h.decision = j.rt.policy.Storable(httpcache.Request{Method: "GET", Header: view}, httpcache.Response{Status: status, Header: header, RequestTime: sent, ResponseTime: received})
	// The route's ttl, stale and strip_set_cookie (routepolicy.go).
	h.decision, header = storePolicy(j.rt.rulesFor(j.r), j.rt.policy, status, header, h.decision)
	written := writtenFields(j.rt.rulesFor(j.r))
	h.header = header
	h.shareable = h.decision.Store
	h.errorShared = sharedError(status, header, h.decision)
	if j.stale != nil && replaced(j.rt.policy, httpcache.Response{Status: status, Header: header, RequestTime: sent, ResponseTime: received}, h.decision) {
		p.dropWithdrawn(j.stale.Key)
	}
	spool := &j.spool // the disk tier's copy of an object memory does not keep
	switch {
	case !h.decision.Store:
		p.metrics.notStored.WithLabelValues("policy").Inc()
	case j.stale != nil && (j.use.StaleIfError || j.revalidating != nil) && staleOnError(status):
		// RFC 9111 section 4.3.3: a 5xx to a validation lets the cache "act as if the server
		// failed to respond", and RFC 5861 section 4's stale-if-error covers exactly these.
		// Stored, an error page with freshness of its own replaced the copy the grace serves,
		// and every request until it expired got the error as a fresh hit. The same for the
		// background revalidation of a copy stale-while-revalidate serves (revalidating): the
		// window goes on serving the copy, and a later request tries again. Its followers
		// share it as any unstored error (sharedError) unless it is not for sharing (a
		// Set-Cookie); those with the stale copy serve that.
		h.errorShared = unshared(header, h.decision, h.vary, view, written) == ""
		h.shareable, h.decision.Reason = false, "error within stale-if-error"
		p.metrics.notStored.WithLabelValues("policy").Inc()
	case a.framedTwice:
		// RFC 9112 section 6.3: "ought to be handled as an error". The client that asked
		// gets it as read by its Transfer-Encoding; nobody else gets it from the store.
		h.shareable, h.decision.Reason = false, "framed twice"
		p.metrics.notStored.WithLabelValues("framing").Inc()
	case unshared(header, h.decision, h.vary, view, written) != "":
		h.shareable, h.decision.Reason = false, unshared(header, h.decision, h.vary, view, written)
		p.metrics.notStored.WithLabelValues("policy").Inc()
	case p.diskOnly(j.rt.cfg, h.length):
		// Too large for memory (or above cache.disk.ram_cache_cutoff): streamed to the
		// clients as it arrives and, through a spool, to the disk tier (diskWriter).
		if spool.w = p.diskWriter(j, h, generation); spool.w == nil && h.length > int64(j.rt.cfg.Cache.MaxObjectSize) {
			h.shareable, h.decision.Reason = false, "too large"
			p.metrics.notStored.WithLabelValues("too_large").Inc()
			p.markLarge(j, h, received)
		}
	case h.length > int64(j.rt.cfg.Cache.MaxObjectSize):
		h.shareable, h.decision.Reason = false, "too large"
		p.metrics.notStored.WithLabelValues("too_large").Inc()
		p.markLarge(j, h, received)
	}
	if h.shareable && h.length < 0 && p.disk != nil {
		// Unknown length: memory keeps it up to cache.max_object_size; past that, disk.
		spool.at = int64(j.rt.cfg.Cache.MaxObjectSize)
		spool.start = func() *disk.Writer { return p.diskWriter(j, h, generation) }
	}
	maxMemory := int64(j.rt.cfg.Cache.MaxObjectSize)
	switch {
	case !h.shareable:
		j.call.Unshare()
		// Nothing will store it: the readers get it through a window, not from a copy of
		// the whole body held until the last of them is done.
		j.call.StopKeeping()
		if marksPass(h) {
			p.passMark.mark(j.url, received)
		}
	case h.length > maxMemory:
		// Memory will not store it (the disk's alone, or nobody), but requests that arrive
		// while it streams must still join this one fetch: the Call keeps it until
		// KeepLimit and only then streams through a window (TestDiskTier_coalescedFollowersOfALargeFill).
	case h.length > 0:
		j.call.Reserve(h.length) // one exact allocation for the body memory stores
	}
	j.call.SetHead(h)
	return true
}

// fillBody streams the origin's body into the Call and stores the object when it arrived
// whole and storable; then it ends the fill (end).
func (p *pipeline) fillBody(j *fillJob) {
	defer p.end(j)
	h := j.h
	defer func() {
		// Before end finishes the Call: its readers see it once they read the end.
		if j.whole && h.shareable && !j.stored {
			h.dropped.Store(true)
		}
	}()
	complete := p.copyBody(j, j.a.body(), h.length, &j.spool, func() {
		if !j.timer.Reset(j.timeout) {
			j.fired = true // it expired: the Call is aborted, and the next Write says so
		}
	})
	if !complete {
		return
	}
	// Store before finishing the call (end finishes it): a client that has read the whole
	// body and asks again then finds the object (a memory Set is visible when it returns; a
	// disk commit is queued, and the call's linger covers it).
	j.whole = true
	if w := j.spool.w; w != nil {
		if len(h.vary) > 0 {
			p.store.SetVary(j.url, h.vary)
		}
		if j.stored = p.commitDisk(j.key, w); j.stored {
			return
		}
		// Refused (queue full, the body outgrew the disk's limit): memory takes it if it
		// kept it, as without a disk tier.
	}
	body, kept := j.call.Written()
	if !h.shareable || !kept {
		if h.shareable {
			p.metrics.notStored.WithLabelValues("too_large").Inc()
		}
		return
	}
	if len(h.vary) > 0 {
		p.store.SetVary(j.url, h.vary)
	}
	j.stored = p.storeObject(j, h, body, j.generation)
}

// fetch sends the fill request to the pool: the answer with its head read, the done
// function that gives its connection back (see origin.Pool.Do), and when the request left
// and the head came.
func (p *pipeline) fetch(j *fillJob) (a *answer, done func(), sent, received time.Time, err error) {
	sent = p.now()
	res, a, done, err := askPool(j.r.pool, j.out, nil, 0, nil, j.target, nil)
	received = p.now()
	if j.client != nil {
		// The leader's own goroutine (startFill): its record names the fetch (a fill on a
		// goroutine of its own may outlive the leader's exchange, and writes nothing there).
		if err == nil {
			j.client.askedUpstream(j.r.pool.Name(), res.Addr, a.status, received.Sub(sent))
		} else {
			// Only here: originAddr's errors.As costs an allocation.
			j.client.askedUpstream(j.r.pool.Name(), originAddr(err), 0, received.Sub(sent))
		}
	}
	if err != nil {
		return nil, nil, sent, sent, err
	}
	p.metrics.originTimeBy.get1(j.r.pool.Name()).Observe(received.Sub(sent).Seconds())
	return a, done, sent, received, nil
}

// marksPass says whether an unshareable response should send the URL's next requests to the
// origin each on its own. Not for reasons that belong to one request or one moment: a
// client's no-store, an object too large, or an origin error (queueing behind one fill is
// what protects a failing origin).
func marksPass(h *fillHead) bool {
	switch {
	case h.decision.Reason == "too large", h.decision.Reason == "request no-store", h.status >= 500:
		return false
	}
	return true
}

// copyBody streams the origin body into the Call. It reports whether the body arrived whole;
// on failure it has finished the Call with the error, on success the caller finishes it.
//
// spool receives every chunk too (diskStream.write); its own errors (the body outgrew the
// disk's limit) abandon only the disk copy, never the clients' stream.
//
// progress runs after each read that leaves more to read: the next read may wait on the
// origin (fillBody re-arms the fill timeout there). A read that ends the body (a body that
// came with its head ends with its first read) waits on nothing more, so a small miss arms
// the timer once per fill, not twice (issue 15's miss profile).
func (p *pipeline) copyBody(j *fillJob, body io.Reader, length int64, spool *diskStream, progress func()) bool {
	bufp := copyBuffers.Get().(*[]byte)
	defer copyBuffers.Put(bufp)
	buf := *bufp
	var total int64
	for {
		k, err := body.Read(buf)
		if k > 0 {
			if err == nil {
				progress()
			}
			spool.write(j.call, total, buf[:k]) // before the Call: it may stop keeping the body
			total += int64(k)
			p.metrics.bytesIn.Add(float64(k))
			if _, werr := j.call.Write(buf[:k]); werr != nil {
				p.metrics.fillsAborted.Inc()
				return false
			}
			if spool.w == nil && spool.start == nil && j.call.Unread() {
				// Nothing stores it and nobody reads it any more (the one client of an
				// object too large to keep got its range, or went): fetching the rest
				// would only spend the origin's and this node's bandwidth.
				p.metrics.fillsAborted.Inc()
				p.metrics.notStored.WithLabelValues("incomplete").Inc()
				j.call.Finish(errFillUnread)
				return false
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			p.metrics.fillsAborted.Inc()
			p.metrics.notStored.WithLabelValues("incomplete").Inc()
			j.call.Finish(err)
			return false
		}
	}
	if length >= 0 && total != length {
		p.metrics.notStored.WithLabelValues("incomplete").Inc()
		j.call.Finish(io.ErrUnexpectedEOF)
		return false
	}
	return true // the caller stores the object, then finishes the call
}

func (p *pipeline) storeObject(j *fillJob, h *fillHead, body []byte, generation generations) bool {
	obj, ok := fillObject(j, h, fitBody(body), generation)
	if !ok {
		return false
	}
	if p.setObject(obj, generation.disk) {
		p.metrics.stored.Inc()
		return true
	}
	p.metrics.notStored.WithLabelValues("refused").Inc()
	return false
}

// fitBody returns body in an allocation of its own size when the one it is in has more than
// an eighth to spare: a body of unknown length (chunked) grew by appends, and the store
// charges an object by its length, so spare capacity it kept would be memory nobody counts.
func fitBody(body []byte) []byte {
	if cap(body)-len(body) <= len(body)/8 {
		return body
	}
	return append(make([]byte, 0, len(body)), body...)
}

// fillObject is the object a fill stores: the response's storable fields, under the key of
// the variant the request selects.
func fillObject(j *fillJob, h *fillHead, body []byte, generation generations) (*cachestore.Object, bool) {
	stored := httpcache.StripUnstorable(h.header, h.decision)
	obj := &cachestore.Object{
		Key: j.key, URL: j.url, Status: int32(h.status), Header: httpcache.Pack(stored), Body: body,
		RequestTime: cachestore.StampOf(h.reqTime), ResponseTime: cachestore.StampOf(h.respTime), Generation: generation.memory,
		Tags: cachestore.NewTags(surrogateKeys(stored)...), Meta: cachestore.NewMeta(h.decision, stored),
	}
	if len(h.vary) > 0 {
		// The key of the variant this request selects under the response's own Vary (RFC
		// 9111 section 4.1), not under the names the lookup knew before.
		sk, ok := httpcache.SecondaryKey(h.vary, requestView(j.view, h.vary))
		if !ok {
			return nil, false
		}
		obj.Key = j.url + "\x00" + sk
	}
	obj.Compact() // key, URL and header in one allocation: one heap object less to mark
	return obj, true
}

// finishRevalidation turns a 304 into the stored object with freshened fields (RFC 9111
// section 4.3.4) and serves that to the readers.
//
// onDisk, when not nil, is the body of a stale object that was left on disk: it is streamed
// to the readers and the record is written again with the freshened head (refreshFromDisk).
// It reports whether the object was stored, and detached when that copy was handed to a
// goroutine of its own, which then sets j.stored and ends the job.
func (p *pipeline) finishRevalidation(j *fillJob, notModified httpcache.Header, sent, received time.Time, generation generations, onDisk *disk.Handle) (stored, detached bool) {
	old := j.stale
	if !httpcache.NotModifiedMatches(old.Header.View(), notModified) {
		// RFC 9111 section 4.3.4: a 304 that selects no stored response updates nothing.
		if onDisk != nil {
			onDisk.Close()
		}
		j.call.Finish(errNotModifiedMismatch)
		return false, false
	}
	resp := httpcache.FreshenResponse(j.stale.Meta.Response(old), httpcache.Response{Status: http.StatusNotModified, Header: notModified, RequestTime: sent, ResponseTime: received})
	header := resp.Header
	decision := j.rt.policy.Storable(httpcache.Request{Method: "GET", Header: j.req2cache()}, resp)
	decision, header = storePolicy(j.rt.rulesFor(j.r), j.rt.policy, int(old.Status), header, decision)
	if !decision.Store && withdrawn(j.rt.policy, httpcache.Response{Status: int(old.Status), Header: header, RequestTime: resp.RequestTime, ResponseTime: resp.ResponseTime}) {
		p.dropWithdrawn(old.Key)
	}
	vary := httpcache.VaryNames(header)
	if why := unshared(header, decision, vary, requestView(j.view, vary), writtenFields(j.rt.rulesFor(j.r))); decision.Store && why != "" {
		// A Set-Cookie in the 304 is the session of the client whose request was
		// revalidated: stored, every later hit would hand it out. The stored response
		// the 304 updates (RFC 9111 section 4.3.4) is now one the node does not share, so
		// the old copy goes too, as for a full answer with a Set-Cookie (replaced): kept,
		// stale-while-revalidate and stale-if-error served it to others under the head the
		// origin had just replaced, and Varnish's fetch kills the object it revalidated
		// whatever the result's cacheability.
		decision.Store, decision.Reason = false, why
		p.metrics.notStored.WithLabelValues("policy").Inc()
		p.dropWithdrawn(old.Key)
	}
	key, ok := revalidatedKey(j, vary)
	if decision.Store && !ok {
		decision.Store, decision.Reason = false, "vary"
		p.metrics.notStored.WithLabelValues("policy").Inc()
		p.dropWithdrawn(old.Key)
	}
	h := &fillHead{status: int(old.Status), header: header, length: int64(len(old.Body)), reqTime: resp.RequestTime, respTime: resp.ResponseTime,
		decision: decision, shareable: decision.Store, vary: vary, originCode: http.StatusNotModified}
	h.secondary = secondaryOf(h.vary, requestView(j.view, h.vary))
	if onDisk != nil {
		h.length = onDisk.BodyLength()
		j.call.SetHead(h)
		if j.client != nil && h.length > inlineBody {
			// A leader fetching on its own goroutine reads the Call only once this returns,
			// and the Call holds at most max_object_size: a larger disk body copied here
			// would wait on its own reader until the fill timer ended it, as fillBody's copy
			// would (startFill). The copy then ends the job.
			go func() {
				defer p.end(j)
				j.stored = p.refreshFromDisk(j, h, key, onDisk, generation)
			}()
			return false, true
		}
		return p.refreshFromDisk(j, h, key, onDisk, generation), false
	}
	j.call.SetHead(h)
	j.call.Write(old.Body)
	j.call.Finish(nil)
	if decision.Store {
		// Without the fields the 304 names in private="..." (RFC 9111 section 5.2.2.7), as
		// fillObject stores a 200.
		obj := &cachestore.Object{Key: key, URL: old.URL, Status: old.Status, Header: httpcache.Pack(httpcache.StripUnstorable(header, decision)), Body: old.Body,
			RequestTime: cachestore.StampOf(resp.RequestTime), ResponseTime: cachestore.StampOf(resp.ResponseTime), Generation: generation.memory, Tags: cachestore.NewTags(surrogateKeys(header)...),
			Meta: cachestore.NewMeta(decision, header)}
		obj.Compact()
		p.rekeyed(j, key, vary)
		if p.setObject(obj, generation.disk) {
			p.metrics.stored.Inc()
			return true, false
		}
	}
	return false, false
}

// revalidatedKey is the key a stored response freshened by a 304 is kept under (RFC 9111
// sections 4.3.4 and 4.1). The 304's fields replace the stored ones, Vary included, so the
// response is from then on selected by the fields its new Vary names, with the values of
// the request the 304 answered: the origin has just said the stored response is its answer
// to that request. Kept under its old key when the Vary it selected by is unchanged or the
// 304 names none; ok is false when this request selects no variant under the new names.
func revalidatedKey(j *fillJob, vary []string) (key string, ok bool) {
	if len(vary) == 0 {
		return j.stale.Key, true
	}
	sk, ok := httpcache.SecondaryKey(vary, requestView(j.view, vary))
	if !ok {
		return "", false
	}
	if key = j.url + "\x00" + sk; key == j.stale.Key {
		return j.stale.Key, true
	}
	return key, true
}

// rekeyed records the URL's Vary names before a freshened response is stored under key, and
// drops the stored response from its old key when the 304 moved it (revalidatedKey): left
// there, every request the old Vary selected it for got it as a hit, in any language the
// new Vary sets apart.
func (p *pipeline) rekeyed(j *fillJob, key string, vary []string) {
	if key == j.stale.Key {
		return
	}
	p.store.SetVary(j.url, vary)
	p.dropWithdrawn(j.stale.Key)
}

var errNotModifiedMismatch = errors.New("edge: origin answered 304 for a response the cache does not hold")

var (
	errUnsolicitedNotModified = errors.New("edge: origin answered 304 to a fill request without If-None-Match or If-Modified-Since")
	errUnsolicitedPartial     = errors.New("edge: origin answered 206 to a fill request without Range")
	errFillUnread             = errors.New("edge: fill stopped: nobody reads or stores its body")
)

// unsolicited reports an origin answer the fill request out cannot have asked for. A fill
// asks for the whole object (startFill drops the client's Range and preconditions) and is
// conditional only when it revalidates a stored response: a 304 to an unconditional fill
// selects nothing to serve or update (RFC 9110 section 15.4.5: it answers a conditional GET
// or HEAD), and a 206 to a request without Range (section 15.3.7: it answers a range
// request) is a part the fill never asked for. Relayed, the client got a 304 to a request
// with no validator of its own, or a part as if it were what it asked for.
func unsolicited(status int, out *fieldList) error {
	switch {
	case status == http.StatusNotModified && out.Peek("If-None-Match") == nil && out.Peek("If-Modified-Since") == nil:
		return errUnsolicitedNotModified
	case status == http.StatusPartialContent && out.Peek("Range") == nil:
		return errUnsolicitedPartial
	}
	return nil
}

// revalidateInBackground refreshes a stale object served under stale-while-revalidate:
// exactly one background fetch per key, whoever asks.
//
// The coalesced fill covers requests that overlap it; the object's mark covers those that
// still read obj after the fill ended but before the store shows its replacement (the store
// applies writes asynchronously).
func (p *pipeline) revalidateInBackground(x *exchange, l *lookup, obj *cachestore.Object) {
	mark := &obj.Meta.Revalidating
	if !mark.CompareAndSwap(false, true) {
		return
	}
	bg := *l
	bg.sc = nil // the request's scratch is not the revalidation's (it returns with handle)
	bg.stale = obj
	bg.revalidating = mark
	// Its own key: a finished fill of bg.key may still be joinable (Group.Linger), and it
	// holds the stale response this fetch is meant to replace.
	call, reader, leader := p.fills.Join(bg.key+"\x00revalidate", coalesce.Options{KeepLimit: int64(l.rt.cfg.Cache.MaxObjectSize)})
	reader.Close()
	if leader {
		p.startFill(x, &bg, call, false)
		return
	}
	mark.Store(false) // a validation already running will store the replacement
}

// req2cache is the fill request as the cache rules see it.
func (j *fillJob) req2cache() httpcache.Header {
	return requestView(j.view, j.vary)
}

func containsStar(names []string) bool {
	for _, n := range names {
		if n == "*" {
			return true
		}
	}
	return false
}

// surrogateKeys reads the purge tags of a response: Surrogate-Key (space separated) and
// Cache-Tag (comma separated).
func surrogateKeys(h httpcache.Header) []string {
	var tags []string
	for _, v := range h.Values("Surrogate-Key") {
		tags = append(tags, strings.Fields(v)...)
	}
	for _, v := range h.Values("Cache-Tag") {
		for _, t := range strings.Split(v, ",") {
			if t = trimOWSString(t); t != "" {
				tags = append(tags, t)
			}
		}
	}
	return tags
}
