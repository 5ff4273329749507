package main

import (
	"errors"
	"fmt"
	"net"
	"syscall"
)

// truncMax bounds one discarding recv: the loopback's receive queue seldom holds more (its
// tcp_rmem maximum is a few MiB), and larger asks just loop.
const truncMax = 1 << 20

// truncSink drops body bytes in the kernel: on a TCP socket, recv with MSG_TRUNC advances the
// stream past up to len bytes without copying them to the buffer (tcp_recvmsg_locked skips
// skb_copy_datagram_msg under MSG_TRUNC and still eats the skbs and updates the receive
// window; tcp(7): "the received bytes of data are discarded"). The kernel never writes to
// scratch, so its pages are never touched; it exists so the length passed is a real slice's.
type truncSink struct {
	rc      syscall.RawConn
	scratch []byte
}

func newDiscarder(c *net.TCPConn) discarder {
	rc, err := c.SyscallConn()
	if err != nil {
		return &copySink{c: c, buf: make([]byte, copyChunk)}
	}
	return &truncSink{rc: rc, scratch: make([]byte, truncMax)}
}

func (s *truncSink) discard(n int64) (int64, error) {
	want := int(min(n, truncMax))
	var got int
	var rerr error
	err := s.rc.Read(func(fd uintptr) bool {
		got, _, rerr = syscall.Recvfrom(int(fd), s.scratch[:want], syscall.MSG_TRUNC|syscall.MSG_DONTWAIT)
		// EAGAIN: nothing queued; false makes the runtime wait on the poller and call again.
		return !errors.Is(rerr, syscall.EAGAIN)
	})
	if err == nil {
		err = rerr
	}
	if err != nil {
		return 0, fmt.Errorf("recv MSG_TRUNC: %w", err)
	}
	return int64(got), nil
}
