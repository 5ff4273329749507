package edge

import "golang.org/x/sys/unix"

// setCork sets TCP_CORK on the socket fd to on (1 or 0). A failed setsockopt only changes
// how the response is packetized, so its error is dropped.
func setCork(fd uintptr, on int) {
	_ = unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_CORK, on)
}

// isCorked reports whether TCP_CORK is set on the socket fd.
func isCorked(fd uintptr) bool {
	v, _ := unix.GetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_CORK)
	return v != 0
}
