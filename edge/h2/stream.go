package h2

import (
	"time"

	"golang.org/x/net/http2"
)

type streamState uint8

// Stream states of RFC 9113 §5.1 that a stream in the table can be in; idle streams have no
// value and closed ones leave the table.
const (
	stateOpen             streamState = iota
	stateHalfClosedRemote             // the client sent END_STREAM
	stateHalfClosedLocal              // we sent END_STREAM
	stateClosed
)

// stream is one request/response exchange and its ResponseWriter. All fields are guarded by
// the connection's mu, except req and fieldBuf, written before the handler runs.
type stream struct {
	c     *conn
	id    uint32
	state streamState
	req   Request
	body  Body

	// Sending.
	sendWindow int64
	pend       []byte  // queued content not yet sent
	pendEnd    bool    // END_STREAM follows pend
	trailers   []Field // sent with END_STREAM after pend
	headerSent bool
	endSent    bool
	head       bool  // HEAD request: content is dropped (RFC 9110 §9.3.2)
	inBlocked  bool  // in conn.blocked
	blockedAt  int64 // monotonic ns when the window shut with data queued; 0 when sending
	err        error // why writes fail now

	// Receiving.
	recvWindow  int64
	recvUnacked int64
	declared    int64 // content-length, -1 when absent
	received    int64
	// progress is when its content last moved: its HEADERS, its last DATA with content, or the
	// last WINDOW_UPDATE the server sent for it (a client out of window cannot send), for
	// Config.BodyTimeout; zero without content.
	progress time.Time

	// The handler's hold on the stream.
	sync     bool // ServeH2 is running and has not detached
	detached bool
	released bool // the handler will make no more calls
	counted  bool // counts in conn.active
	waiting  bool
	wake     chan struct{}
	done     chan struct{}

	fieldBuf [16]Field
}

// closedChan is what Done returns for a stream that ended before anyone asked.
var closedChan = func() chan struct{} { ch := make(chan struct{}); close(ch); return ch }()

// newStream opens the stream the current header block describes. Called with mu held.
func (c *conn) newStream(h *headerBlock) *stream {
	s := c.spare
	if s == nil {
		s = new(stream)
	}
	c.spare = nil
	c.earnWindowUpdates(windowUpdatesPerData) // a client may enlarge the new stream's window
	*s = stream{
		c:          c,
		id:         h.id,
		sendWindow: c.peerInitWindow,
		recvWindow: int64(c.cfg.InitialWindowSize),
		declared:   h.contentLength,
		sync:       true,
		counted:    true,
		head:       h.method == "HEAD",
	}
	s.body.s = s
	r := &s.req
	r.Method, r.Scheme, r.Path = h.method, h.scheme, h.path
	r.Authority = h.authority
	if !h.hasAuth {
		r.Authority = h.host
	}
	r.Fields = append(s.fieldBuf[:0], h.fields...)
	if h.cookies > 1 {
		r.Fields = joinCookies(r.Fields)
	}
	r.ContentLength = h.contentLength
	r.Body = &s.body
	r.StreamID = h.id
	r.RemoteAddr = c.nc.RemoteAddr()
	r.TLS = c.tls
	r.ServerName = c.serverName
	if h.endStream {
		s.state = stateHalfClosedRemote
		s.body.eof = true
	} else if c.cfg.BodyTimeout > 0 {
		s.progress = time.Now() // only a request with content is timed: a GET reads no clock
	}
	c.streams[h.id] = s
	c.active++
	return s
}

// joinCookies folds cookie crumbs into one field at the first one's place (RFC 9113 §8.2.3).
func joinCookies(fields []Field) []Field {
	first := -1
	out := fields[:0]
	for _, f := range fields {
		if f.Name != "cookie" {
			out = append(out, f)
			continue
		}
		if first < 0 {
			first = len(out)
			out = append(out, f)
			continue
		}
		out[first].Value += "; " + f.Value
	}
	return out
}

func (s *stream) remoteEnded() bool {
	return s.state == stateHalfClosedRemote || s.state == stateClosed
}

// wantsBody: content is kept for a handler that may still read it.
func (s *stream) wantsBody() bool { return !s.released && s.body.err == nil }

// endRemote records the client's END_STREAM. Called with mu held.
func (c *conn) endRemote(s *stream) {
	s.body.eof = true
	s.body.signal()
	switch s.state {
	case stateOpen:
		s.state = stateHalfClosedRemote
	case stateHalfClosedLocal:
		c.closeStream(s, nil)
	}
}

// endLocal records our END_STREAM. Called with mu held.
func (c *conn) endLocal(s *stream) {
	s.endSent = true
	switch s.state {
	case stateOpen:
		s.state = stateHalfClosedLocal
		if s.released {
			// The response is complete and nobody will read the rest of the request:
			// ask the client to stop sending it (RFC 9113 §8.1).
			c.resetStream(s, http2.ErrCodeNo)
		}
	case stateHalfClosedRemote:
		c.closeStream(s, nil)
	}
}

// resetStream sends RST_STREAM and closes s. Called with mu held.
func (c *conn) resetStream(s *stream, code http2.ErrCode) {
	if s.state == stateClosed {
		return
	}
	c.writeRST(s.id, code)
	c.closeStream(s, ErrStreamClosed)
}

