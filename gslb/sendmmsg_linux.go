package gslb

import (
	"net"
	"net/netip"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mmsgWriter sends a batch of replies with one sendmmsg(2) from headers, address slots and
// control messages it owns: setting a slot copies an address in place, so nothing is allocated
// or marshalled per reply (x/net's WriteBatch converts each *net.UDPAddr on every call).
type mmsgWriter struct {
	rc    syscall.RawConn
	v6    bool // an AF_INET6 socket: IPv4 clients are addressed as v4-mapped IPv6
	flags int  // of every sendmmsg: MSG_DONTWAIT on a blocking socket, which must not block a RawSyscall
	hdrs  []mmsghdr
	iovs  []unix.Iovec
	names []unix.RawSockaddrInet6 // large enough for either family
	oob   [][]byte                // pktinfo control messages; nil without pktinfo
	srcs  []netip.Addr            // the source of each slot (pktinfo), for runs

	// UDP GSO (gso_linux.go): runs of replies to one client leave as one message each.
	gso    bool      // coalesce runs; off where the kernel lacks UDP_SEGMENT or refused a run
	msgs   []mmsghdr // the messages of a flush with runs
	ends   []int     // msgs[i] sends the slots before ends[i]
	gsoOob [][]byte  // each run's control messages: its first slot's pktinfo and UDP_SEGMENT

	// one send call: the messages vec, which hold datagrams replies
	vec             []mmsghdr
	datagrams, sent int
	errno           syscall.Errno
	send            func(fd uintptr) bool // w.sendmmsg bound once, so that a send allocates no closure
}

func newDatagramWriter(conn *net.UDPConn, batch int, pktinfo bool) (datagramWriter, error) {
	rc, err := conn.SyscallConn()
	if err != nil {
		return nil, err
	}
	a, _ := conn.LocalAddr().(*net.UDPAddr)
	return newMmsgWriter(rc, a != nil && a.IP.To4() == nil, 0, batch, pktinfo), nil
}

// newMmsgWriter sends through rc, on an AF_INET6 socket with v6, with flags on every call.
func newMmsgWriter(rc syscall.RawConn, v6 bool, flags, batch int, pktinfo bool) *mmsgWriter {
	w := &mmsgWriter{rc: rc, v6: v6, flags: flags, hdrs: make([]mmsghdr, batch),
		iovs: make([]unix.Iovec, batch), names: make([]unix.RawSockaddrInet6, batch), srcs: make([]netip.Addr, batch),
		msgs: make([]mmsghdr, batch), ends: make([]int, batch), gsoOob: make([][]byte, batch)}
	rc.Control(func(fd uintptr) { w.gso = gsoWorks(fd) })
	for i := range w.gsoOob {
		w.gsoOob[i] = make([]byte, oobSize)
	}
	if pktinfo {
		w.oob = make([][]byte, batch)
		for i := range w.oob {
			w.oob[i] = make([]byte, oobSize)
		}
	}
	for i := range w.hdrs {
		w.hdrs[i].hdr.Iov = &w.iovs[i]
		w.hdrs[i].hdr.SetIovlen(1)
		w.hdrs[i].hdr.Name = (*byte)(unsafe.Pointer(&w.names[i]))
	}
	w.send = w.sendmmsg
	return w
}

func (w *mmsgWriter) set(k int, b []byte, to netip.AddrPort, src netip.Addr) {
	h := &w.hdrs[k]
	if len(b) == 0 {
		h.hdr.Iov.Base = nil
	} else {
		h.hdr.Iov.Base = &b[0]
	}
	h.hdr.Iov.SetLen(len(b))
	sa := &w.names[k]
	a := to.Addr()
	if w.v6 {
		// No scope: the reader keeps none either (a link-local client's reply is routed
		// without its zone, as it was through net.UDPAddr).
		*sa = unix.RawSockaddrInet6{Family: unix.AF_INET6, Addr: a.As16()}
		putPort(&sa.Port, to.Port())
		h.hdr.Namelen = unix.SizeofSockaddrInet6
	} else {
		sa4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		*sa4 = unix.RawSockaddrInet4{Family: unix.AF_INET}
		if a = a.Unmap(); a.Is4() {
			sa4.Addr = a.As4()
			putPort(&sa4.Port, to.Port())
		} // else an IPv6 client on an IPv4 socket, which the kernel never reports: port 0, which it refuses
		h.hdr.Namelen = unix.SizeofSockaddrInet4
	}
	h.hdr.Control, h.hdr.Controllen = nil, 0
	w.srcs[k] = netip.Addr{}
	if src.IsValid() && w.oob != nil {
		w.srcs[k] = src
		c := appendPktinfo(w.oob[k], src)
		h.hdr.Control = &c[0]
		h.hdr.SetControllen(len(c))
	}
}

func (w *mmsgWriter) flush(from, n int) (int, error) {
	if w.gso && n-from > 1 {
		if m := w.gsoRuns(from, n); m > 0 {
			return w.flushRuns(from, m)
		}
	}
	return w.sendSlots(from, n)
}

// sendSlots sends slots from..n-1 one datagram each.
func (w *mmsgWriter) sendSlots(from, n int) (int, error) {
	return w.sendmsgs(w.hdrs[from:n], n-from)
}

// flushRuns sends the m messages gsoRuns built for the slots from on and returns how many
// slots left. When the kernel refuses a run, the run's first reply is tried alone: if it goes,
// the kernel refused the segmentation, so the writer stops coalescing and the caller sends the
// rest one by one; if not, the error is about that reply, as it would have been without runs.
func (w *mmsgWriter) flushRuns(from, m int) (int, error) {
	sent, err := w.sendmsgs(w.msgs[:m], w.ends[m-1]-from)
	slots := 0
	if sent > 0 {
		slots = w.ends[sent-1] - from
	}
	if err == nil || sent == m {
		return slots, err
	}
	first := from + slots
	if w.ends[sent]-first == 1 {
		return slots, err // a single datagram: the error is its own
	}
	if one, err := w.sendSlots(first, first+1); one == 0 {
		return slots, err
	}
	w.gso = false
	return slots + 1, nil
}

// sendmsgs sends vec, which holds datagrams replies, in one sendmmsg and returns how many
// messages left; an error is about the message after those.
func (w *mmsgWriter) sendmsgs(vec []mmsghdr, datagrams int) (int, error) {
	w.vec, w.datagrams, w.sent, w.errno = vec, datagrams, 0, 0
	if err := w.rc.Write(w.send); err != nil {
		return 0, err
	}
	if w.errno != 0 {
		return w.sent, &net.OpError{Op: "sendmmsg", Net: "udp", Err: w.errno}
	}
	return w.sent, nil
}

// sendmmsg runs under RawConn.Write: returning false waits for the socket to be writable.
func (w *mmsgWriter) sendmmsg(fd uintptr) bool {
	for {
		call := unix.Syscall6
		if w.datagrams <= rawCallMax || w.flags&unix.MSG_DONTWAIT != 0 { // the call's length is the datagrams'
			call = unix.RawSyscall6
		}
		n, _, errno := call(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&w.vec[0])),
			uintptr(len(w.vec)), uintptr(w.flags), 0, 0)
		switch errno {
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return false
		case 0:
			w.sent = int(n)
		default:
			w.sent = 0 // n is the kernel's -1
		}
		w.errno = errno
		return true
	}
}

