package origin

import (
	"net"
	"syscall"
)

// canCorkClose: corkClose sends the bytes and the FIN in one segment on this platform.
const canCorkClose = true

// corkClose writes b and ends c with its FIN in the same segment (TCP_CORK holds the bytes
// until the shutdown sends them with it): the pool finds them together however late it
// reads, as from a server that wrote its answer and closed at once.
func corkClose(c net.Conn, b []byte) {
	tc := c.(*net.TCPConn)
	cork(tc)
	tc.Write(b)
	tc.CloseWrite()
}

// cork holds what is written to tc until its shutdown or a full segment (TCP_CORK).
func cork(tc *net.TCPConn) {
	if rc, err := tc.SyscallConn(); err == nil {
		rc.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_CORK, 1) })
	}
}
