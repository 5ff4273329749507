package origin

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"
)

// InterimFunc receives one interim (1xx) response of the origin, RFC 9110 §15.2: its status
// and its fields. See Target.OnInterim for when it is called.
type InterimFunc func(status int, header *fasthttp.ResponseHeader)

// maxInterim bounds the interim responses read before the final one; an origin that sends
// more is broken (fasthttp's own client allows 100).
const maxInterim = 32

// staleAcquireLimit bounds how many pooled connections one request may find expired or has to
// skip for a fresh one before it dials anyway.
const staleAcquireLimit = 64

var (
	errSwitchingProtocols = errors.New("origin answered 101 Switching Protocols to a request that asked for no upgrade")
	errTooManyInterim     = fmt.Errorf("origin sent more than %d interim (1xx) responses", maxInterim)
	errBadStatus          = errors.New("origin answered a status below 100")
	errCodedOldVersion    = errors.New("origin sent Transfer-Encoding in a response that is not HTTP/1.1")
	errStatusLine         = errors.New("origin sent a status line read as two statuses")
	errSpacedFieldName    = errors.New("origin sent a field name with a space or tab in it")
)

// startedError marks a failure after the first response byte: the exchange cannot be retried,
// since the server may have acted on the request and interim responses may have been relayed.
type startedError struct{ err error }

func (e *startedError) Error() string { return e.err.Error() }
func (e *startedError) Unwrap() error { return e.err }

// roundTrip sends req to s and reads the final response head into h, the body left on the
// connection behind the returned reader (nil when the response has none). It replaces
// fasthttp's HostClient.Do (it uses the client only for its connection pool) for three things
// that client does not do:
//
//   - Interim responses (RFC 9110 §15.2): every 1xx before the final response is read and
//     handed to onInterim; fasthttp would consume them unseen. 101 is an error: the edge never
//     asks for an upgrade.
//   - Keep-alive limits: a pooled connection idle longer than its limit is closed, never used.
//     The limit is idle_timeout, lowered by the server's Keep-Alive: timeout=N (RFC 2068
//     §19.7.1.1; Apache sends it), so no request is written into a connection the server is
//     closing.
//   - Stale connections: when idempotent and the request body is not a stream, a failure of a
//     reused connection before any response byte (the server closed it while it was idle) is
//     retried once on a new connection to the same server, as nginx and HAProxy do. It is not
//     a failure of the server: nothing is recorded against its health.
//
// The head is parsed once, into the caller's header (Pool.Do's response), and the body is
// read from the connection's reader by our own readers (body.go), never buffered.
//
// held.finish must be called once the body has been read or abandoned: reuse says the body was
// read to its end, and the connection goes back to the pool if the response allows it.
func (p *Pool) roundTrip(s *server, req outbound, h *fasthttp.ResponseHeader, relay bool, idempotent bool, onInterim InterimFunc, lb *lengthBody, headBy int64, held *heldConn) (body io.Reader, err error) {
	return roundTrip(s.client, req, h, relay, idempotent, p.cfg.idleTTL, onInterim, func() { p.metrics.staleRetry(p.cfg.name, s.label) }, lb, headBy, 0, held)
}

