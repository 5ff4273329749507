//go:build !(linux || darwin || freebsd || netbsd || openbsd)

package origin

import "net"

// unsolicited cannot peek at a socket on this platform; bytes already read past a response
// still keep its connection from reuse (roundTrip).
func unsolicited(net.Conn) bool { return false }

type peeker struct{}

func newPeeker(net.Conn) *peeker { return nil }

// readable is never asked: no connection has a peeker here.
func (*peeker) readable() bool { return true }

// waiting cannot peek at a socket on this platform: startBody counts only what was read.
func waiting(net.Conn) bool { return false }

// belowTLS has no peeker to make non-blocking here: startBody counts only what TLS read.
func belowTLS(net.Conn) *inactivityConn { return nil }
