package gslb

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
)

// DNS over TCP (RFC 7766), served by the package itself rather than by miekg/dns, so that the
// common query takes the same fast path as over UDP (answerFast, without the UDP size limit),
// and so that pipelined queries are answered together:
//
//   - Each message is framed by a two-byte length (RFC 1035 section 4.2.2). A connection may
//     carry many queries, sent without waiting for answers (pipelining, RFC 7766 section
//     6.2.1.1); they are answered in the order they came, and every answer to the queries
//     that arrived in one read leaves in one write.
//   - A connection with no query for the idle timeout is closed (RFC 7766 section 6.2.3),
//     as is one whose message does not arrive whole within the same time from its first
//     byte, one whose client does not take an answer within the same time, one that sends a
//     message shorter than a DNS header, or one that closes its side.
//   - Answers are those ServeDNS gives over TCP, never truncated.
//   - At most maxTCPConns connections are served at once (RFC 7766 section 6.2.2 asks for a
//     bound); one accepted beyond that is closed at once, so idle clients cannot hold every
//     file descriptor of the process.
//
// Shutdown stops accepting, lets every connection finish the queries it has read, and closes
// them; it waits for that until its context ends.

// defaultTCPIdle is how long a connection may wait for its next query, and a client for
// taking an answer: miekg/dns's default read and write timeouts, which served TCP before.
const defaultTCPIdle = 2 * time.Second

// maxTCPConns bounds the connections served at once. Each costs a goroutine and about 10 KiB
// (buffers), so the bound is 10 MiB; resolvers keep a few connections each.
const maxTCPConns = 1024

// tcpReadSize is a connection's first read buffer: room for dozens of pipelined queries. It
// grows, up to one whole message of 65,535 bytes, only for a longer message.
const tcpReadSize = 4096

// tcpServer accepts connections on one listener and serves each on a goroutine of its own.
type tcpServer struct {
	s        *Server
	l        net.Listener
	idle     time.Duration
	maxConns int
	closing  atomic.Bool

	mu    sync.Mutex
	conns map[*tcpConn]struct{}
	wg    sync.WaitGroup
}

func newTCPServer(s *Server, l net.Listener, idle time.Duration, maxConns int) *tcpServer {
	if idle <= 0 {
		idle = defaultTCPIdle
	}
	if maxConns <= 0 {
		maxConns = maxTCPConns
	}
	return &tcpServer{s: s, l: l, idle: idle, maxConns: maxConns, conns: map[*tcpConn]struct{}{}}
}

// serve accepts until the listener is closed. A temporary accept error (out of file
// descriptors) is retried after a pause that doubles up to a second, as net/http does.
func (t *tcpServer) serve() {
	defer t.wg.Done()
	var pause time.Duration
	for {
		c, err := t.l.Accept()
		if err != nil {
			if t.closing.Load() || errors.Is(err, net.ErrClosed) {
				return
			}
			pause = min(max(2*pause, 5*time.Millisecond), time.Second)
			t.s.log.Warn("gslb: tcp accept", "err", err, "retry_in", pause)
			time.Sleep(pause)
			continue
		}
		pause = 0
		t.mu.Lock()
		if t.closing.Load() {
			t.mu.Unlock()
			c.Close()
			return
		}
		if len(t.conns) >= t.maxConns {
			t.mu.Unlock()
			t.s.log.Debug("gslb: tcp connection refused: too many open", "client", c.RemoteAddr(), "max", t.maxConns)
			c.Close()
			continue
		}
		tc := newTCPConn(t, c)
		t.conns[tc] = struct{}{}
		t.wg.Add(1)
		t.mu.Unlock()
		go tc.serve()
	}
}

// start runs the accept loop in the background.
func (t *tcpServer) start() {
	t.wg.Add(1)
	go t.serve()
}

// shutdown closes the listener, then ends every connection's read, so that each answers what
// it has read and stops; it waits for them until ctx ends, then closes what is left.
func (t *tcpServer) shutdown(ctx context.Context) error {
	t.mu.Lock()
	t.closing.Store(true)
	err := t.l.Close()
	for c := range t.conns {
		// The connection sets its deadline before it checks closing (serve), so either it
		// sees closing or this deadline overrides its own.
		c.c.SetReadDeadline(time.Now())
	}
	t.mu.Unlock()
	done := make(chan struct{})
	go func() {
		t.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		t.mu.Lock()
		for c := range t.conns {
			c.c.Close()
		}
		t.mu.Unlock()
		<-done
		err = errors.Join(err, ctx.Err())
	}
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}

// tcpConn is one connection's state, used by its goroutine alone.
type tcpConn struct {
	t      *tcpServer
	c      net.Conn
	remote netip.AddrPort
	in     []byte // read buffer: in[:n] holds bytes not yet answered
	n      int
	out    []byte // answers to the queries of one read, each with its length
	reply  []byte // the fast path's answer, before it joins out
	fast   *fastScratch
	w      tcpWriter
}

