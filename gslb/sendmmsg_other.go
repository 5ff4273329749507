//go:build !linux

package gslb

import (
	"net"
	"net/netip"

	"golang.org/x/net/ipv4"
)

// xnetWriter sends batches through x/net's WriteBatch (one datagram per call where the system
// has no sendmmsg).
type xnetWriter struct {
	pc batchConn
	ms []ipv4.Message
	to []net.UDPAddr // ms[i].Addr, rewritten in place so that no reply allocates one
}

func newDatagramWriter(conn *net.UDPConn, batch int, _ bool) (datagramWriter, error) {
	w := &xnetWriter{pc: newBatchConn(conn), ms: make([]ipv4.Message, batch), to: make([]net.UDPAddr, batch)}
	for i := range w.ms {
		w.ms[i].Buffers = [][]byte{nil}
		w.to[i].IP = make(net.IP, 0, net.IPv6len)
		w.ms[i].Addr = &w.to[i]
	}
	return w, nil
}

// set ignores src: wildcard binds are served by miekg/dns here (pktinfoWorks is false).
func (w *xnetWriter) set(k int, b []byte, to netip.AddrPort, _ netip.Addr) {
	w.ms[k].Buffers[0] = b
	a := to.Addr()
	if a.Is4() {
		a4 := a.As4()
		w.to[k].IP = append(w.to[k].IP[:0], a4[:]...)
	} else {
		a16 := a.As16()
		w.to[k].IP = append(w.to[k].IP[:0], a16[:]...)
	}
	w.to[k].Port = int(to.Port())
}

func (w *xnetWriter) flush(from, n int) (int, error) { return w.pc.WriteBatch(w.ms[from:n], 0) }