// RoundTrip is the exchange Pool.Do makes with one server, for a client the caller keeps (the
// edge's peer hop): it sends req over a connection of hc, hands every interim (1xx) response
// to onInterim (RFC 9110 §15.2; see Target.OnInterim), and reads the final head into resp,
// whose body stays on the connection as resp.BodyStream(). A pooled connection idle longer
// than idle (or the server's Keep-Alive: timeout=N) is never written to; with idempotent, a
// reused connection that fails before any response byte is retried once on a new one.
//
// hc's Dial should come from Dialer: RoundTrip does not use hc's ReadTimeout and WriteTimeout,
// so the connection itself has to bound every read and write. finish must be called once the
// body was read to its end (reuse true: the connection may serve another request) or
// abandoned. ConnectFailed tells an error that sent nothing from one after the request left.
//
// firstByte, when positive, bounds the wait for the server's first response byte (an interim
// response's counts) from the moment the request is written: a server that sent nothing by
// then fails the exchange with a timeout that ResponseStarted reports false for. head, when
// positive, bounds the wait for the final head from then, however many interim responses
// came (a server that says 102 and then stalls): a timeout that ResponseStarted reports true
// for once a byte came. The body is bounded by the connection's inactivity limit alone.
//
// pending says the body had not all arrived with the head (Result.BodyPending): a caller
// relaying it sends the head on before any body byte (the edge's forwarding node, whose
// owner flushed its head for a body still on its way).
func RoundTrip(hc *fasthttp.HostClient, req *fasthttp.Request, resp *fasthttp.Response, idempotent bool, idle, firstByte, head time.Duration, onInterim InterimFunc) (finish func(reuse bool), pending bool, err error) {
	resp.Reset()
	resp.Header.DisableNormalizing()
	var held heldConn
	var firstBy, headBy int64
	if firstByte > 0 || head > 0 {
		now := time.Now()
		if firstByte > 0 {
			firstBy = now.Add(firstByte).UnixNano()
		}
		if head > 0 {
			headBy = now.Add(head).UnixNano()
		}
	}
	body, err := roundTrip(hc, fastRequest{req}, &resp.Header, false, idempotent, idle, onInterim, nil, nil, headBy, firstBy, &held)
	if err != nil {
		return nil, false, err
	}
	finish = held.finisher()
	if body == nil {
		return finish, false, nil
	}
	// SetBodyStream writes its size into the head: the same length, chunked for -1, and
	// Connection: close for -2, which the server did not send (the body's end says it).
	closed := resp.Header.ConnectionClose()
	resp.SetBodyStream(body, resp.Header.ContentLength())
	if !closed {
		resp.Header.ResetConnectionClose()
	}
	return finish, held.pending, nil
}

// ResponseStarted reports whether err, from RoundTrip or Pool.Do, came after the server's
// first response byte: it answered, so the request may have had effects and interim
// responses may have been relayed. An error before that byte (a reset or close with the
// request in flight, as when the server is killed) left the request unanswered.
func ResponseStarted(err error) bool {
	var se *startedError
	return errors.As(err, &se)
}

// ConnectFailed reports whether err, from RoundTrip over a client whose Dial came from Dialer,
// is a failure to connect: the server never received the request, so another server may
// take it whatever the method.
func ConnectFailed(err error) bool {
	var de *dialError
	return errors.As(err, &de)
}

// roundTrip is RoundTrip reading into h (without its hop-by-hop fields with relay, see
// readRelayHead); onStaleRetry, if not nil, counts a retry on a new
// connection; lb, if not nil, holds a length-delimited body's reader (see bodyOf); headBy, if
// not zero, ends the wait for the head (Target.HeadDeadline, in Unix nanoseconds); firstBy, if
// not zero, ends the wait for the first response byte (RoundTrip's firstByte). On success
// held holds the connection until held.finish: the caller's storage, not a closure, so that a
// pool's request allocates none (issue 15's pass profile).
func roundTrip(hc *fasthttp.HostClient, req outbound, h *fasthttp.ResponseHeader, relay bool, idempotent bool, idle time.Duration, onInterim InterimFunc, onStaleRetry func(), lb *lengthBody, headBy, firstBy int64, held *heldConn) (body io.Reader, err error) {
	retryStale := idempotent && !req.streamed()
	for attempt := 0; ; attempt++ {
		cc, reused, now, err := acquireConn(hc.AcquireConn, hc.CloseConn, attempt > 0, idle)
		if err != nil {
			return nil, err
		}
		conn := cc.Conn()
		ic := inactivity(conn)
		if ic != nil {
			err := ic.armRequest(now)
			if err == nil {
				err = ic.boundHead(earliest(headBy, firstBy))
			}
			if err != nil {
				hc.CloseConn(cc)
				return nil, err
			}
		}
		bw := hc.AcquireWriter(conn)
		err = req.write(bw)
		if err == nil {
			err = bw.Flush()
		}
		hc.ReleaseWriter(bw)
		early := err != nil && answeredEarly(conn, ic)
		if early {
			err = nil // read the answer; the connection closes after it (closeAfter)
		}
		br := hc.AcquireReader(conn)
		if err == nil {
			_, err = br.Peek(1) // the first response byte, or why none came
		}
		if err == nil && ic != nil && firstBy != 0 {
			ic.headBy = headBy // the first byte came: the rest of the head has headBy's bound alone
		}
		if err != nil {
			hc.ReleaseReader(br)
			hc.CloseConn(cc)
			if reused && retryStale && attempt == 0 && closedByPeer(err) {
				if onStaleRetry != nil {
					onStaleRetry()
				}
				continue
			}
			return nil, err
		}

		// No h.Reset: parsing empties h and keeps its settings, which a caller's own head
		// (SendHead's: the client's response, its default Date off) must keep.
		h.DisableNormalizing()
		var twice bool
		var rel relayed
		err = readFinalHead(br, h, onInterim, &twice, relay, &rel)
		if ic != nil {
			ic.headBy = 0 // the body's reads are bounded by inactivity alone
		}
		if err != nil {
			hc.ReleaseReader(br)
			hc.CloseConn(cc)
			return nil, &startedError{err}
		}
		alive := rel.alive
		if !rel.stripped {
			alive = peekFold(h, "Keep-Alive")
		}
		closeAfter := early || twice || req.closes() || rel.close || h.ConnectionClose() || !keepAliveLimit(conn, alive, idle)
		body := bodyOf(br, h, req.isHead(), h.StatusCode(), lb)
		// Only what came with the head is checked: waiting for more would hold the head of
		// a stream whose body comes later (server-sent events, a page flushed head first).
		pending, err := startBody(body, br, conn)
		if err != nil {
			hc.ReleaseReader(br)
			hc.CloseConn(cc)
			return nil, &startedError{err}
		}
		// A body delimited by the end of the connection (RFC 9112 §6.3 item 8) leaves
		// nothing to reuse.
		closeAfter = closeAfter || (body != nil && h.ContentLength() == -2)
		*held = heldConn{hc: hc, cc: cc, br: br, closeAfter: closeAfter, framedTwice: twice, pending: pending}
		return body, nil
	}
}

