package origin

import (
	"errors"
	"io"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// Target is what the balancer may look at for one request, and the request's hook.
type Target struct {
	ClientIP   netip.Addr // for source hashing and stickiness by source
	StickyID   string     // value of the pool's sticky cookie in the request, "" if none
	HashKey    string     // for the uri balancer: the request URI
	Idempotent bool       // may be retried after a connect failure/reset before any response byte
	// OnInterim, if not nil, receives every interim (1xx) response the server sends before its
	// final one (RFC 9110 §15.2), e.g. 103 Early Hints with its Link fields, or 100 Continue.
	// It is called on the goroutine of Do, in the order received, before Do returns, and never
	// after; never for an attempt that is later retried (no retry follows a response byte).
	// header is valid only during the call: copy what is kept. 101 is never passed (the edge
	// asks for no upgrade: Do fails with a protocol error), nor is a 1xx ever the final
	// response Do returns. 100 Continue answers this hop's Expect: a proxy that already
	// answered its own client's expectation does not relay it.
	OnInterim InterimFunc
	// HeadDeadline, if not zero, ends the wait for the response head (every interim one
	// included) at that time however the bytes trickle in: first_byte_timeout bounds each
	// read, not the head. A caller with a bound of its own on the head sets it (the edge's
	// fill run on its client's goroutine, cache.fill_timeout). An ended wait is a timeout.
	HeadDeadline time.Time
}

// Result says which server answered.
type Result struct {
	Server    string // the server's opaque id
	Addr      string // the server's host:port, for the access log
	SetCookie string // a full Set-Cookie value the edge must add to the response when stickiness (re)assigned this client, "" otherwise
	// FramedTwice says the answer carried both Content-Length and Transfer-Encoding (RFC
	// 9112 section 6.3): read by its Transfer-Encoding, and a sign of smuggling that a
	// cache does not store (the connection is closed after it).
	FramedTwice bool
	// BodyPending says the body had not all arrived with the head: a caller relaying it sends
	// the head on at once rather than hold it in a write buffer for body bytes that may
	// trickle (nginx passes a head on as it comes).
	BodyPending bool
}

// Do sends req to a server of the pool and reads the response head into resp. The body is
// streamed: the caller reads resp.BodyStream() (never nil on success) and must call done() once it
// has finished with the body, and before it releases or resets resp; done releases the connection
// slot (least connections, max_conns) and returns the connection to the keep-alive pool if the
// body was read to its end, or closes it otherwise. done is idempotent; closing the body stream
// (as fasthttp does when it finishes writing a response that carries it) calls it too. It must
// not run concurrently with a read of the body.
//
// Do may rewrite req's Host header (pool key host) and its URI scheme (to the server's). A
// request is retried on another server, up to retries times, only when t.Idempotent, its body
// is not a stream, and the failure was a refused or dropped connection before any response
// byte; all of that happens before Do returns. On error done is nil and resp is unspecified. A
// 5xx answer is a success for Do (the edge relays it) but counts against the server's passive
// health.
func (p *Pool) Do(req *fasthttp.Request, resp *fasthttp.Response, t Target) (res Result, done func(), err error) {
	res, _, done, err = p.do(fastRequest{req}, answerInto{resp: resp}, t)
	return res, done, err
}

// Send is Do for a request whose head renders itself (RequestHead): the head is written once,
// straight into the connection's write buffer, with the framing of its content and the pool's
// host rewrite. Everything else (retries, interim responses, done, the response) is Do's.
func (p *Pool) Send(req *Request, resp *fasthttp.Response, t Target) (res Result, done func(), err error) {
	res, _, done, err = p.do(req, answerInto{resp: resp}, t)
	return res, done, err
}

// SendHead is Send that reads the final response head into h, the caller's own (the edge
// relays an HTTP/1.1 pass from the head of its client's response, parsed there once, instead
// of copying every field across), and hands the body back as a stream instead of setting it
// on a response. h keeps its settings (normalising, default Date and Content-Type), as
// fasthttp's parser does; only the final head is ever parsed into it: interim heads are read
// apart (see Target.OnInterim), so a caller that relays them through h finds none of theirs
// there. An HTTP/1.1 head is parsed without its hop-by-hop fields (RFC 9110 section 7.6.1,
// Connection and the names it lists; the framing and Trailer kept: relayhead.go), which the
// pool reads itself; another version's is parsed whole. The stream's Close is done. On error,
// h is unspecified and body and done are nil.
func (p *Pool) SendHead(req *Request, h *fasthttp.ResponseHeader, t Target) (res Result, body io.ReadCloser, done func(), err error) {
	res, tb, done, err := p.do(req, answerInto{head: h}, t)
	if err != nil {
		return res, nil, nil, err
	}
	return res, tb, done, nil
}

// answerInto is where an exchange reads its answer: a whole response (Do, Send: the head,
// and the body as its stream), or a head alone (SendHead: the body is handed back).
type answerInto struct {
	resp *fasthttp.Response
	head *fasthttp.ResponseHeader
}

func (p *Pool) do(req outbound, into answerInto, t Target) (res Result, body *trackedBody, done func(), err error) {
	attempts := 1 + p.cfg.retries
	if !t.Idempotent || req.streamed() {
		attempts = 1
	}
	var tried []bool
	var lastErr error
	for attempt := range attempts {
		s, assigned, err := p.acquire(&t, tried)
		if err != nil {
			if lastErr != nil {
				// No other server could take the retry: the failure that caused it is the answer.
				return Result{}, nil, nil, lastErr
			}
			return Result{}, nil, nil, err
		}
		if attempt > 0 {
			p.metrics.retry(p.cfg.name)
		}
		body, done, err := p.exchange(s, req, into, &t)
		if err == nil {
			res = Result{Server: s.cfg.id, Addr: s.cfg.addr, FramedTwice: body.conn.framedTwice, BodyPending: body.conn.pending}
			if assigned {
				res.SetCookie = p.stickyCookie(s)
			}
			return res, body, done, nil
		}
		var oe *Error
		if !errors.As(err, &oe) || !oe.retryable() {
			return Result{}, nil, nil, err
		}
		lastErr = err
		if tried == nil {
			tried = make([]bool, len(p.servers))
		}
		tried[s.index] = true
	}
	return Result{}, nil, nil, lastErr
}

// exchange makes one attempt on s, which holds a slot taken by acquire. On failure it releases
// the slot; on success the returned done does. body.conn.framedTwice is Result.FramedTwice.
func (p *Pool) exchange(s *server, req outbound, into answerInto, t *Target) (body *trackedBody, done func(), err error) {
	req.prepare(s.cfg.tls, p.cfg.hostRewrite)
	// The head is read straight into the caller's response (or head); the body reaches it
	// through a stream that notes whether it reached its end. Only that knowledge lets done
	// return the connection to the keep-alive pool safely: a connection with an unread body
	// still on it must be closed.
	h := into.head
	if into.resp != nil {
		into.resp.Reset()
		h = &into.resp.Header
	}
	body, done = req.hold().take()
	*body = trackedBody{pool: p, server: s}
	start := p.now()
	var headBy int64
	if !t.HeadDeadline.IsZero() {
		headBy = t.HeadDeadline.UnixNano()
	}
	r, err := p.roundTrip(s, req, h, into.resp == nil, t.Idempotent, t.OnInterim, &body.length, headBy, &body.conn)
	end := p.now()
	elapsed := end.Sub(start)
	if err != nil {
		kind := classify(err)
		p.finish(s, kind, 0, elapsed, end)
		p.release(s)
		var se *startedError
		return nil, nil, &Error{Pool: p.cfg.name, Server: s.cfg.id, Addr: s.cfg.addr, Kind: kind, Err: err, started: errors.As(err, &se)}
	}
	p.finish(s, "", h.StatusCode(), elapsed, end)

	body.r = r
	if r == nil { // no body (HEAD, 204, 304): nothing is left on the connection
		body.r, body.eof = eofReader{}, true
	}
	if into.resp != nil {
		// SetBodyStream rewrites Content-Length from its size argument: keep the origin's
		// length, and send a body the origin delimited by closing the connection as chunked
		// instead.
		into.resp.SetBodyStream(body, max(h.ContentLength(), -1))
	}
	return body, done, nil
}

// finish records one attempt in the server's counters, metrics and passive health. A failure
// is a connection error or timeout, and with passive.observe layer7 also a 5xx other than 501
// and 505 (HAProxy's layer7 rule: those say the request, not the server, is at fault). now
// is when the attempt ended (the clock read once for both).
func (p *Pool) finish(s *server, errKind string, status int, elapsed time.Duration, now time.Time) {
	s.counts.requests.Add(1)
	failed := errKind != "" || (p.cfg.observe5xx && status >= 500 && status != 501 && status != 505)
	if failed {
		s.counts.errors.Add(1)
	}
	if errKind == "" {
		if !failed {
			s.counts.latencyNs.Add(int64(elapsed))
		}
		s.metrics.response(status, elapsed)
	} else {
		p.metrics.failure(p.cfg.name, s.label, errKind)
	}
	p.mu.Lock()
	p.recordOutcome(s, failed, now)
	p.mu.Unlock()
}

// trackedBody is the body stream handed to the caller. It remembers whether the origin's body
// was read to its end, and its Close (called by fasthttp when the caller's response is written
// or reset) runs release.
type trackedBody struct {
	r        io.Reader
	eof      bool
	released atomic.Bool
	pool     *Pool
	server   *server
	conn     heldConn   // the connection r reads from, until release
	length   lengthBody // r, for a body delimited by its length
}

func (b *trackedBody) Read(p []byte) (int, error) {
	if b.eof {
		return 0, io.EOF // a finished chunked stream would otherwise block on the connection
	}
	n, err := b.r.Read(p)
	if err == io.EOF {
		b.eof = true
	}
	return n, err
}

func (b *trackedBody) Close() error {
	b.release()
	return nil
}

// release gives the connection back (reusable when the body was read to its end) and frees
// the server's slot; it is Do's done, and idempotent.
func (b *trackedBody) release() {
	if !b.released.CompareAndSwap(false, true) {
		return
	}
	b.conn.finish(b.eof)
	b.pool.release(b.server)
}

// Hold is the storage Pool.Send keeps a response's body stream and connection in until done
// (Request.Hold): a caller that sends many requests keeps one with each response it pools
// and hands it in again, so that a send allocates none of its own (issue 15's pass profile:
// the stream and done were two allocations per request). The zero value is ready. Once Send
// succeeded, the Hold belongs to that response until done was called and the response was
// released or reset (fasthttp closes the stream then, which calls done again: done is
// idempotent); only then may it carry another request. Not for concurrent use.
type Hold struct {
	body trackedBody
	done func() // body.release, made once per Hold
}

// take returns the stream to fill for the next request and its done: h's own, or new ones
// for a nil h (Do, and Send without a Hold).
func (h *Hold) take() (*trackedBody, func()) {
	if h == nil {
		b := new(trackedBody)
		return b, b.release
	}
	if h.done == nil {
		h.done = h.body.release
	}
	return &h.body, h.done
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }
