package h2

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// conn is one HTTP/2 connection. Its goroutine (serve) reads and dispatches every frame and
// runs handlers synchronously; detached handlers and the stall timer write from their own
// goroutines. mu guards the stream table, the flow-control windows and every write through
// fr and bw, so frames from different goroutines never interleave on the wire.
type conn struct {
	srv *Server
	cfg *Config
	m   *metrics
	log *slog.Logger
	nc  net.Conn
	tls bool // nc is a *tls.Conn
	br  *bufio.Reader
	bw  *bufio.Writer
	fr  *http2.Framer

	// serverName is the SNI the TLS client sent ("" on h2c or without SNI).
	serverName string

	// Read side: touched only by the connection's goroutine.
	hdec *hpack.Decoder
	hdr  headerBlock
	// hdrOpenSince is when the header block in progress began (a HEADERS frame without
	// END_HEADERS), zero between blocks; serve's goroutine only.
	hdrOpenSince time.Time
	sawSettings  bool
	resets       meter
	controls     meter
	// readDeadlineSet is when the read deadline was last moved.
	readDeadlineSet time.Time

	mu             sync.Mutex
	streams        map[uint32]*stream // streams not yet closed (RFC 9113 §5.1)
	active         int                // streams counting against MaxConcurrentStreams
	lastStreamID   uint32             // highest client stream id seen
	blocked        []*stream          // streams with queued data waiting for a window
	spare          *stream            // a finished stream newStream reuses (recycle)
	henc           *hpack.Encoder
	hmemo          hpackMemo
	hbuf           bytes.Buffer
	sendWindow     int64 // connection window the peer granted us
	peerInitWindow int64 // the peer's SETTINGS_INITIAL_WINDOW_SIZE
	peerMaxFrame   int64 // the peer's SETTINGS_MAX_FRAME_SIZE
	recvWindow     int64 // what the peer may still send on the connection
	recvUnacked    int64 // consumed bytes not yet returned with WINDOW_UPDATE
	goingAway      bool  // GOAWAY sent: no new streams
	goAwayID       uint32
	started        bool // our SETTINGS went out: frames may follow
	draining       bool // write side closed; reading until EOF or a short deadline
	closed         bool
	werr           error
	lastActive     time.Time
	stallArmed     bool
	stallTimer     *time.Timer
	// resetByUs are the streams we reset last, whose in-flight frames are ignored (RFC 9113
	// §5.1) rather than answered STREAM_CLOSED and counted against MaxResets. A client that
	// keeps SETTINGS_MAX_CONCURRENT_STREAMS has at most that many streams it still thinks
	// open, so that many entries (minResetByUs at least, at most maxResetByUs) cover every
	// frame it can have sent before it saw our reset; made at the first reset.
	resetByUs     []uint32
	resetByUsNext int
	dataHdr       [9]byte
	// wuCredit is how many WINDOW_UPDATEs the client may send before they count as
	// control frames (windowupdates.go).
	wuCredit int
}

// goAwayDrain bounds how long a connection that sent GOAWAY keeps reading so the peer gets
// the GOAWAY before a TCP reset could discard it.
const goAwayDrain = time.Second

func newConn(s *Server, nc net.Conn) *conn {
	c := &conn{
		srv: s, cfg: &s.cfg, m: s.m, log: s.cfg.Logger, nc: nc,
		streams:        make(map[uint32]*stream),
		sendWindow:     65535,
		peerInitWindow: 65535,
		peerMaxFrame:   16384,
		recvWindow:     65535,
		lastActive:     time.Now(),
	}
	if tc, ok := nc.(*tls.Conn); ok {
		c.tls, c.serverName = true, tc.ConnectionState().ServerName
	}
	// A frame of the default SETTINGS_MAX_FRAME_SIZE fits whole, header included.
	c.br = bufio.NewReaderSize(nc, 16<<10+frameHeaderLen)
	c.bw = bufio.NewWriterSize(deadlineWriter{c}, 16<<10)
	c.fr = http2.NewFramer(c.bw, c.br)
	c.fr.SetMaxReadFrameSize(c.cfg.MaxFrameSize)
	c.fr.SetReuseFrames()
	c.henc = hpack.NewEncoder(&c.hbuf)
	c.hmemo.epoch = 1
	c.hdec = hpack.NewDecoder(4096, c.onField)
	// A field over MaxHeaderListSize still decodes (to answer 431); the encoded block bound
	// stops anything larger first.
	c.hdec.SetMaxStringLength(2 * int(c.cfg.MaxHeaderListSize))
	c.hdr.fields = make([]Field, 0, 16)
	return c
}