// answeredEarly reports, for a request whose writing failed, whether the server has sent
// something since: a server may answer before it read the whole request (a 413 for an
// upload, a 401, a redirect) and then close, which resets the connection under a request
// body still being written, or stop reading, which times the write out. Its answer is
// waiting in the socket (Linux hands queued bytes to reads before a reset's error), and it
// is what the client should get: the write's error made it a 502, or after
// first_byte_timeout a 504 charged to the server's health. HAProxy and nginx relay such an
// early answer too. Bytes, a FIN or a reset waiting count (unsolicited's peek): the read
// that follows tells them apart, and a FIN or reset alone fails it as the write did. The
// read gets a deadline of its own (the one armed for it may have passed while the write
// waited).
func answeredEarly(conn net.Conn, ic *inactivityConn) bool {
	if !unsolicited(conn) {
		return false
	}
	if ic != nil {
		ic.armedRead, ic.armedUntil = false, 0
	}
	return true
}

// earliest is the sooner of two Unix-nanosecond deadlines, zero meaning none.
func earliest(a, b int64) int64 {
	if a == 0 || b != 0 && b < a {
		return b
	}
	return a
}

// heldConn is a connection roundTrip handed over with a response whose body may still be on
// it, until finish gives it back. Only the request holding it uses it.
type heldConn struct {
	hc *fasthttp.HostClient
	// cc is the connection acquireConn took from hc: fasthttp's pooled connection, whose
	// type it does not export (an interface holding a pointer costs no allocation).
	cc         any
	br         *bufio.Reader
	closeAfter bool
	// framedTwice: the answer's head carried Content-Length and Transfer-Encoding both
	// (framedTwice), which closeAfter includes.
	framedTwice bool
	// pending: the body had not all arrived with the head (startBody).
	pending bool
}

// finish gives the connection back: to hc's keep-alive pool when reuse says the body was read
// to its end and nothing forbids it, else closed. Bytes read past the response belong to no
// request (see unsolicited): they close it too. held is empty afterwards, and a second call
// does nothing.
func (held *heldConn) finish(reuse bool) {
	hc := held.hc
	if hc == nil {
		return
	}
	closeAfter := held.closeAfter || held.br.Buffered() > 0
	hc.ReleaseReader(held.br)
	if reuse && !closeAfter {
		giveBack(hc.ReleaseConn, held.cc)
	} else {
		giveBack(hc.CloseConn, held.cc)
	}
	*held = heldConn{}
}

// finisher is finish as a function of its own, holding a copy of held (RoundTrip's finish).
func (held *heldConn) finisher() func(reuse bool) {
	h := *held
	return func(reuse bool) { h.finish(reuse) }
}

// giveBack hands c, a connection acquireConn returned, to one of its HostClient's methods
// (ReleaseConn or CloseConn), whose parameter type names it.
func giveBack[C any](f func(C), c any) { f(c.(C)) }

