package gslb

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"runtime"
	"sync"

	"github.com/miekg/dns"
)

// udpLoop serves queries from one UDP socket bound to a specific address. miekg/dns spends
// most of a query outside the handler: a goroutine and a fresh stack per packet, a read
// deadline per read, a session object, and control messages that only a wildcard bind needs.
// Here each of a few readers handles its packet inline, with buffers and a reply cache it
// owns and reuses; the parallelism is the number of readers (one per CPU), not one goroutine
// per query.
//
// It is only for sockets bound to a specific address: on a wildcard bind the reply must leave
// from the address the query was sent to (a VIP), which needs the IP_PKTINFO control messages
// miekg/dns handles, so ListenAndServe keeps miekg/dns there.
type udpLoop struct {
	conn    *net.UDPConn
	handler *Server
	wg      sync.WaitGroup
	closing chan struct{}
}

func newUDPLoop(conn *net.UDPConn, handler *Server) *udpLoop {
	return &udpLoop{conn: conn, handler: handler, closing: make(chan struct{})}
}

// start runs the readers in the background.
func (u *udpLoop) start() {
	for range max(runtime.GOMAXPROCS(0), 1) {
		u.wg.Add(1)
		go u.read()
	}
}

// close stops the readers and waits for the queries in hand to be answered.
func (u *udpLoop) close() error {
	close(u.closing)
	err := u.conn.Close()
	u.wg.Wait()
	return err
}

func (u *udpLoop) read() {
	defer u.wg.Done()
	in := make([]byte, maxQuerySize)
	w := &udpWriter{conn: u.conn, out: make([]byte, 0, maxQuerySize)}
	cache := newReplyCache(u.handler.zone.answers)
	for {
		n, from, err := u.conn.ReadFromUDPAddrPort(in)
		if err != nil {
			select {
			case <-u.closing:
				return
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// A transient error (ICMP unreachable reported on the socket, out of buffers): the
			// socket still works, so keep reading.
			u.handler.log.Debug("gslb: udp read", "err", err)
			continue
		}
		w.remote = from
		u.serve(in[:n], w, cache)
	}
}

// serve answers one packet, from the reader's reply cache when it can.
func (u *udpLoop) serve(packet []byte, w *udpWriter, cache *replyCache) {
	if len(packet) < headerLen {
		return // a reply to junk only helps amplification
	}
	if cache.period > 0 {
		cache.serve(u.handler, packet, w)
		return
	}
	if r, ok := w.unpack(packet); ok {
		u.handler.ServeDNS(w, r)
	}
}

// The DNS header: 12 bytes, the QR flag in the top bit of the third.
const (
	headerLen = 12
	flagQR    = 0x80
)

// udpWriter is the dns.ResponseWriter of one reader: it is reused for every query that reader
// handles, so it is never used by two goroutines at once.
type udpWriter struct {
	conn   *net.UDPConn
	remote netip.AddrPort
	out    []byte
	sent   []byte // the last reply WriteMsg packed, for the reply cache
}

// unpack decodes a query the way miekg/dns does with MsgAccept: a message whose body cannot
// be read gets FORMERR (unless it is a response: never answer those), and ok is false.
func (w *udpWriter) unpack(packet []byte) (r *dns.Msg, ok bool) {
	r = new(dns.Msg)
	if err := r.Unpack(packet); err != nil {
		if packet[2]&flagQR != 0 {
			return nil, false
		}
		formErr := new(dns.Msg)
		formErr.Id = binary.BigEndian.Uint16(packet)
		formErr.Opcode = int(packet[2]>>3) & 0xf
		formErr.Response = true
		formErr.Rcode = dns.RcodeFormatError
		w.WriteMsg(formErr)
		return nil, false
	}
	return r, true
}

func (w *udpWriter) remoteAddrPort() netip.AddrPort { return w.remote }

func (w *udpWriter) LocalAddr() net.Addr { return w.conn.LocalAddr() }

func (w *udpWriter) RemoteAddr() net.Addr { return net.UDPAddrFromAddrPort(w.remote) }

func (w *udpWriter) WriteMsg(m *dns.Msg) error {
	packed, err := m.PackBuffer(w.out[:cap(w.out)])
	if err != nil {
		return err
	}
	if cap(packed) > cap(w.out) {
		w.out = packed[:0] // grown by PackBuffer: keep the larger buffer
	}
	w.sent = packed
	_, err = w.Write(packed)
	return err
}

func (w *udpWriter) Write(b []byte) (int, error) { return w.conn.WriteToUDPAddrPort(b, w.remote) }

func (w *udpWriter) Close() error        { return nil }
func (w *udpWriter) TsigStatus() error   { return nil }
func (w *udpWriter) TsigTimersOnly(bool) {}
func (w *udpWriter) Hijack()             {}