// rawCallMax is the most replies sent with RawSyscall, which keeps the goroutine's P through
// the call: Syscall (entersyscall) wakes the runtime's sysmon thread whenever it is parked,
// which on a lightly loaded server is at every query, and costs a futex wake, a nanosleep and
// thread switches each time (at 10,000 qps, 0.57-0.98 futex calls, 0.33-0.55 nanosleeps and
// 1.5-2.6 thread switches per query). A non-blocking send of a few datagrams, like a
// non-blocking recvmmsg, is over in microseconds, well within the 20 µs after which sysmon
// would hand the P of a long call to another thread; larger batches, which take longer (about
// 3 µs per datagram on loopback), keep Syscall so that the P can go. Measured: RawSyscall for
// every batch left the server's core idle 20-70% of the time at full load.
// A blocking socket's reader (MSG_DONTWAIT in flags) sends every batch with RawSyscall: its P
// was added for it alone (reserveProcs) and it keeps it while it waits in recvmmsg anyway, so
// handing it over during a send frees nothing, while entersyscall and exitsyscall cost their
// atomics and, with sysmon polling a P in a system call, its wake-ups (measured: sysmon's
// nanosleep was 1.7% of the server's samples at full load with Syscall for large batches). The
// send never blocks, so the call is as short as the batch (a stop of the world waits at most
// that long for the reader, as it does for any goroutine that has not reached a safe point).
const rawCallMax = 4

// putPort stores p in network byte order.
func putPort(dst *uint16, p uint16) {
	b := (*[2]byte)(unsafe.Pointer(dst))
	b[0], b[1] = byte(p>>8), byte(p)
}
