//go:build !linux

package origin

import "net"

// canCorkClose: the FIN may come in a segment of its own here, after the pool read the bytes.
const canCorkClose = false

func corkClose(c net.Conn, b []byte) {
	c.Write(b)
	c.(*net.TCPConn).CloseWrite()
}