// deadlineWriter bounds every socket write by WriteTimeout, including the ones bufio makes
// on its own when its buffer fills.
type deadlineWriter struct{ c *conn }

func (w deadlineWriter) Write(p []byte) (int, error) {
	w.c.nc.SetWriteDeadline(time.Now().Add(w.c.cfg.WriteTimeout))
	return w.c.nc.Write(p)
}

// serve runs the connection: preface, SETTINGS, then one frame at a time until the peer
// leaves, an error ends the connection, or a graceful shutdown finishes.
func (c *conn) serve() {
	defer c.teardown()
	c.nc.SetReadDeadline(time.Now().Add(c.cfg.IdleTimeout))
	var preface [len(http2.ClientPreface)]byte
	if _, err := io.ReadFull(c.br, preface[:]); err != nil || string(preface[:]) != http2.ClientPreface {
		c.log.Debug("h2: bad connection preface", "remote", c.nc.RemoteAddr(), "err", err)
		c.mu.Lock()
		c.goAway(http2.ErrCodeProtocol)
		c.mu.Unlock()
		return
	}
	c.mu.Lock()
	if c.goingAway {
		c.mu.Unlock()
		return // Shutdown came first
	}
	c.started = true
	c.fr.WriteSettings(
		http2.Setting{ID: http2.SettingMaxConcurrentStreams, Val: c.cfg.MaxConcurrentStreams},
		http2.Setting{ID: http2.SettingInitialWindowSize, Val: c.cfg.InitialWindowSize},
		http2.Setting{ID: http2.SettingMaxFrameSize, Val: c.cfg.MaxFrameSize},
		http2.Setting{ID: http2.SettingMaxHeaderListSize, Val: c.cfg.MaxHeaderListSize},
	)
	if more := int64(c.cfg.ConnWindowSize) - c.recvWindow; more > 0 {
		c.fr.WriteWindowUpdate(0, uint32(more))
		c.recvWindow += more
	}
	c.flush()
	c.mu.Unlock()

	for {
		// headerOverdue only with a block open: time.Now per frame costs a hit a few per cent.
		if !c.hdrOpenSince.IsZero() && c.headerOverdue(time.Now()) {
			c.connError(c.calm(limitHeaderTime))
			return
		}
		// A frame wholly in the buffer waits for nothing: no flush and no clock read for it
		// (one per request showed in the hit profile). Any other read waits for the network,
		// so what we owe the peer goes out first, and the wait is waitFrame's, never the
		// framer's: a read deadline that expired inside ReadFrame would lose the bytes read
		// so far and end the connection without GOAWAY, busy or not.
		if !c.frameBuffered() {
			c.mu.Lock()
			c.flush()
			c.mu.Unlock()
			if !c.waitFrame() {
				return
			}
		}
		f, err := c.fr.ReadFrame()
		if err != nil {
			if !c.frameError(err) {
				return
			}
			continue
		}
		if err := c.processFrame(f); err != nil {
			c.connError(err)
			return
		}
	}
}

// frameBuffered reports whether the next frame, header and payload, is wholly in the read
// buffer, so that reading it waits for nothing and no read deadline can end it.
func (c *conn) frameBuffered() bool {
	return c.br.Buffered() >= c.frameLen()
}

