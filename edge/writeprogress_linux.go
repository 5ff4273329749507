package edge

import (
	"crypto/tls"
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// bytesAcked is how many bytes of c's stream its peer has acknowledged (TCP_INFO's
// tcpi_bytes_acked, Linux 4.1+), for write_timeout's progress check; false when c is not a
// TCP socket or the kernel does not say.
func bytesAcked(c net.Conn) (uint64, bool) {
	info, ok := tcpInfo(c)
	if !ok {
		return 0, false
	}
	return info.Bytes_acked, true
}

// tcpInfo is c's TCP_INFO (c's own socket under TLS); false when c is not a TCP socket or the
// kernel does not say.
func tcpInfo(c net.Conn) (*unix.TCPInfo, bool) {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	sc, ok := c.(syscall.Conn)
	if !ok {
		return nil, false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil, false
	}
	var info *unix.TCPInfo
	var ierr error
	if err := rc.Control(func(fd uintptr) {
		info, ierr = unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO)
	}); err != nil || ierr != nil {
		return nil, false
	}
	return info, true
}
