package gslb

import (
	"errors"
	"syscall"

	"golang.org/x/sys/unix"
)

// reusePort is a net.ListenConfig Control that sets SO_REUSEPORT before bind, so that every
// UDP reader can bind a socket of its own to the same address and port. The kernel admits
// only sockets of the same user to the group. It is nil where that is not available.
var reusePort = setReusePort

func setReusePort(_, _ string, c syscall.RawConn) error {
	var setErr error
	err := c.Control(func(fd uintptr) {
		setErr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
	})
	return errors.Join(err, setErr)
}