// frameLen is the length of the next frame as far as the read buffer tells: its header's
// length until the header is in, then header and payload; only the header for a payload
// over MaxFrameSize, which the framer refuses on its header (FRAME_SIZE_ERROR) without
// waiting for bytes it will never read.
func (c *conn) frameLen() int {
	if c.br.Buffered() < frameHeaderLen {
		return frameHeaderLen
	}
	h, _ := c.br.Peek(3) // the payload's length, 24 bits (RFC 9113 §4.1)
	n := int(h[0])<<16 | int(h[1])<<8 | int(h[2])
	if n > int(c.cfg.MaxFrameSize) {
		return frameHeaderLen
	}
	return frameHeaderLen + n
}

const frameHeaderLen = 9

// waitFrame blocks until the next frame is wholly in the read buffer, or the buffer is full
// of a frame larger than it (ReadFrame then reads the rest under the deadline set here);
// false ends the connection. Bytes read before a read timeout stay buffered, so a timeout
// inside a frame is judged like one between frames (TestServer_stallInsideAFrame): it
// means nothing arrived for IdleTimeout, and the connection goes away, with GOAWAY
// NO_ERROR, only if it also wrote nothing for that long and has no stream in progress.
func (c *conn) waitFrame() bool {
	for {
		c.mu.Lock()
		if c.draining || c.closed {
			c.mu.Unlock()
			return c.readDiscard()
		}
		c.mu.Unlock()
		c.readDeadlineSet = time.Now()
		deadline := c.readDeadlineSet.Add(c.cfg.IdleTimeout)
		if !c.hdrOpenSince.IsZero() {
			deadline = minTime(deadline, c.hdrOpenSince.Add(c.cfg.HeaderTimeout))
		}
		c.nc.SetReadDeadline(deadline)
		_, err := c.br.Peek(min(c.frameLen(), c.br.Size()))
		if err == nil {
			if c.frameBuffered() || c.br.Buffered() == c.br.Size() {
				return true
			}
			continue // the header came in: now its payload
		}
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			return false
		}
		if c.headerOverdue(time.Now()) {
			c.connError(c.calm(limitHeaderTime))
			return false
		}
		c.mu.Lock()
		busy := c.active > 0 || time.Since(c.lastActive) < c.cfg.IdleTimeout
		if !busy && !c.draining {
			c.m.limits.WithLabelValues(limitIdle).Inc()
			c.goAway(http2.ErrCodeNo)
		}
		c.mu.Unlock()
		if !busy {
			return false
		}
	}
}

// headerOverdue reports a header block still open HeaderTimeout after its HEADERS frame.
func (c *conn) headerOverdue(now time.Time) bool {
	return !c.hdrOpenSince.IsZero() && now.Sub(c.hdrOpenSince) >= c.cfg.HeaderTimeout
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// readDiscard reads until EOF or the drain deadline after our side closed, so the peer
// reads our last frames before the socket closes. It always ends the connection.
func (c *conn) readDiscard() bool {
	c.nc.SetReadDeadline(time.Now().Add(goAwayDrain))
	io.Copy(io.Discard, c.br)
	return false
}

// frameError handles an error from ReadFrame; false ends the connection.
func (c *conn) frameError(err error) bool {
	var se http2.StreamError
	if errors.As(err, &se) {
		c.mu.Lock()
		c.resetID(se.StreamID, se.Code)
		c.mu.Unlock()
		if err := c.provoked(); err != nil {
			c.connError(err)
			return false
		}
		return true
	}
	if errors.Is(err, http2.ErrFrameTooLarge) {
		c.connError(http2.ConnectionError(http2.ErrCodeFrameSize))
		return false
	}
	var ce http2.ConnectionError
	if errors.As(err, &ce) {
		c.connError(ce)
		return false
	}
	c.mu.Lock()
	if !c.draining && !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
		c.log.Debug("h2: read", "remote", c.nc.RemoteAddr(), "err", err)
	}
	c.mu.Unlock()
	return false
}

