package edge

import (
	"crypto/tls"
	"net"
	"net/netip"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/shoal-cdn/shoal/conf"
)

// The HTTP/1.1 listeners' timeouts (limits.read_timeout, idle_timeout, write_timeout) are
// kept by a sweeper per connection feed, as HAProxy's and nginx's timer wheels keep theirs,
// not by socket deadlines that fasthttp would move three times per request (idle wait, head
// read, response write): each move is a runtime timer change, about 0.4 µs of a 1 KiB hit.
//
// A connection's goroutine only records which phase it is in (connPhase), with one atomic
// store and no clock read. The sweeper wakes every sweepPeriod, notes when it first saw each
// phase, and cuts a connection that stayed in one phase past its limit by moving the socket's
// deadline into the past: the blocked read or write fails as its own deadline would have made
// it fail, so fasthttp answers a stalled head with 408 and closes an idle connection quietly,
// exactly as before. A limit is never enforced early (the phase began before the sweep that
// first saw it) and at most about two periods late.

// connPhase is where an HTTP/1.1 connection is between its requests.
type connPhase uint64

const (
	// phaseNew: accepted, no byte of its first request yet. read_timeout from the accept.
	phaseNew connPhase = iota
	// phaseReadFirst: reading the first request; read_timeout still counts from the accept,
	// as fasthttp's did (one deadline for the first byte and the whole first request).
	phaseReadFirst
	// phaseIdle: a keep-alive connection waiting for its next request: idle_timeout.
	phaseIdle
	// phaseRead: reading a later request's head (and the content fasthttp reads with it, at
	// most 8 KiB): read_timeout from its first byte, as nginx's client_header_timeout.
	phaseRead
	// phaseBody: the handler waits for request content: read_timeout from the wait's start,
	// so it bounds the time between reads, as nginx's client_body_timeout does, not the whole
	// upload. Between its reads (the content on its way to the origin) the connection is in
	// phaseHandler: a client is not timed while the node is not reading.
	phaseBody
	// phaseHandler: the pipeline has the request (a miss may wait on its origin): no limit.
	phaseHandler
	// phaseWrite: the response is being written: write_timeout without progress (no byte
	// acknowledged by the client for that long), as nginx's send_timeout and HAProxy's
	// timeout client bound a write; a large response to a slow but reading client is not
	// cut, however long it takes.
	phaseWrite

	phaseBits = 8
	phaseMask = 1<<phaseBits - 1
)

// liveConn is one connection handed out by a feed.
type liveConn struct {
	conn     net.Conn // what the feed handed out: the bare *net.TCPConn, or a *tls.Conn
	accepted time.Time
	ip       netip.Addr // counted at the feed's gate under this address (when it has one)
	// state is seq<<phaseBits | phase. Only the connection's goroutine writes it; seq makes
	// a connection that went round its phases between two sweeps look changed.
	state atomic.Uint64

	// The sweeper's own, touched by its goroutine only.
	seen  uint64    // state at the last sweep
	since time.Time // when the sweeper first saw seen (the accept for the first request)
	acted bool      // seen's deadline was already moved
	acked uint64    // in phaseWrite: the peer's acknowledged bytes when since was set

	// flushedReq is the number (fasthttp's ConnRequestNum) of the last request whose
	// response fasthttp flushed as soon as it was written (hintorder.go); the connection's
	// goroutine's own.
	flushedReq uint64

	raw syscall.RawConn // the bare socket's, made by rawConn (cork.go); the goroutine's own
}

// enter records that the connection's goroutine has moved to phase p. It may be called on a
// nil liveConn (a connection no feed handed out: the peer port, tests' bare contexts).
func (lc *liveConn) enter(p connPhase) {
	if lc == nil {
		return
	}
	s := lc.state.Load()
	lc.state.Store((s>>phaseBits+1)<<phaseBits | uint64(p))
}

// active records that a request's first byte arrived (fasthttp's StateActive).
func (lc *liveConn) active() {
	if lc == nil {
		return
	}
	if connPhase(lc.state.Load()&phaseMask) == phaseNew {
		lc.enter(phaseReadFirst)
		return
	}
	lc.enter(phaseRead)
}

// connLimits are the limits the sweeper enforces; zero means none.
type connLimits struct {
	read, write, idle time.Duration
	period            time.Duration // how often to sweep (sweepPeriod)
}

// limitsOf reads conf.Limits as fasthttp read its timeouts: an idle_timeout of zero falls
// back to read_timeout.
func limitsOf(l conf.Limits) *connLimits {
	cl := &connLimits{read: l.ReadTimeout.D(), write: l.WriteTimeout.D(), idle: l.IdleTimeout.D()}
	if cl.idle == 0 {
		cl.idle = cl.read
	}
	cl.period = sweepPeriod(cl.read, cl.write, cl.idle)
	return cl
}

