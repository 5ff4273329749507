//go:build !linux

package gslb

import "syscall"

// reusePort is nil where SO_REUSEPORT is not known to balance UDP: readers share one socket.
var reusePort func(network, address string, c syscall.RawConn) error
