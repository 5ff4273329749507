//go:build !linux

package gslb

import "syscall"

// reusePortWorks is false where SO_REUSEPORT is not known to balance UDP: readers share one
// socket.
const reusePortWorks = false

// udpControl sets nothing here: no SO_REUSEPORT groups, and wildcard binds stay with miekg/dns.
func udpControl(_, _ bool) func(network, address string, c syscall.RawConn) error { return nil }