func newTCPConn(t *tcpServer, c net.Conn) *tcpConn {
	tc := &tcpConn{t: t, c: c, in: make([]byte, tcpReadSize), reply: make([]byte, 0, maxQuerySize),
		fast: newFastScratch(t.s.zone)}
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		tc.remote = a.AddrPort()
	}
	tc.w = tcpWriter{conn: tc}
	return tc
}

func (tc *tcpConn) serve() {
	defer func() {
		tc.c.Close()
		tc.t.mu.Lock()
		delete(tc.t.conns, tc)
		tc.t.mu.Unlock()
		tc.t.wg.Done()
	}()
	renew := true
	for {
		if renew {
			tc.c.SetReadDeadline(time.Now().Add(tc.t.idle))
		}
		if tc.t.closing.Load() {
			return
		}
		r, err := tc.c.Read(tc.in[tc.n:])
		started := tc.n == 0 && r > 0
		buffered := tc.n + r
		tc.n = buffered
		if !tc.answerBuffered() {
			return
		}
		if err != nil {
			return // idle, closed by the client, or shut down: what was read is answered
		}
		// The deadline runs from the first byte of a message to its last: bytes that only
		// add to an unfinished message do not renew it, or a client trickling one byte per
		// second would hold its place for ever (slowloris; 1,024 of them take every place).
		renew = tc.n == 0 || tc.n < buffered || started
	}
}

// answerBuffered answers every whole message in the read buffer, writes the answers in one
// write, and keeps the start of an incomplete message (growing the buffer if it cannot hold
// it). It reports false when the connection must close: junk, or a failed write.
func (tc *tcpConn) answerBuffered() bool {
	off := 0
	tc.out = tc.out[:0]
	start := time.Now()
	for tc.n-off >= 2 {
		l := int(binary.BigEndian.Uint16(tc.in[off:]))
		if l < headerLen {
			return false // not a DNS message: nothing sensible to answer
		}
		if tc.n-off-2 < l {
			break
		}
		tc.answer(tc.in[off+2:off+2+l], tc.t.s.rotation.Add(1), start)
		off += 2 + l
	}
	if len(tc.out) > 0 {
		tc.c.SetWriteDeadline(time.Now().Add(tc.t.idle))
		if _, err := tc.c.Write(tc.out); err != nil {
			tc.t.s.log.Debug("gslb: tcp write", "client", tc.remote, "err", err)
			return false
		}
	}
	tc.n = copy(tc.in, tc.in[off:tc.n])
	if tc.n >= 2 {
		if need := 2 + int(binary.BigEndian.Uint16(tc.in)); need > len(tc.in) {
			tc.in = append(tc.in, make([]byte, need-len(tc.in))...)
		}
	}
	return true
}

// answer appends the framed answer to one query to tc.out: from the fast path when it can,
// else through ServeDNS.
func (tc *tcpConn) answer(packet []byte, rot uint64, start time.Time) {
	if reply, ok := tc.t.s.answerFast(packet, tc.remote, rot, tc.reply, tc.fast, true); ok {
		tc.reply = reply[:0] // keep the array it was built in, should append have grown it
		tc.out = binary.BigEndian.AppendUint16(tc.out, uint16(len(reply)))
		tc.out = append(tc.out, reply...)
		tc.t.s.metrics.latency.Observe(time.Since(start).Seconds())
		return
	}
	if m, ok := tc.w.unpack(packet); ok {
		tc.t.s.serve(&tc.w, m, rot)
	}
}

// tcpWriter is the dns.ResponseWriter of one connection's general path: its replies join the
// connection's answers.
type tcpWriter struct {
	conn *tcpConn
	buf  []byte
}

func (w *tcpWriter) unpack(packet []byte) (*dns.Msg, bool) { return unpackQuery(packet, w) }

func (w *tcpWriter) LocalAddr() net.Addr  { return w.conn.c.LocalAddr() }
func (w *tcpWriter) RemoteAddr() net.Addr { return w.conn.c.RemoteAddr() }

func (w *tcpWriter) WriteMsg(m *dns.Msg) error {
	packed, err := m.PackBuffer(w.buf[:cap(w.buf)])
	if err != nil {
		return err
	}
	w.buf = packed[:0]
	_, err = w.Write(packed)
	return err
}

// Write frames b and adds it to the connection's answers; it is sent once the queries of the
// current read are answered.
func (w *tcpWriter) Write(b []byte) (int, error) {
	if len(b) > dns.MaxMsgSize {
		return 0, errors.New("gslb: tcp answer longer than 65535 bytes")
	}
	w.conn.out = binary.BigEndian.AppendUint16(w.conn.out, uint16(len(b)))
	w.conn.out = append(w.conn.out, b...)
	return len(b), nil
}

func (w *tcpWriter) Close() error        { return w.conn.c.Close() }
func (w *tcpWriter) TsigStatus() error   { return nil }
func (w *tcpWriter) TsigTimersOnly(bool) {}
func (w *tcpWriter) Hijack()             {}