// resetID resets a stream by id, whether or not it is in the table. Called with mu held.
func (c *conn) resetID(id uint32, code http2.ErrCode) {
	if s := c.streams[id]; s != nil {
		c.resetStream(s, code)
		return
	}
	c.writeRST(id, code)
}

func (c *conn) writeRST(id uint32, code http2.ErrCode) {
	c.sendRST(id, code)
	if c.resetByUs == nil {
		c.resetByUs = make([]uint32, min(max(int(c.cfg.MaxConcurrentStreams), minResetByUs), maxResetByUs))
	}
	c.resetByUs[c.resetByUsNext] = id
	c.resetByUsNext = (c.resetByUsNext + 1) % len(c.resetByUs)
}

// sendRST writes RST_STREAM without remembering id in resetByUs: the answer to a frame on a
// stream that was already closed, whose later frames are errors too, each answered and
// counted against MaxResets (CVE-2019-9514), not ignored as in flight.
func (c *conn) sendRST(id uint32, code http2.ErrCode) {
	c.m.rstSent.WithLabelValues(code.String()).Inc()
	c.fr.WriteRSTStream(id, code)
}

// The bounds of conn.resetByUs's length.
const minResetByUs, maxResetByUs = 16, 1024

func (c *conn) wasResetByUs(id uint32) bool {
	for _, r := range c.resetByUs {
		if r == id {
			return true
		}
	}
	return false
}

// closeStream moves s to closed: out of the table, queued data freed, waiters woken, Done
// closed. err (nil after a clean end) is what later writes and body reads get. Called with
// mu held.
func (c *conn) closeStream(s *stream, err error) {
	if s.state == stateClosed {
		return
	}
	s.state = stateClosed
	delete(c.streams, s.id)
	s.pend, s.trailers = nil, nil
	if u := s.body.unread(); u > 0 {
		c.refundConn(u)
		s.body.buf, s.body.off = nil, 0
	}
	if err == nil {
		err = ErrStreamClosed
	}
	if s.err == nil {
		s.err = err
	}
	if !s.body.eof && s.body.err == nil {
		s.body.err = ErrStreamClosed
	}
	s.body.signal()
	s.signal()
	if s.done != nil {
		close(s.done)
	}
	c.forget(s)
}

// forget releases s's slot once the protocol is done with it and so is its handler.
// Called with mu held.
func (c *conn) forget(s *stream) {
	if !s.counted || s.state != stateClosed || (s.detached && !s.released) {
		return
	}
	s.counted = false
	c.active--
	if c.goingAway && c.active == 0 {
		c.flush()
		c.closeWrite()
	}
}

// release records that the handler is done with s. Called with mu held.
func (c *conn) release(s *stream) {
	if s.released {
		return
	}
	s.released = true
	if u := s.body.unread(); u > 0 {
		c.refund(s, u) // nobody will read it
	}
	s.body.buf, s.body.off = nil, 0
	if s.state == stateHalfClosedLocal {
		c.resetStream(s, http2.ErrCodeNo) // see endLocal
	}
	c.forget(s)
}

// recycle keeps s for the connection's next stream when nothing can refer to it any more:
// closed, out of the table and the blocked list, and its handler returned without
// detaching (so the Request, its Fields and the ResponseWriter were the handler's only
// while ServeH2 ran), with no Done channel or waiter handed out. A stream is about 1 KiB;
// a hit allocated one per request. Called with mu held, after handlerReturned.
func (c *conn) recycle(s *stream) {
	if s.state != stateClosed || s.detached || !s.released || s.inBlocked || s.done != nil ||
		s.wake != nil || s.body.wake != nil {
		return
	}
	c.spare = s
}

// handlerReturned finishes what a synchronous handler left open. Called with mu held.
func (c *conn) handlerReturned(s *stream) {
	s.sync = false
	if s.detached {
		if !s.released {
			c.flush()
		}
		return
	}
	if !s.released && s.state != stateClosed {
		if !s.headerSent {
			s.headerSent = true
			c.writeHeaders(s.id, 500, nil, true)
			c.endLocal(s)
		} else if !s.pendEnd && !s.endSent {
			s.pendEnd = true
			c.push(s)
		}
	}
	c.release(s)
}

// signal wakes a writer blocked in Write.
func (s *stream) signal() {
	if s.waiting {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

// wait blocks a detached writer until signalled. Called with mu held; returns with it held.
func (s *stream) wait() {
	if s.wake == nil {
		s.wake = make(chan struct{}, 1)
	}
	s.waiting = true
	s.c.mu.Unlock()
	<-s.wake
	s.c.mu.Lock()
	s.waiting = false
}

// late reports whether content arriving now on s comes more than Config.BodyTimeout after its
// last progress, and otherwise notes the arrival as progress: BodyTimeout bounds each wait
// for the client's content, as nginx's client_body_timeout bounds the time between two
// reads, not the whole upload, so an upload that keeps coming is never cut. Called with mu
// held for a stream whose progress is set.
func (s *stream) late() bool {
	now := time.Now()
	if now.Sub(s.progress) > s.c.cfg.BodyTimeout {
		return true
	}
	s.progress = now
	return false
}