// connError answers a connection error (RFC 9113 §5.4.1) with GOAWAY and closes.
func (c *conn) connError(err error) {
	code := http2.ErrCodeInternal
	var ce http2.ConnectionError
	if errors.As(err, &ce) {
		code = http2.ErrCode(ce)
	}
	c.log.Debug("h2: connection error", "remote", c.nc.RemoteAddr(), "code", code, "detail", c.fr.ErrorDetail())
	c.mu.Lock()
	c.goAway(code)
	c.mu.Unlock()
	c.readDiscard()
}

// calm ends an abusive connection with GOAWAY ENHANCE_YOUR_CALM (RFC 9113 §7).
func (c *conn) calm(limit string) error {
	c.m.limits.WithLabelValues(limit).Inc()
	c.log.Warn("h2: limit hit, closing connection", "remote", c.nc.RemoteAddr(), "limit", limit)
	return http2.ConnectionError(http2.ErrCodeEnhanceYourCalm)
}

// goAway sends GOAWAY with code and the last stream accepted, then closes the write side;
// the read side drains. Called with mu held.
func (c *conn) goAway(code http2.ErrCode) {
	if c.closed || c.draining {
		return
	}
	if !c.goingAway {
		c.goingAway = true
		c.goAwayID = c.lastStreamID
	}
	c.m.goawaySent.WithLabelValues(code.String()).Inc()
	c.fr.WriteGoAway(c.goAwayID, code, nil)
	c.flush()
	c.closeWrite()
}

// startShutdown is Shutdown's GOAWAY NO_ERROR: accepted streams finish, the connection
// closes when the last one is done.
func (c *conn) startShutdown() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.goingAway {
		return
	}
	c.goingAway = true
	if !c.started {
		// No preface yet, so no stream to finish, and GOAWAY may not precede SETTINGS.
		c.nc.Close()
		return
	}
	c.goAwayID = c.lastStreamID
	c.m.goawaySent.WithLabelValues(http2.ErrCodeNo.String()).Inc()
	c.fr.WriteGoAway(c.goAwayID, http2.ErrCodeNo, nil)
	c.flush()
	if c.active == 0 {
		c.closeWrite()
	}
}

// closeWrite ends our side after the last frame: a half-close when the transport has one,
// so the connection's goroutine can drain what the peer still sends. Called with mu held.
func (c *conn) closeWrite() {
	if c.draining {
		return
	}
	c.draining = true
	if cw, ok := c.nc.(interface{ CloseWrite() error }); ok && cw.CloseWrite() == nil {
		c.nc.SetReadDeadline(time.Now().Add(goAwayDrain))
		return
	}
	c.nc.Close()
}

// teardown closes the socket and every stream still open; detached handlers see
// ErrStreamClosed and Done closes.
func (c *conn) teardown() {
	c.mu.Lock()
	c.closed = true
	for _, s := range c.streams {
		c.closeStream(s, ErrStreamClosed)
	}
	c.blocked = nil
	if c.stallTimer != nil {
		c.stallTimer.Stop()
	}
	c.mu.Unlock()
	c.nc.Close()
}

// flush writes buffered frames to the socket. Called with mu held.
func (c *conn) flush() {
	if c.werr != nil || c.bw.Buffered() == 0 {
		return
	}
	if c.draining {
		// Our FIN went out after the last frame: a write now fails (broken pipe), and closing
		// the socket for it, with the peer's bytes unread, would send a reset that discards
		// what the kernel had not sent yet (our GOAWAY among them) and end the drain.
		c.bw.Reset(deadlineWriter{c})
		return
	}
	if err := c.bw.Flush(); err != nil {
		c.werr = err
		c.nc.Close()
		return
	}
	c.lastActive = time.Now()
}
