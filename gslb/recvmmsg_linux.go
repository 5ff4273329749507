package gslb

import (
	"encoding/binary"
	"net"
	"net/netip"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mmsgReader reads a batch of datagrams with one recvmmsg(2) into buffers and address slots
// it owns, and decodes senders into netip.AddrPort values: nothing is allocated per datagram.
// (x/net's ipv4.PacketConn.ReadBatch does the same system call but allocates a *net.UDPAddr
// and its IP for every datagram, which is garbage for the collector at every query.)
type mmsgReader struct {
	rc    syscall.RawConn
	hdrs  []mmsghdr
	iovs  []unix.Iovec
	names []unix.RawSockaddrInet6 // large enough for either family
	bufs  [][]byte
	n     int
	errno syscall.Errno
	recv  func(fd uintptr) bool // r.recvmmsg bound once, so that a read allocates no closure
}

// mmsghdr is struct mmsghdr of <sys/socket.h>: a msghdr and the length received.
type mmsghdr struct {
	hdr unix.Msghdr
	len uint32
}

func newDatagramReader(conn *net.UDPConn, batch, size int) (datagramReader, error) {
	rc, err := conn.SyscallConn()
	if err != nil {
		return nil, err
	}
	r := &mmsgReader{rc: rc, hdrs: make([]mmsghdr, batch), iovs: make([]unix.Iovec, batch),
		names: make([]unix.RawSockaddrInet6, batch), bufs: make([][]byte, batch)}
	for i := range r.hdrs {
		r.bufs[i] = make([]byte, size)
		r.iovs[i].Base = &r.bufs[i][0]
		r.iovs[i].SetLen(size)
		r.hdrs[i].hdr.Iov = &r.iovs[i]
		r.hdrs[i].hdr.SetIovlen(1)
		r.hdrs[i].hdr.Name = (*byte)(unsafe.Pointer(&r.names[i]))
	}
	r.recv = r.recvmmsg
	return r, nil
}

func (r *mmsgReader) read() (int, error) {
	for i := range r.hdrs {
		r.hdrs[i].hdr.Namelen = unix.SizeofSockaddrInet6
		r.hdrs[i].hdr.Flags = 0
		r.hdrs[i].len = 0
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
func (r *mmsgReader) recvmmsg(fd uintptr) bool {
	n, _, errno := unix.Syscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&r.hdrs[0])),
		uintptr(len(r.hdrs)), 0, 0, 0)
	if errno == unix.EAGAIN || errno == unix.EINTR {
		return false
	}
	r.n, r.errno = int(n), errno
	return true
}

func (r *mmsgReader) datagram(i int) ([]byte, netip.AddrPort, bool) {
	h := &r.hdrs[i]
	if h.hdr.Flags&unix.MSG_TRUNC != 0 {
		return nil, netip.AddrPort{}, false
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
		return nil, netip.AddrPort{}, false
	}
	return r.bufs[i][:h.len], from, true
}

// portOf reads a port stored in network byte order.
func portOf(p uint16) uint16 {
	return binary.BigEndian.Uint16((*[2]byte)(unsafe.Pointer(&p))[:])
}
