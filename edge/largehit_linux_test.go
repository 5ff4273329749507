package edge

import (
	"crypto/tls"
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// bytesReceived is how many bytes of c's stream have arrived from its peer (TCP_INFO's
// tcpi_bytes_received, Linux 4.1+), read or not; false when the kernel does not say.
func bytesReceived(c net.Conn) (uint64, bool) {
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
	var got uint64
	var ierr error
	if err := rc.Control(func(fd uintptr) {
		var info *unix.TCPInfo
		if info, ierr = unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO); ierr == nil {
			got = info.Bytes_received
		}
	}); err != nil || ierr != nil {
		return 0, false
	}
	return got, true
}
