//go:build linux || darwin || freebsd || netbsd || openbsd

package origin

import (
	"net"
	"syscall"
	"unsafe"
)

// unsolicited reports bytes waiting on a pooled connection that no request asked for: the
// rest of a body a server sent after a 204 or 304 or in answer to HEAD, which RFC 9112 §6.3
// says belongs to the next message. Reusing the connection would read them as the response
// to another request, for another URL, and could store them under its key (response queue
// poisoning). The bytes are only peeked (MSG_PEEK, MSG_DONTWAIT): the connection is closed
// anyway. A TLS connection is not checked: post-handshake messages may wait there.
//
// Every reuse peeks, however soon after the response: bytes a server sends after a 204 in a
// write of its own are in the socket a few microseconds later, which is when a busy pool
// reuses the connection (TestReview4_bytesAfterABodylessAnswerRefuseImmediateReuse). Only
// bytes arriving after the peek are missed, and the response read then is the one asked for.
func unsolicited(c net.Conn) bool {
	if ic, ok := c.(*inactivityConn); ok {
		if ic.peek != nil {
			return ic.peek.waiting()
		}
		c = ic.Conn
	}
	p := newPeeker(c)
	return p != nil && p.waiting()
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

func (p *peeker) waiting() bool {
	var b [1]byte
	n, _, errno := syscall.RawSyscall6(syscall.SYS_RECVFROM, uintptr(p.fd), uintptr(unsafe.Pointer(&b[0])), 1,
		syscall.MSG_PEEK|syscall.MSG_DONTWAIT, 0, 0)
	return errno == 0 && n > 0
}
