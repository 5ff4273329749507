package gslb

import (
	"errors"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// reusePortWorks: several sockets can share a UDP port, the kernel spreading clients over them.
const reusePortWorks = true

// udpControl is a net.ListenConfig Control that sets, before bind, SO_REUSEPORT (so that every
// UDP reader can bind a socket of its own to the same address and port; the kernel admits only
// sockets of the same user to the group), pktinfo (the kernel reports each datagram's
// destination address, which a wildcard bind answers from; a dual-stack IPv6 socket gets
// IP_PKTINFO too, for its IPv4 clients) and no path MTU discovery (setNoPMTUD). Set before bind,
// no datagram arrives without them.
func udpControl(reuse, pktinfo bool) func(network, address string, c syscall.RawConn) error {
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
			if setErr == nil {
				setErr = setNoPMTUD(int(fd), network == "udp6")
			}
		})
		return errors.Join(err, setErr)
	}
}

// setNoPMTUD makes the UDP socket fd send every reply without the DF bit and ignore path MTU
// information (IP_PMTUDISC_OMIT; on an IPv6 socket IPV6_PMTUDISC_OMIT too, its IPv4 clients
// taking the IPv4 option), as gdnsd and NSD do on their DNS sockets. A forged ICMP
// "fragmentation needed" then cannot make the kernel cut our replies to a victim into
// fragments (the fragmentation attacks on DNS; our UDP answers fit the 1232 bytes we
// advertise), and each send skips the socket's path MTU bookkeeping, which showed in the
// profile of a loaded server (ipv4_mtu, ip_skb_dst_mtu) where gdnsd's had almost none.
func setNoPMTUD(fd int, v6 bool) error {
	if err := unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_MTU_DISCOVER, unix.IP_PMTUDISC_OMIT); err != nil {
		return os.NewSyscallError("setsockopt IP_MTU_DISCOVER", err)
	}
	if v6 {
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_MTU_DISCOVER, unix.IPV6_PMTUDISC_OMIT); err != nil {
			return os.NewSyscallError("setsockopt IPV6_MTU_DISCOVER", err)
		}
	}
	return nil
}
