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
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	sc, ok := c.(syscall.Conn)
	if !ok {
		return 0, false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return 0, false
	}
	var acked uint64
	var ierr error
	if err := rc.Control(func(fd uintptr) {
		var info *unix.TCPInfo
		info, ierr = unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO)
		if ierr == nil {
			acked = info.Bytes_acked
		}
	}); err != nil || ierr != nil {
		return 0, false
	}
	return acked, true
}
