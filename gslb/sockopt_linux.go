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

// setNoPMTUD makes the UDP socket fd ignore path MTU information, so that a forged ICMP
// "fragmentation needed" can neither make the kernel cut our replies into fragments (the
// fragmentation attacks on DNS) nor shrink what we may send to a victim: our UDP answers fit
// the 1232 bytes we advertise, below every interface MTU.
//
// IPv4 replies leave with the DF bit set (IP_PMTUDISC_PROBE: DF on, the interface MTU, never
// the path's, though the kernel may still note a path MTU for other sockets), as RFC 9715
// recommends for DNS responders and BIND does since DNS Flag Day 2020, so routers do not
// fragment them either. It is also the cheaper choice: a datagram without DF from an
// unconnected socket needs a fresh IP ID from the kernel's shared, hashed and atomically
// updated table (__ip_select_ident: 3-5% of a loaded server's profile, gdnsd's too, which
// sets IP_PMTUDISC_OMIT), one with DF gets ID 0.
// Before, this was IP_PMTUDISC_OMIT (no DF, as gdnsd and NSD set); either skips the socket's
// path MTU bookkeeping (ipv4_mtu, ip_skb_dst_mtu) that the kernel's default does per send.
// IPv6 has no per-packet ID and routers never fragment it: IPV6_PMTUDISC_OMIT there keeps
// the interface MTU without path MTU state.
func setNoPMTUD(fd int, v6 bool) error {
	if err := unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_MTU_DISCOVER, unix.IP_PMTUDISC_PROBE); err != nil {
		return os.NewSyscallError("setsockopt IP_MTU_DISCOVER", err)
	}
	if v6 {
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_MTU_DISCOVER, unix.IPV6_PMTUDISC_OMIT); err != nil {
			return os.NewSyscallError("setsockopt IPV6_MTU_DISCOVER", err)
		}
	}
	return nil
}
