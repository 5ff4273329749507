package gslb

import (
	"encoding/binary"
	"net"
	"net/netip"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mmsgReader reads a batch of datagrams with one recvmmsg(2) into buffers and address slots
// it owns, and decodes senders into netip.AddrPort values: nothing is allocated per datagram.
// (x/net's ipv4.PacketConn.ReadBatch does the same system call but allocates a *net.UDPAddr
// and its IP for every datagram, which is garbage for the collector at every query.)
type mmsgReader struct {
	rc    syscall.RawConn
	block bool // a blocking socket (blockingSocket): recvmmsg waits in the kernel for the first datagram
	hdrs  []mmsghdr
	oob   [][]byte // control messages (IP_PKTINFO, IPV6_PKTINFO); nil without pktinfo
	iovs  []unix.Iovec
	names []unix.RawSockaddrInet6 // large enough for either family
	bufs  [][]byte
	n     int
	errno syscall.Errno
	recv  func(fd uintptr) bool // r.recvmmsg bound once, so that a read allocates no closure

	// Busy polling (see udpBusyArm): with armed, an empty socket is polled again for up to
	// poll before the reader parks.
	poll      time.Duration
	armed     bool
	idleSince time.Time // when the socket was first found empty in this poll; zero when not polling
}

// udpBusyArm is the batch size that arms busy polling (Options.UDPBusyPoll): datagrams had
// queued up while the reader answered the last batch, so the reader is the bottleneck and the
// next datagram is microseconds away. Parking then costs more than it saves: the reader goes
// through the netpoller and the scheduler, and an idle (virtual) CPU must be woken again,
// which on a VM takes tens of microseconds during which the client waits too. One datagram
// at a time (a light load) never arms it, so a quiet server spends nothing on polling.
const udpBusyArm = 4

// oobSize holds one IP_PKTINFO or IPV6_PKTINFO control message, with room to spare for
// others the kernel may add.
const oobSize = 128

// mmsghdr is struct mmsghdr of <sys/socket.h>: a msghdr and the length received.
type mmsghdr struct {
	hdr unix.Msghdr
	len uint32
}

func newDatagramReader(conn *net.UDPConn, batch, size int, pktinfo bool, poll time.Duration) (datagramReader, error) {
	rc, err := conn.SyscallConn()
	if err != nil {
		return nil, err
	}
	return newMmsgReader(rc, false, batch, size, pktinfo, poll), nil
}

// newMmsgReader reads through rc; with block, rc is a blocking socket's.
func newMmsgReader(rc syscall.RawConn, block bool, batch, size int, pktinfo bool, poll time.Duration) *mmsgReader {
	r := &mmsgReader{rc: rc, block: block, hdrs: make([]mmsghdr, batch), iovs: make([]unix.Iovec, batch),
		names: make([]unix.RawSockaddrInet6, batch), bufs: make([][]byte, batch), poll: poll}
	if pktinfo {
		r.oob = make([][]byte, batch)
		for i := range r.oob {
			r.oob[i] = make([]byte, oobSize)
			r.hdrs[i].hdr.Control = &r.oob[i][0]
		}
	}
	for i := range r.hdrs {
		r.bufs[i] = make([]byte, size)
		r.iovs[i].Base = &r.bufs[i][0]
		r.iovs[i].SetLen(size)
		r.hdrs[i].hdr.Iov = &r.iovs[i]
		r.hdrs[i].hdr.SetIovlen(1)
		r.hdrs[i].hdr.Name = (*byte)(unsafe.Pointer(&r.names[i]))
	}
	r.recv = r.recvmmsg
	return r
}

func (r *mmsgReader) read() (int, error) {
	for i := range r.hdrs {
		r.hdrs[i].hdr.Namelen = unix.SizeofSockaddrInet6
		r.hdrs[i].hdr.Flags = 0
		r.hdrs[i].len = 0
		if r.oob != nil {
			r.hdrs[i].hdr.SetControllen(oobSize)
		}
	}
	r.n, r.errno = 0, 0
	if err := r.rc.Read(r.recv); err != nil {
		return 0, err
	}
	if r.errno != 0 {
		return 0, &net.OpError{Op: "recvmmsg", Net: "udp", Err: r.errno}
	}
	return r.n, nil
}

// recvmmsg runs under RawConn.Read: returning false waits for the socket to be readable.
// The socket is non-blocking and a batch is at most udpBatch datagrams, so the call returns
// within microseconds: it enters the kernel with RawSyscall (see rawCallMax).
//
// On a blocking socket the call waits in the kernel until a datagram arrives (MSG_WAITFORONE:
// then it takes what else is queued without waiting), and it too enters with RawSyscall: the
// reader keeps its P while it waits (reserveProcs gave the process one more for it). Through
// Syscall the runtime would count the P as free to take after 10 ms without a new schedtick
// (sysmon's forced retake): with every P idle then, sysmon goes to deep sleep, and the next
// Syscall of the reader wakes it, after which it polls every 20 µs for a millisecond: measured
// at 10,000 qps, 0.23 sysmon wake-ups per query. The runtime reaches a waiting reader with a
// signal (a preemption, a stop of the world): SO_RCVTIMEO makes the signal end recvmmsg with
// EINTR (SA_RESTART does not restart socket reads that have a timeout, signal(7)); without it
// the read restarts and a stop of the world waits for the next datagram. The call returns to
// Go code, where the pending preemption takes effect at the next function prologue. EAGAIN means that SO_RCVTIMEO ran out with nothing to read. While
// busy polling is armed, the socket is polled with MSG_DONTWAIT as a non-blocking one is, and
// the reader waits in the kernel once a poll has found nothing.
func (r *mmsgReader) recvmmsg(fd uintptr) bool {
	for {
		flags := 0
		wait := r.block && !r.armed
		switch {
		case wait:
			flags = unix.MSG_WAITFORONE
		case r.block:
			flags = unix.MSG_DONTWAIT
		}
		call := unix.RawSyscall6
		if wait && procsShort() {
			call = unix.Syscall6 // the P may go to the rest of the process (see procsShort)
		}
		n, _, errno := call(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&r.hdrs[0])),
			uintptr(len(r.hdrs)), uintptr(flags), 0, 0)
		if wait && errno == unix.EINTR {
			return false
		}
		switch errno {
		case unix.EINTR:
			continue // nothing was read: the datagrams are still queued, and may be all there is
		case unix.EAGAIN:
			if r.armed {
				now := time.Now()
				if r.idleSince.IsZero() {
					r.idleSince = now
				}
				if now.Sub(r.idleSince) < r.poll {
					continue
				}
				r.armed = false // nothing came for a whole poll: the burst is over
				if r.block {
					r.idleSince = time.Time{}
					continue // now wait in the kernel
				}
			}
			r.idleSince = time.Time{}
			return false
		case 0:
			r.n = int(n)
			r.idleSince = time.Time{}
			if r.n >= udpBusyArm && r.poll > 0 {
				r.armed = true
			}
		default:
			r.n = 0 // n is the kernel's -1
		}
		r.errno = errno
		return true
	}
}

