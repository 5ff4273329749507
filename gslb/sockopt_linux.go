package gslb

import (
	"errors"
	"syscall"

	"golang.org/x/sys/unix"
)

// reusePortWorks: several sockets can share a UDP port, the kernel spreading clients over them.
const reusePortWorks = true

// udpControl is a net.ListenConfig Control that sets, before bind, SO_REUSEPORT (so that every
// UDP reader can bind a socket of its own to the same address and port; the kernel admits only
// sockets of the same user to the group) and pktinfo (the kernel reports each datagram's
// destination address, which a wildcard bind answers from; a dual-stack IPv6 socket gets
// IP_PKTINFO too, for its IPv4 clients). Set before bind, no datagram arrives without them.
func udpControl(reuse, pktinfo bool) func(network, address string, c syscall.RawConn) error {
	if !reuse && !pktinfo {
		return nil
	}
	return func(network, _ string, c syscall.RawConn) error {
		var setErr error
		err := c.Control(func(fd uintptr) {
			set := func(level, opt int) {
				if setErr == nil {
					setErr = unix.SetsockoptInt(int(fd), level, opt, 1)
				}
			}
			if reuse {
				set(unix.SOL_SOCKET, unix.SO_REUSEPORT)
			}
			if pktinfo {
				if network == "udp6" {
					set(unix.IPPROTO_IPV6, unix.IPV6_RECVPKTINFO)
				}
				set(unix.IPPROTO_IP, unix.IP_PKTINFO)
			}
		})
		return errors.Join(err, setErr)
	}
}
