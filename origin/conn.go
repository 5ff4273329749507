package origin

import (
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"
)

// dialError marks a failure to connect, so that Do can tell it from a failure on an open
// connection after fasthttp has passed it along.
type dialError struct{ err error }

func (e *dialError) Error() string { return "connect: " + e.err.Error() }
func (e *dialError) Unwrap() error { return e.err }

// Dialer returns a fasthttp dial function for RoundTrip: each dial is bounded by
// connectTimeout, and every read and write of its connections by idle (an inactivity limit,
// so the first read after a request is the first-byte timeout and a body that keeps flowing
// is never cut). Its failures are what ConnectFailed recognizes.
func Dialer(connectTimeout, idle time.Duration) fasthttp.DialFunc {
	return dialer(connectTimeout, idle)
}

// dialer returns a fasthttp dial function bounded by connectTimeout whose connections enforce
// idle as an inactivity limit on every read and write.
func dialer(connectTimeout, idle time.Duration) fasthttp.DialFunc {
	d := &net.Dialer{Timeout: connectTimeout, KeepAlive: 30 * time.Second}
	return func(addr string) (net.Conn, error) {
		c, err := d.Dial("tcp", addr)
		if err != nil {
			return nil, &dialError{err: err}
		}
		return &inactivityConn{Conn: c, limit: idle, peek: newPeeker(c)}, nil
	}
}

// inactivityConn bounds every Read and Write by limit from the moment it starts. The first Read
// after a request is therefore the first-byte timeout, and later reads of a streamed body are
// an inactivity timeout (HAProxy's "timeout server"), so a large body that keeps flowing is
// never cut the way fasthttp's whole-response ReadTimeout would cut it. fasthttp's own deadline
// calls are ignored for the same reason.
//
// idleLimit is how long the connection may wait idle in the pool (see keepAliveLimit). Only the
// request holding the connection reads or writes it; fasthttp's pool lock orders the handovers.
type inactivityConn struct {
	net.Conn
	limit     time.Duration
	idleLimit time.Duration
	peek      *peeker // nil where the platform cannot peek (see unsolicited)
	// pollOnly makes Read fail at once as a timeout without reading: set by tlsBuffered
	// while it asks the TLS connection above for what it already buffered.
	pollOnly bool
	// nonBlocking makes Read fail at once as a timeout when nothing waits on the socket
	// (bytes or its end), and read what waits otherwise: set by arrived while it reads,
	// through the TLS connection above, the records that came with a head, so that a partial
	// record is kept in TLS's buffer instead of waited for.
	nonBlocking bool
	// armedWrite and armedRead: the next Write, and the next Read if no other Write comes
	// before it, keep the deadline armRequest set (see there).
	armedWrite, armedRead bool
	// headBy, while not zero, is the latest any read may end, in Unix nanoseconds: the
	// request's head deadline (boundHead), set until its response head is read. Not a
	// time.Time, whose location pointer would make every Target passed to Do escape.
	headBy int64
	// armedUntil, when not zero, is the deadline armRequest set for reads and writes alike
	// (Unix nanoseconds); any other deadline set since clears it.
	armedUntil int64
}

// armSlack sets how far past limit armRequest arms a deadline: limit/armSlack more. A
// request on a connection whose armed deadline is still at least limit away writes no new
// one, so a busy connection re-arms once per limit/armSlack (234 ms for the default 15 s
// first_byte_timeout), not once per request; the timeout then ends a wait between limit and
// limit plus limit/armSlack after the request, never sooner.
const armSlack = 64

// armRequest arms one deadline, at least limit from now (the caller's clock reading), for
// the request about to be written and for the first read of its answer. A request written
// in one Write (a head and small content) takes no time to write, so its first-byte timeout
// is the same from here; a request that takes more writes re-arms each of them and its
// first read, as every Read and Write does. It saves a clock read and a timer update of each
// per request, and most requests on a busy connection keep the deadline armed before them
// (armSlack): issue 15's pass profile.
func (c *inactivityConn) armRequest(now time.Time) error {
	at := now.UnixNano() + int64(c.limit)
	if c.armedUntil < at {
		at += int64(c.limit / armSlack)
		if err := c.Conn.SetDeadline(time.Unix(0, at)); err != nil {
			c.armedUntil = 0
			return err
		}
		c.armedUntil = at
	}
	c.armedWrite, c.armedRead = true, true
	return nil
}

// boundHead makes every read of c end by headBy (Unix nanoseconds) at the latest until the
// caller clears c.headBy (a zero headBy bounds nothing). The first read armRequest armed is
// bounded at once when headBy comes sooner than its deadline.
func (c *inactivityConn) boundHead(headBy int64) error {
	c.headBy = headBy
	if headBy == 0 || !c.armedRead || headBy >= c.armedUntil {
		return nil
	}
	c.armedUntil = 0 // the read deadline is no longer the one armed
	return c.Conn.SetReadDeadline(time.Unix(0, headBy))
}

func (c *inactivityConn) Read(b []byte) (int, error) {
	if c.pollOnly || c.nonBlocking && !c.peek.readable() {
		return 0, os.ErrDeadlineExceeded
	}
	if c.armedRead {
		c.armedRead = false
	} else {
		c.armedUntil = 0 // the read deadline is no longer the one armed
		if err := c.Conn.SetReadDeadline(c.readDeadline()); err != nil {
			return 0, err
		}
	}
	return c.Conn.Read(b)
}

// readDeadline is limit from now, or headBy when that comes sooner.
func (c *inactivityConn) readDeadline() time.Time {
	d := time.Now().Add(c.limit)
	if c.headBy != 0 && c.headBy < d.UnixNano() {
		return time.Unix(0, c.headBy)
	}
	return d
}

func (c *inactivityConn) Write(b []byte) (int, error) {
	if c.armedWrite {
		c.armedWrite = false
	} else {
		c.armedRead = false // the request takes more than one write: its first read re-arms
		c.armedUntil = 0
		if err := c.Conn.SetWriteDeadline(time.Now().Add(c.limit)); err != nil {
			return 0, err
		}
	}
	return c.Conn.Write(b)
}

func (c *inactivityConn) SetDeadline(time.Time) error      { return nil }
func (c *inactivityConn) SetReadDeadline(time.Time) error  { return nil }
func (c *inactivityConn) SetWriteDeadline(time.Time) error { return nil }

// classify names the kind of a failed exchange for metrics, retries and the 502/504 choice.
func classify(err error) string {
	var de *dialError
	var ne net.Error
	switch {
	case errors.As(err, &de):
		return KindConnect
	case errors.Is(err, fasthttp.ErrTimeout), errors.Is(err, os.ErrDeadlineExceeded),
		errors.As(err, &ne) && ne.Timeout():
		return KindTimeout
	case errors.Is(err, fasthttp.ErrConnectionClosed), errors.Is(err, io.EOF),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE), errors.Is(err, net.ErrClosed):
		return KindReset
	}
	return KindProtocol
}
