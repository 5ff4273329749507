//go:build linux || darwin || freebsd || netbsd || openbsd

package origin

import (
	"net"
	"syscall"
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

// peeker peeks at one socket without allocating: built once per connection at dial time,
// since a RawConn and a closure per request cost three allocations on the reuse path.
type peeker struct {
	rc   syscall.RawConn
	fn   func(fd uintptr) bool
	seen bool
	buf  [1]byte
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
	p := &peeker{rc: rc}
	p.fn = p.peek
	return p
}

func (p *peeker) waiting() bool {
	p.seen = false
	_ = p.rc.Read(p.fn)
	return p.seen
}

func (p *peeker) peek(fd uintptr) bool {
	n, _, _ := recvfromPeek(int(fd), p.buf[:])
	p.seen = n > 0
	return true // never wait for readiness
}

// recvfromPeek reads what waits on socket fd into b without taking it or waiting.
func recvfromPeek(fd int, b []byte) (int, syscall.Sockaddr, error) {
	return syscall.Recvfrom(fd, b, syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
}