// sweepPeriod is a tenth of the shortest limit, between 5 ms and 500 ms: the defaults (30 s
// and more) are swept twice a second, a test's 200 ms limit every 20 ms.
func sweepPeriod(limits ...time.Duration) time.Duration {
	const lo, hi = 5 * time.Millisecond, 500 * time.Millisecond
	p := hi
	for _, l := range limits {
		if l > 0 && l/10 < p {
			p = l / 10
		}
	}
	return max(p, lo)
}

func (l *connLimits) of(p connPhase) time.Duration {
	switch p {
	case phaseNew, phaseReadFirst, phaseRead, phaseBody:
		return l.read
	case phaseIdle:
		return l.idle
	case phaseWrite:
		return l.write
	}
	return 0
}

// aLongTimeAgo is a deadline that has passed: setting it fails the blocked call at once.
var aLongTimeAgo = time.Unix(1, 0)

// sweepLoop runs until the feed is closed and every connection it handed out is gone, so
// that connections still being served during a drain keep their limits.
func (f *connFeed) sweepLoop() {
	defer close(f.swept)
	t := time.NewTimer(f.limits.Load().period)
	defer t.Stop()
	stop, stopped := f.stop, false
	for {
		select {
		case <-t.C:
		case <-f.rearm:
			// New limits: sweep at their period from now on, not after the old period.
			t.Stop()
			t.Reset(f.limits.Load().period)
			continue
		case <-stop:
			stopped, stop = true, nil // nil: from now on the select waits for the timer only
			continue
		}
		l := f.limits.Load()
		if n := f.sweep(time.Now(), l); n == 0 && stopped {
			return
		}
		t.Reset(l.period)
	}
}

// sweep cuts the connections that stayed in one phase past its limit at now and returns how
// many connections it saw.
func (f *connFeed) sweep(now time.Time, l *connLimits) (live int) {
	f.live.Range(func(k, v any) bool {
		lc := v.(*liveConn)
		s := lc.state.Load()
		p := connPhase(s & phaseMask)
		if p == phaseNew && s == 0 && closedConn(lc.conn) {
			// fasthttp closed it before any ConnState hook: nothing else will remove it.
			if f.live.CompareAndDelete(k, v) {
				f.left(lc)
			}
			return true
		}
		live++
		if s != lc.seen {
			lc.seen, lc.since, lc.acted = s, now, false
			if p == phaseNew || p == phaseReadFirst {
				lc.since = lc.accepted
			}
			if p == phaseWrite && l.write > 0 {
				// Only a write that spans a sweep costs this system call: most responses
				// are written before the sweeper ever sees them in phaseWrite.
				lc.acked, _ = bytesAcked(lc.conn)
			}
		}
		limit := l.of(p)
		if lc.acted || limit <= 0 || now.Sub(lc.since) < limit {
			return true
		}
		if p == phaseWrite {
			if acked, ok := bytesAcked(lc.conn); ok && acked != lc.acked {
				lc.acked, lc.since = acked, now // the client is reading: a new write_timeout
				return true
			}
		}
		lc.acted = true
		f.expire(lc, s, now, l)
		return true
	})
	return live
}

// closedConn reports whether c's socket is closed, without touching its deadlines: a closed
// socket refuses Control.
func closedConn(c net.Conn) bool {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	sc, ok := c.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return true
	}
	return rc.Control(func(uintptr) {}) != nil
}

// expire fails the blocked call of a connection seen in state s past its phase's limit. A
// read phase also gets write_timeout for what follows (fasthttp's 408, or a pipelined
// response it flushes before reading on), as fasthttp's own write deadline bounded it.
func (f *connFeed) expire(lc *liveConn, s uint64, now time.Time, l *connLimits) {
	c := lc.conn
	f.expired.Add(1) // first: the connection may be gone as soon as its deadline moves
	if connPhase(s&phaseMask) == phaseWrite {
		_ = c.SetDeadline(aLongTimeAgo)
	} else {
		_ = c.SetReadDeadline(aLongTimeAgo)
		if l.write > 0 {
			_ = c.SetWriteDeadline(now.Add(l.write))
		} else {
			_ = c.SetWriteDeadline(time.Time{})
		}
	}
	// The connection may have moved on between the sweep's look and the deadline (a request
	// arriving just as its idle time ran out): if it has, give it its deadlines back, unless
	// a drain set them. A call that failed in between fails as it would at a deadline that
	// expired at the same moment.
	if lc.state.Load() != s && !f.draining.Load() {
		_ = c.SetDeadline(time.Time{})
		lc.acted = false
	}
}

// setLimits has the sweeper enforce l from its next sweep, which comes at l's period.
func (f *connFeed) setLimits(l *connLimits) {
	f.limits.Store(l)
	select {
	case f.rearm <- struct{}{}:
	default: // a rearm is already pending; it reads the newest limits
	}
}
