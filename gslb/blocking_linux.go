package gslb

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// blockingSocket is a UDP socket that the Go netpoller does not watch: its reader waits inside
// recvmmsg, keeping its thread and its P (see mmsgReader.recvmmsg and reserveProcs), the way
// gdnsd's threads do. A datagram then wakes that thread directly. Through the netpoller the
// same datagram first wakes the socket's epoll waiter, then the scheduler has to find a thread
// and a P for the reader goroutine, and the reader makes one more recvmmsg that finds nothing
// before it parks: more system calls and thread switches per query on a lightly loaded server.
//
// A blocking read is woken for shutdown by shutdown(2) (SHUT_RD: every read, waiting or to
// come, returns at once; replies can still be sent), and SO_RCVTIMEO bounds each wait in case
// a kernel does not wake it that way. Sends use MSG_DONTWAIT and wait in poll(2) for room, so
// that a full send buffer never holds a thread inside a RawSyscall (see rawCallMax).
//
// The reader owns the descriptor from open to close; close runs only after its reader has
// returned, so a descriptor number is never used after the kernel may have handed it out again.
type blockingSocket struct {
	fd     int
	local  net.Addr
	v6     bool        // AF_INET6 (IPv4 clients appear v4-mapped)
	closed atomic.Bool // set by wake before shutdown(2)
}

// blockingWorks: the UDP loop can read from blocking sockets of its own.
const blockingWorks = true

// blockingWaitMax is SO_RCVTIMEO: the longest a reader waits before it looks at closed again
// should shutdown(2) not have woken it.
var blockingWaitMax = time.Second

// openBlockingSockets opens n blocking UDP sockets bound to the address of first, in its
// SO_REUSEPORT group (first must have SO_REUSEPORT), of its address family and IPV6_V6ONLY
// setting, and with pktinfo when asked. The caller closes first once they are open, so that the
// kernel deals every query to a socket that is read.
func openBlockingSockets(first *net.UDPConn, n int, pktinfo bool) ([]udpSocket, error) {
	rc, err := first.SyscallConn()
	if err != nil {
		return nil, err
	}
	var sa unix.Sockaddr
	family, v6only := unix.AF_INET, 0
	var sockErr error
	if err := rc.Control(func(fd uintptr) {
		if sa, sockErr = unix.Getsockname(int(fd)); sockErr != nil {
			sockErr = os.NewSyscallError("getsockname", sockErr)
			return
		}
		if _, ok := sa.(*unix.SockaddrInet6); ok {
			family = unix.AF_INET6
			v6only, sockErr = unix.GetsockoptInt(int(fd), unix.IPPROTO_IPV6, unix.IPV6_V6ONLY)
			sockErr = os.NewSyscallError("getsockopt IPV6_V6ONLY", sockErr)
		}
	}); err != nil {
		return nil, err
	}
	if sockErr != nil {
		return nil, sockErr
	}
	socks := make([]udpSocket, 0, n)
	for range n {
		b, err := openBlockingSocket(family, v6only, sa, first.LocalAddr(), pktinfo)
		if err != nil {
			for _, s := range socks {
				s.close()
			}
			return nil, err
		}
		socks = append(socks, b)
	}
	return socks, nil
}

func openBlockingSocket(family, v6only int, sa unix.Sockaddr, local net.Addr, pktinfo bool) (*blockingSocket, error) {
	fd, err := unix.Socket(family, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.IPPROTO_UDP)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	var errs []error
	set := func(level, opt, v int, name string) {
		if err := unix.SetsockoptInt(fd, level, opt, v); err != nil {
			errs = append(errs, os.NewSyscallError("setsockopt "+name, err))
		}
	}
	set(unix.SOL_SOCKET, unix.SO_REUSEPORT, 1, "SO_REUSEPORT")
	if family == unix.AF_INET6 {
		set(unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, v6only, "IPV6_V6ONLY")
		if pktinfo {
			set(unix.IPPROTO_IPV6, unix.IPV6_RECVPKTINFO, 1, "IPV6_RECVPKTINFO")
		}
	}
	if pktinfo {
		set(unix.IPPROTO_IP, unix.IP_PKTINFO, 1, "IP_PKTINFO")
	}
	if err := setNoPMTUD(fd, family == unix.AF_INET6); err != nil {
		errs = append(errs, err)
	}
	tv := unix.NsecToTimeval(blockingWaitMax.Nanoseconds())
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		errs = append(errs, os.NewSyscallError("setsockopt SO_RCVTIMEO", err))
	}
	if len(errs) == 0 {
		if err := unix.Bind(fd, sa); err != nil {
			errs = append(errs, os.NewSyscallError("bind", err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("blocking socket on %v: %w", local, err)
	}
	return &blockingSocket{fd: fd, local: local, v6: family == unix.AF_INET6}, nil
}

func (b *blockingSocket) io(batch, size int, pktinfo bool, poll time.Duration) (datagramReader, datagramWriter, error) {
	return newMmsgReader(b, true, batch, size, pktinfo, poll), newMmsgWriter(b, b.v6, unix.MSG_DONTWAIT, batch, pktinfo), nil
}

func (b *blockingSocket) localAddr() net.Addr { return b.local }
func (b *blockingSocket) blocking() bool      { return true }

// wake ends the reads. shutdown(2) on an unconnected UDP socket reports ENOTCONN but still
// marks the socket shut for reading and wakes its waiters, which is all it is called for.
func (b *blockingSocket) wake() error {
	b.closed.Store(true)
	if err := unix.Shutdown(b.fd, unix.SHUT_RD); err != nil && !errors.Is(err, unix.ENOTCONN) {
		return os.NewSyscallError("shutdown", err)
	}
	return nil
}

func (b *blockingSocket) close() error {
	return os.NewSyscallError("close", unix.Close(b.fd))
}

// Control, Read and Write make the socket a syscall.RawConn for mmsgReader and mmsgWriter.

func (b *blockingSocket) Control(f func(fd uintptr)) error {
	f(uintptr(b.fd))
	return nil
}

// Read calls f until it reads something; f returns false when SO_RCVTIMEO ran out.
func (b *blockingSocket) Read(f func(fd uintptr) bool) error {
	for {
		if b.closed.Load() {
			return net.ErrClosed
		}
		if f(uintptr(b.fd)) {
			return nil
		}
	}
}

// Write calls f until it sends something; f returns false when the send buffer is full
// (MSG_DONTWAIT), and then Write waits until there is room (readers sharing the socket may
// write at once, so the poll set is the caller's own).
func (b *blockingSocket) Write(f func(fd uintptr) bool) error {
	for !f(uintptr(b.fd)) {
		pfd := []unix.PollFd{{Fd: int32(b.fd), Events: unix.POLLOUT}}
		if _, err := unix.Poll(pfd, int(blockingWaitMax.Milliseconds())); err != nil && err != unix.EINTR {
			return os.NewSyscallError("poll", err)
		}
	}
	return nil
}
