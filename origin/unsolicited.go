//go:build linux || darwin || freebsd || netbsd || openbsd

package origin

import (
	"crypto/tls"
	"errors"
	"net"
	"os"
	"syscall"
	"unsafe"
)

// unsolicited reports a pooled connection that became readable while idle: bytes no request
// asked for, or the server's FIN or reset. Bytes are the rest of a body a server sent after a
// 204 or 304 or in answer to HEAD (RFC 9112 §6.3 says they belong to the next message), or a
// second response, or garbage, written after a complete response. Reusing the connection
// would read them as the response to another request, for another URL, and could store them
// under its key (response queue poisoning). A FIN means the server closed it (its keep-alive
// timeout): a request written there fails, and one that may not be retried (a POST) is lost.
// nginx and HAProxy close an idle upstream connection once it becomes readable; this is the
// same check, made once, when the connection is taken (no watcher per idle connection). The
// bytes are only peeked (MSG_PEEK, MSG_DONTWAIT): the connection is closed anyway.
//
// Under TLS, records the TLS connection already took from the socket are looked at first (it
// reads ahead of the record it needs, so a second response written right after the first is
// often there, not in the socket); then the socket below is peeked: any record waiting there counts,
// a post-handshake message (a session ticket, a key update) as much as application data,
// since reading it to tell them apart could block on a partial record. Tickets come before a
// connection's first response and are read with it, so a connection that sees one idle is
// rare, and costs one new connection.
//
// Every reuse peeks, however soon after the response: bytes a server sends after a 204 in a
// write of their own are in the socket a few microseconds later, which is when a busy pool
// reuses the connection (TestReview4_bytesAfterABodylessAnswerRefuseImmediateReuse). Only
// bytes arriving after the peek are missed: those that a server writes after the request
// left are indistinguishable from its answer, to nginx and HAProxy too.
func unsolicited(c net.Conn) bool {
	if tc, ok := c.(*tls.Conn); ok {
		if tlsBuffered(tc) {
			return true
		}
		c = tc.NetConn()
	}
	if ic, ok := c.(*inactivityConn); ok {
		if ic.peek != nil {
			return ic.peek.readable()
		}
		c = ic.Conn
	}
	p := newPeeker(c)
	return p != nil && p.readable()
}

// waiting reports bytes or the end of the stream waiting on c's socket, which a read then
// takes without blocking (startBody); false over TLS (see belowTLS) and for a connection
// that is not Dialer's.
func waiting(c net.Conn) bool {
	ic, ok := c.(*inactivityConn)
	return ok && ic.peek != nil && ic.peek.readable()
}

// belowTLS is Dialer's connection under a TLS connection c, when it can peek: its nonBlocking
// reads let startBody read through TLS what came with a head (a record cut by the server's
// close, a close_notify, the end of the stream) without waiting for the rest of a record.
func belowTLS(c net.Conn) *inactivityConn {
	tc, ok := c.(*tls.Conn)
	if !ok {
		return nil
	}
	if ic, ok := tc.NetConn().(*inactivityConn); ok && ic.peek != nil {
		return ic
	}
	return nil
}

// peeker peeks at one socket without allocating and without the runtime's syscall
// bookkeeping: its descriptor is read once at dial time, and each peek is one raw
// recvfrom(2) that never blocks (MSG_DONTWAIT), made only by the request holding the
// connection, which nobody closes meanwhile. Through RawConn.Read, the peek cost a lock,
// a poller check and a scheduler hand-off point on every reuse (issue 15's pass profile).
type peeker struct {
	fd int
}

// newPeeker returns nil for a connection that is no socket.
func newPeeker(c net.Conn) *peeker {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	p := &peeker{fd: -1}
	if err := rc.Control(func(fd uintptr) { p.fd = int(fd) }); err != nil || p.fd < 0 {
		return nil
	}
	return p
}

// readable reports data, an end of stream or an error waiting on the socket: anything but
// "nothing yet" (EAGAIN).
func (p *peeker) readable() bool {
	var b [1]byte
	_, _, errno := syscall.RawSyscall6(syscall.SYS_RECVFROM, uintptr(p.fd), uintptr(unsafe.Pointer(&b[0])), 1,
		syscall.MSG_PEEK|syscall.MSG_DONTWAIT, 0, 0)
	return errno != syscall.EAGAIN && errno != syscall.EWOULDBLOCK && errno != syscall.EINTR
}

// tlsBuffered reports application data (or a close) in the records tc has already read from
// its socket: one Read of tc whose reads of the socket fail at once as a timeout (pollOnly),
// so only what tc buffered is decrypted. A timeout is temporary to crypto/tls: the connection
// stays usable when nothing was there. A session ticket buffered there is consumed as any
// Read would.
func tlsBuffered(tc *tls.Conn) bool {
	ic, ok := tc.NetConn().(*inactivityConn)
	if !ok {
		return false
	}
	var b [1]byte
	ic.pollOnly = true
	n, err := tc.Read(b[:])
	ic.pollOnly = false
	return n > 0 || err != nil && !errors.Is(err, os.ErrDeadlineExceeded)
}
