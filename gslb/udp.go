package gslb

import (
	"errors"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// udpLoop serves queries from the UDP sockets of the listen address. miekg/dns spends
// most of a query outside the handler: a goroutine and a fresh stack per packet, a read
// deadline per read, a session object, and control messages that only a wildcard bind needs.
// Here each of a few readers (one per CPU) reads a batch of datagrams in one system call
// (recvmmsg), answers each inline into buffers it owns, and sends the batch of replies in one
// more (sendmmsg). Each reader has a socket of its own on the same port (SO_REUSEPORT, where
// the kernel spreads clients over them by address and port) so readers never contend for one
// socket's queue; where that is not available, the readers share one socket.
//
// On a wildcard bind (pktinfo) every reply must leave from the address its query was sent to
// (a VIP; resolvers drop replies from any other address): the readers ask the kernel for each
// datagram's destination (IP_PKTINFO, IPV6_PKTINFO) and give it back as the reply's source.
// Where that is not available (not Linux), ListenAndServe keeps miekg/dns on wildcard binds.
type udpLoop struct {
	socks    []udpSocket // one per reader, or one shared by all
	readers  int
	pktinfo  bool
	handler  *Server
	wg       sync.WaitGroup
	closing  chan struct{}
	reserved int // Ps added to GOMAXPROCS for blocking readers (reserveProcs), given back by close
}

// udpBatch is how many datagrams a reader takes from the socket and answers per system call.
// Under light load a read returns the one datagram waiting; under heavy load the batch
// amortises the system calls, which cost more than building the replies.
const udpBatch = 32

// newUDPLoop serves socks with readers goroutines (at least one per socket; 0 means one per
// CPU). With pktinfo, replies leave from the address each query was sent to.
func newUDPLoop(socks []udpSocket, readers int, handler *Server, pktinfo bool) *udpLoop {
	if readers <= 0 {
		readers = cpuProcs()
	}
	return &udpLoop{socks: socks, readers: max(readers, len(socks)), pktinfo: pktinfo, handler: handler,
		closing: make(chan struct{})}
}

// start runs the readers in the background, or none of them if one cannot be set up.
func (u *udpLoop) start() error {
	readers := make([]*udpReader, u.readers)
	for i := range readers {
		r, err := newUDPReader(u.handler, u.socks[i%len(u.socks)], u.pktinfo)
		if err != nil {
			return err
		}
		readers[i] = r
	}
	block := u.socks[0].blocking()
	if block {
		reserveProcs(len(readers))
		u.reserved = len(readers)
	}
	for _, r := range readers {
		u.wg.Add(1)
		// A blocking reader is not locked to its thread. It never yields, so sysmon preempts it
		// every 10-20 ms (a signal ends its recvmmsg with EINTR) and it goes to the global run
		// queue, where its thread, looking for work, finds it again (unless a thread that wakep
		// started takes it first). Locked (runtime.LockOSThread, until issue 20's third stop),
		// each preemption parked the thread and handed its P to a second one, which handed it
		// back and woke the first: 50-110 µs out of recvmmsg, the one wait in Shoal's tail at
		// 10,000 qps that gdnsd does not have. Under bench/dnsperf.sh's SCHED_FIFO limit (half a
		// core every 20 ms) unlocked answered 0.98-1.32x locked's rate on the many-subnet load,
		// and its p99 at 10,000 qps was lower (README, "Readers not locked to their threads").
		go func() {
			defer u.wg.Done()
			r.run(u.closing)
		}()
	}
	return nil
}

// close stops the readers and waits for the queries in hand to be answered.
func (u *udpLoop) close() error {
	close(u.closing)
	var errs []error
	for _, c := range u.socks {
		errs = append(errs, c.wake())
	}
	u.wg.Wait()
	for _, c := range u.socks {
		errs = append(errs, c.close())
	}
	if u.reserved > 0 {
		releaseProcs(u.reserved)
		u.reserved = 0
	}
	return errors.Join(errs...)
}

// datagramWriter sends a batch of replies in one system call (sendmmsg on Linux) from slots
// it owns.
type datagramWriter interface {
	// set makes slot k the datagram b to to, sent from src when src is valid (pktinfo). b
	// must stay as it is until the slot has been sent.
	set(k int, b []byte, to netip.AddrPort, src netip.Addr)
	// flush sends slots from..n-1 in order and returns how many left; an error is about the
	// slot after those.
	flush(from, n int) (int, error)
}

// datagramReader reads a batch of datagrams into buffers it owns (recvmmsg on Linux).
type datagramReader interface {
	// read waits for at least one datagram and returns how many the batch holds.
	read() (int, error)
	// datagram returns datagram i of the last read, its sender and, when the reader was made
	// with pktinfo, the address it was sent to; ok is false for one that was cut short by the
	// buffer or comes from an unknown address family.
	datagram(i int) (b []byte, from netip.AddrPort, dst netip.Addr, ok bool)
}

// udpReader is one reader goroutine's state. Nothing in it is shared: it is used by that
// goroutine alone.
type udpReader struct {
	s     *Server
	rd    datagramReader
	wr    datagramWriter
	bufs  [][]byte         // backing arrays of the replies, reused
	to    []netip.AddrPort // the client of each queued reply, for the log
	nout  int              // replies queued in wr
	w     udpWriter
	cache *replyCache
	fast  *fastScratch
}

func newUDPReader(s *Server, sock udpSocket, pktinfo bool) (*udpReader, error) {
	rd, wr, err := sock.io(udpBatch, maxQuerySize, pktinfo, s.udpBusyPoll)
	if err != nil {
		return nil, err
	}
	r := &udpReader{s: s, rd: rd, wr: wr, bufs: make([][]byte, udpBatch), to: make([]netip.AddrPort, udpBatch),
		cache: newReplyCache(s.zone.answers), fast: newFastScratch(s.zone)}
	r.fast.batch = true
	for i := range r.bufs {
		r.bufs[i] = make([]byte, 0, maxQuerySize)
	}
	r.w = udpWriter{local: sock.localAddr(), reader: r, out: make([]byte, 0, maxQuerySize)}
	return r, nil
}

func (r *udpReader) run(closing <-chan struct{}) {
	for {
		n, err := r.rd.read()
		if err != nil {
			select {
			case <-closing:
				return
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// A transient error (ICMP unreachable reported on the socket, out of buffers): the
			// socket still works, so keep reading.
			r.s.log.Debug("gslb: udp read", "err", err)
			continue
		}
		r.answer(n)
	}
}

// answer answers the n datagrams of the last read and sends their replies.
func (r *udpReader) answer(n int) {
	start := time.Now()
	// One atomic add per batch claims a rotation for each query in it: the server's queries
	// still rotate one by one, without the readers contending for the counter per query.
	rot := r.s.rotation.Add(uint64(n)) - uint64(n)
	fast := uint64(0)
	for i := range n {
		rot++
		if b, from, dst, ok := r.rd.datagram(i); ok && r.serve(b, from, dst, rot) {
			fast++
		}
	}
	// Counted before the replies are sent, so that whoever reads a reply also sees it
	// counted; every answer of the batch waited for the batch (see answerHistogram).
	if fast > 0 {
		r.s.metrics.latency.observeN(time.Since(start), fast)
		r.fast.flushCounts()
	}
	r.flush()
}

// serve answers one datagram into the batch of replies: on the fast path when it can (fast is
// true; the caller counts its time), else from the reply cache or through ServeDNS. A valid
// dst is the reply's source address.
func (r *udpReader) serve(packet []byte, from netip.AddrPort, dst netip.Addr, rot uint64) (fast bool) {
	if len(packet) < headerLen {
		return false // a reply to junk only helps amplification
	}
	if reply, ok := r.s.answerFast(packet, from, rot, r.bufs[r.nout][:0], r.fast, false); ok {
		r.queue(reply, from, dst)
		return true
	}
	r.w.remote, r.w.dst = from, dst
	if r.cache.period > 0 {
		r.cache.serve(r.s, packet, &r.w, rot)
		return false
	}
	if m, ok := r.w.unpack(packet); ok {
		r.s.serve(&r.w, m, rot)
	}
	return false
}

// queue adds reply, built in r.bufs[r.nout], to the batch; a valid src is its source address.
func (r *udpReader) queue(reply []byte, to netip.AddrPort, src netip.Addr) {
	k := r.nout
	r.bufs[k] = reply[:0] // keep the array it was built in, should append have grown it
	r.to[k] = to
	r.wr.set(k, reply, to, src)
	r.nout++
}

// flush sends the queued replies, skipping one that the kernel refuses (a destination it
// cannot reach) so that the rest still go.
func (r *udpReader) flush() {
	for sent := 0; sent < r.nout; {
		n, err := r.wr.flush(sent, r.nout)
		sent += n
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				break
			}
			if sent < r.nout {
				r.s.log.Debug("gslb: write reply", "client", r.to[sent], "err", err)
			}
			sent++
		}
	}
	r.nout = 0
}

