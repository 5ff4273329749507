package gslb

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"unsafe"

	"golang.org/x/sys/unix"
)

// A reader's replies leave, when it can, through a send socket of its own that the Go
// netpoller does not watch. The reader's socket is registered with the netpoller's epoll for
// reading and writing (edge-triggered), so every reply sent on it wakes that epoll entry
// when the kernel frees the datagram: on loopback at once, within the sendmmsg. perf put 7%
// of the server's core there at full load (sock_wfree, the write-space wake-up), where a
// server whose sockets no epoll watches pays nothing. The send socket has no waiter at all.
//
// It is bound to the wildcard address on the listen port (SO_REUSEPORT, so that the bind is
// allowed beside the readers' sockets), which puts it outside the readers' reuseport group:
// the kernel delivers a query for the listen address to the readers' sockets, whose bind is
// more specific, never to it. Datagrams for other local addresses on the port would reach it
// instead; a filter drops them before they are queued. Each reply names the listen address as
// its source (IP_PKTINFO), so it leaves exactly as it would from the reader's socket. Only for
// a specific listen address: a wildcard bind's readers answer from the query's destination
// and share the wildcard's group, so they keep sending on their own sockets.

// openSendSocket opens the send socket for the readers of conn, bound to a specific
// address; ok is false (and err nil) for a wildcard bind.
func openSendSocket(conn *net.UDPConn) (fd int, src netip.Addr, ok bool, err error) {
	ap := conn.LocalAddr().(*net.UDPAddr).AddrPort()
	src = ap.Addr()
	if src.IsUnspecified() || src.Is4In6() {
		return -1, netip.Addr{}, false, nil
	}
	family := unix.AF_INET
	var sa unix.Sockaddr = &unix.SockaddrInet4{Port: int(ap.Port())}
	if src.Is6() {
		family, sa = unix.AF_INET6, &unix.SockaddrInet6{Port: int(ap.Port())}
	}
	fd, err = unix.Socket(family, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, netip.Addr{}, false, fmt.Errorf("send socket: %w", err)
	}
	dropAll := []unix.SockFilter{{Code: unix.BPF_RET | unix.BPF_K, K: 0}}
	err = errors.Join(
		unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEPORT, 1),
		unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER,
			&unix.SockFprog{Len: uint16(len(dropAll)), Filter: unsafe.SliceData(dropAll)}))
	if err == nil && family == unix.AF_INET6 {
		err = unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 1)
	}
	if err == nil {
		err = unix.Bind(fd, sa)
	}
	if err != nil {
		unix.Close(fd)
		return -1, netip.Addr{}, false, fmt.Errorf("send socket on port %d: %w", ap.Port(), err)
	}
	return fd, src, true, nil
}

// sendThrough makes w send through fd, from src, and close fd with closeSend. When fd's
// buffer is full, a batch's rest goes through the reader's socket.
func (w *mmsgWriter) sendThrough(fd int, src netip.Addr) {
	w.fd, w.src = fd, src
	if w.oob == nil {
		w.oob = make([][]byte, len(w.hdrs))
		for i := range w.oob {
			w.oob[i] = make([]byte, oobSize)
		}
	}
}

func (w *mmsgWriter) closeSend() error {
	if w.fd < 0 {
		return nil
	}
	fd := w.fd
	w.fd = -1
	return unix.Close(fd)
}

// withSendSocket gives wr a send socket for conn when it can have one (see openSendSocket);
// it reports whether it did.
func withSendSocket(wr datagramWriter, conn *net.UDPConn) (bool, error) {
	w, isMmsg := wr.(*mmsgWriter)
	if !isMmsg {
		return false, nil
	}
	fd, src, ok, err := openSendSocket(conn)
	if !ok || err != nil {
		return false, err
	}
	w.sendThrough(fd, src)
	return true, nil
}
