package edge

import "net"

// bytesReceived is how many bytes of c's stream have arrived from its peer (TCP_INFO's
// tcpi_bytes_received, Linux 4.1+), read or not; false when the kernel does not say.
func bytesReceived(c net.Conn) (uint64, bool) {
	info, ok := tcpInfo(c)
	if !ok {
		return 0, false
	}
	return info.Bytes_received, true
}
