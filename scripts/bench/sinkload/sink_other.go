//go:build !linux

package main

import "net"

// newDiscarder copies: only Linux's recv discards TCP bytes in the kernel (MSG_TRUNC).
func newDiscarder(c *net.TCPConn) discarder {
	return &copySink{c: c, buf: make([]byte, copyChunk)}
}
