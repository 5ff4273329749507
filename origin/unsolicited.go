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
func unsolicited(c net.Conn) bool {
	if ic, ok := c.(*inactivityConn); ok {
		c = ic.Conn
	}
	sc, ok := c.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	var buf [1]byte
	waiting := false
	_ = rc.Read(func(fd uintptr) bool {
		n, _, _ := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		waiting = n > 0
		return true // never wait for readiness
	})
	return waiting
}