// pooledConn is fasthttp's pooled connection, whose type it does not export: acquireConn is
// generic so that the HostClient's own methods can take it back.
type pooledConn interface {
	Conn() net.Conn
	LastUseTime() time.Time
}

// acquireConn takes a connection from a server's pool (acquire and closeConn are its
// HostClient's AcquireConn and CloseConn), closing the pooled ones idle past their keep-alive
// limit, or dials one. With fresh, every pooled connection is skipped: the request is being
// retried because one of them turned out closed by the server, and others of its age may be
// too. reused reports a connection that served an earlier request; now is the clock read once
// the connection was in hand, for its deadline too (one reading per request, not two).
func acquireConn[C pooledConn](acquire func(time.Duration, bool) (C, error), closeConn func(C), fresh bool, idle time.Duration) (cc C, reused bool, now time.Time, err error) {
	for range staleAcquireLimit {
		c, err := acquire(0, false)
		if err != nil {
			return cc, false, now, err
		}
		now = time.Now()
		last := c.LastUseTime()
		if last.IsZero() {
			return c, false, now, nil // dialled for us
		}
		if !fresh && now.Sub(last) < idleLimit(c.Conn(), idle) && !unsolicited(c.Conn()) {
			return c, true, now, nil
		}
		closeConn(c)
	}
	c, err := acquire(0, false)
	if err != nil {
		return cc, false, now, err
	}
	return c, !c.LastUseTime().IsZero(), time.Now(), nil
}

// readFinalHead reads response heads into h until the final one, handing every interim
// response to onInterim. A 1xx has no content (RFC 9112 §6.3), so the next head follows it
// directly. *twice is set when the final head carries both framing fields; a head, interim
// or final, with a field name that holds a space is refused (headFlags).
//
// With relay (SendHead), the final head is parsed without its hop-by-hop fields when it is
// an HTTP/1.1 one (readRelayHead); *rel says what they were.
func readFinalHead(br *bufio.Reader, h *fasthttp.ResponseHeader, onInterim InterimFunc, twice *bool, relay bool, rel *relayed) error {
	var interim *fasthttp.ResponseHeader // where 1xx heads are parsed: never h (interimHeads)
	err := readHeads(br, h, &interim, onInterim, twice, relay, rel)
	if interim != nil {
		interimHeads.Put(interim)
	}
	return err
}

// readHeads is readFinalHead's loop; *interim is taken from interimHeads at the first 1xx.
func readHeads(br *bufio.Reader, h *fasthttp.ResponseHeader, interim **fasthttp.ResponseHeader, onInterim InterimFunc, twice *bool, relay bool, rel *relayed) error {
	for n := 0; ; n++ {
		scan := scanHead(br)
		*twice = scan.twice
		into := h
		b, _ := br.Peek(br.Buffered())
		if interimAhead(b) {
			if *interim == nil {
				*interim = interimHeads.Get().(*fasthttp.ResponseHeader)
			}
			into = *interim
		}
		read := false
		if relay && into == h && scan.hop && bytes.HasPrefix(b, []byte("HTTP/1.1 ")) {
			var err error
			if *rel, read, err = readRelayHead(br, h, scan.end); err != nil {
				return err
			}
		}
		if !read {
			if err := readHead(br, into, scan.cleanEnd); err != nil {
				return err
			}
		}
		if scan.spaced {
			return errSpacedFieldName
		}
		if scan.codedOld {
			return errCodedOldVersion
		}
		status := into.StatusCode()
		switch {
		case status < 100 || scan.zeroStatus: // fasthttp reads "000" as 0 and hands 0 back as 200
			return errBadStatus
		case (status >= 200) != (into == h):
			return errStatusLine // interimAhead and the parser read two statuses
		case status >= 200:
			return nil
		case status == fasthttp.StatusSwitchingProtocols:
			return errSwitchingProtocols
		case n >= maxInterim:
			return errTooManyInterim
		}
		if onInterim != nil {
			onInterim(status, into)
		}
	}
}

// noBody reports the statuses whose response never has content (RFC 9110 §15.3.5, §15.4.5).
func noBody(status int) bool {
	return status == fasthttp.StatusNoContent || status == fasthttp.StatusNotModified
}

// closedByPeer reports the errors of a connection the server closed or reset: what a request
// written into a connection the server closed while idle meets.
func closedByPeer(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, fasthttp.ErrConnectionClosed) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, net.ErrClosed)
}
