//go:build !linux

package gslb

import (
	"net"
	"net/netip"
	"time"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// batchConn is the batch I/O of an ipv4.PacketConn or an ipv6.PacketConn; both read and write
// the same socket.Message.
type batchConn interface {
	ReadBatch(ms []ipv4.Message, flags int) (int, error)
	WriteBatch(ms []ipv4.Message, flags int) (int, error)
}

func newBatchConn(c *net.UDPConn) batchConn {
	if a, ok := c.LocalAddr().(*net.UDPAddr); ok && a.IP.To4() == nil {
		return ipv6.NewPacketConn(c)
	}
	return ipv4.NewPacketConn(c)
}

// xnetReader reads batches through x/net's ReadBatch (one datagram per call where the system
// has no recvmmsg).
type xnetReader struct {
	pc batchConn
	ms []ipv4.Message
}

// It does not busy-poll: ReadBatch parks in the netpoller at once.
func newDatagramReader(conn *net.UDPConn, batch, size int, _ bool, _ time.Duration) (datagramReader, error) {
	r := &xnetReader{pc: newBatchConn(conn), ms: make([]ipv4.Message, batch)}
	for i := range r.ms {
		r.ms[i].Buffers = [][]byte{make([]byte, size)}
	}
	return r, nil
}

func (r *xnetReader) read() (int, error) { return r.pc.ReadBatch(r.ms, 0) }

func (r *xnetReader) datagram(i int) ([]byte, netip.AddrPort, netip.Addr, bool) {
	m := &r.ms[i]
	ua, ok := m.Addr.(*net.UDPAddr)
	if !ok || m.N > len(m.Buffers[0]) {
		return nil, netip.AddrPort{}, netip.Addr{}, false
	}
	return m.Buffers[0][:m.N], ua.AddrPort(), netip.Addr{}, true
}

// pktinfoWorks is false here: wildcard binds stay with miekg/dns.
const pktinfoWorks = false
