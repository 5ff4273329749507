package testenv

import (
	"net"
	"syscall"
)

// corkClose writes b and ends the connection with its FIN in the same segment (TCP_CORK
// holds the bytes until the shutdown sends them with it): the peer finds the bytes and the
// end together, as from an origin that wrote its response and closed at once, however late
// it reads.
func corkClose(c net.Conn, b []byte) {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		c.Write(b)
		return
	}
	if rc, err := tc.SyscallConn(); err == nil {
		rc.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_CORK, 1) })
	}
	tc.Write(b)
	closeWrite(tc)
}
