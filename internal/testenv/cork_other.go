//go:build !linux

package testenv

import "net"

// corkClose writes b and closes the connection (the FIN may come in a segment of its own).
func corkClose(c net.Conn, b []byte) {
	c.Write(b)
	closeWrite(c)
}