// The DNS header: 12 bytes, the QR flag in the top bit of the third.
const (
	headerLen = 12
	flagQR    = 0x80
)

// udpWriter is the dns.ResponseWriter of one reader's general path: it is reused for every
// query that reader handles, so it is never used by two goroutines at once. Its replies join
// the reader's batch.
type udpWriter struct {
	local  net.Addr
	reader *udpReader
	remote netip.AddrPort
	dst    netip.Addr // the address the query was sent to, with pktinfo
	out    []byte
	sent   []byte // the last reply WriteMsg packed, for the reply cache
}

func (w *udpWriter) unpack(packet []byte) (*dns.Msg, bool) { return unpackQuery(packet, w) }

// unpackQuery decodes a query the way miekg/dns does with MsgAccept: a message whose body
// cannot be read gets FORMERR through w (unless it is a response: never answer those), and
// ok is false. UDP and TCP alike.
func unpackQuery(packet []byte, w dns.ResponseWriter) (r *dns.Msg, ok bool) {
	r = new(dns.Msg)
	if err := r.Unpack(packet); err != nil {
		if packet[2]&flagQR != 0 {
			return nil, false
		}
		formErr := new(dns.Msg)
		formErr.Id = uint16(packet[0])<<8 | uint16(packet[1])
		formErr.Opcode = int(packet[2]>>3) & 0xf
		formErr.Response = true
		formErr.Rcode = dns.RcodeFormatError
		w.WriteMsg(formErr)
		return nil, false
	}
	return r, true
}

func (w *udpWriter) remoteAddrPort() netip.AddrPort { return w.remote }

func (w *udpWriter) LocalAddr() net.Addr { return w.local }

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

// Write queues b in the reader's batch; it is sent when the batch has been answered.
func (w *udpWriter) Write(b []byte) (int, error) {
	if w.reader.nout == len(w.reader.bufs) {
		w.reader.flush() // a handler wrote more than one reply per query
	}
	w.reader.queue(append(w.reader.bufs[w.reader.nout][:0], b...), w.remote, w.dst)
	return len(b), nil
}

func (w *udpWriter) Close() error        { return nil }
func (w *udpWriter) TsigStatus() error   { return nil }
func (w *udpWriter) TsigTimersOnly(bool) {}
func (w *udpWriter) Hijack()             {}