func (r *mmsgReader) datagram(i int) ([]byte, netip.AddrPort, netip.Addr, bool) {
	h := &r.hdrs[i]
	if h.hdr.Flags&(unix.MSG_TRUNC|unix.MSG_CTRUNC) != 0 {
		return nil, netip.AddrPort{}, netip.Addr{}, false
	}
	var dst netip.Addr
	if r.oob != nil {
		// Without it (never seen: the options are set before bind) the reply leaves from the
		// address routing picks, as miekg/dns does too.
		dst = pktinfoDst(r.oob[i][:h.hdr.Controllen])
	}
	sa := &r.names[i]
	var from netip.AddrPort
	switch sa.Family {
	case unix.AF_INET:
		sa4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		from = netip.AddrPortFrom(netip.AddrFrom4(sa4.Addr), portOf(sa4.Port))
	case unix.AF_INET6:
		from = netip.AddrPortFrom(netip.AddrFrom16(sa.Addr), portOf(sa.Port))
	default:
		return nil, netip.AddrPort{}, netip.Addr{}, false
	}
	return r.bufs[i][:h.len], from, dst, true
}

// pktinfoDst finds the destination address in the control messages of one datagram.
func pktinfoDst(oob []byte) netip.Addr {
	for len(oob) >= unix.SizeofCmsghdr {
		h := (*unix.Cmsghdr)(unsafe.Pointer(&oob[0]))
		l := int(h.Len)
		if l < unix.SizeofCmsghdr || l > len(oob) {
			break
		}
		data := oob[unix.CmsgLen(0):l]
		switch {
		case h.Level == unix.IPPROTO_IP && h.Type == unix.IP_PKTINFO && len(data) >= unix.SizeofInet4Pktinfo:
			return netip.AddrFrom4((*unix.Inet4Pktinfo)(unsafe.Pointer(&data[0])).Addr)
		case h.Level == unix.IPPROTO_IPV6 && h.Type == unix.IPV6_PKTINFO && len(data) >= unix.SizeofInet6Pktinfo:
			return netip.AddrFrom16((*unix.Inet6Pktinfo)(unsafe.Pointer(&data[0])).Addr)
		}
		oob = oob[min(unix.CmsgSpace(l-unix.CmsgLen(0)), len(oob)):]
	}
	return netip.Addr{}
}

// appendPktinfo appends the control message that makes a reply leave from src.
func appendPktinfo(oob []byte, src netip.Addr) []byte {
	if src.Is4() {
		oob = oob[:unix.CmsgSpace(unix.SizeofInet4Pktinfo)]
		clear(oob)
		h := (*unix.Cmsghdr)(unsafe.Pointer(&oob[0]))
		h.Level, h.Type = unix.IPPROTO_IP, unix.IP_PKTINFO
		h.SetLen(unix.CmsgLen(unix.SizeofInet4Pktinfo))
		(*unix.Inet4Pktinfo)(unsafe.Pointer(&oob[unix.CmsgLen(0)])).Spec_dst = src.As4()
		return oob
	}
	oob = oob[:unix.CmsgSpace(unix.SizeofInet6Pktinfo)]
	clear(oob)
	h := (*unix.Cmsghdr)(unsafe.Pointer(&oob[0]))
	h.Level, h.Type = unix.IPPROTO_IPV6, unix.IPV6_PKTINFO
	h.SetLen(unix.CmsgLen(unix.SizeofInet6Pktinfo))
	(*unix.Inet6Pktinfo)(unsafe.Pointer(&oob[unix.CmsgLen(0)])).Addr = src.As16()
	return oob
}

// pktinfoWorks: replies can be sent from the address of the query on a wildcard bind.
const pktinfoWorks = true

// portOf reads a port stored in network byte order.
func portOf(p uint16) uint16 {
	return binary.BigEndian.Uint16((*[2]byte)(unsafe.Pointer(&p))[:])
}
