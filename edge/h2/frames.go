package h2

import (
	"time"

	"golang.org/x/net/http2"
)

// maxWindow is the largest flow-control window RFC 9113 §6.9.1 allows.
const maxWindow = 1<<31 - 1

func connErr(code http2.ErrCode) error { return http2.ConnectionError(code) }

// processFrame dispatches one frame read by the connection's goroutine. A returned error is
// a connection error; stream errors are answered inside with RST_STREAM.
func (c *conn) processFrame(f http2.Frame) error {
	if !c.sawSettings {
		// RFC 9113 §3.4: the preface ends with a SETTINGS frame.
		sf, ok := f.(*http2.SettingsFrame)
		if !ok || sf.IsAck() {
			return connErr(http2.ErrCodeProtocol)
		}
		c.sawSettings = true
	}
	switch f := f.(type) {
	case *http2.DataFrame:
		return c.onData(f)
	case *http2.HeadersFrame:
		return c.onHeaders(f)
	case *http2.ContinuationFrame:
		return c.onContinuation(f)
	case *http2.WindowUpdateFrame:
		return c.onWindowUpdate(f)
	case *http2.RSTStreamFrame:
		return c.onRSTStream(f)
	case *http2.SettingsFrame:
		return c.onSettings(f)
	case *http2.PingFrame:
		return c.onPing(f)
	case *http2.PriorityFrame:
		return c.onPriority(f)
	case *http2.GoAwayFrame:
		c.onGoAway()
		return nil
	case *http2.PushPromiseFrame:
		// RFC 9113 §8.4: a client cannot push.
		return connErr(http2.ErrCodeProtocol)
	default:
		// Unknown and extension frames are ignored (RFC 9113 §5.5), but counted: they cost
		// a read like any other.
		return c.control()
	}
}

// control counts a frame that costs work without carrying a request.
func (c *conn) control() error {
	if c.controls.add(time.Now(), c.cfg.LimitWindow, c.cfg.MaxControlFrames) {
		return c.calm(limitControlFlood)
	}
	return nil
}

// idle reports whether id names a stream the client has not opened yet (RFC 9113 §5.1):
// above the last one seen, or even (server-initiated, and this server initiates none).
func (c *conn) idle(id uint32) bool { return id > c.lastStreamID || id%2 == 0 }

func (c *conn) onSettings(f *http2.SettingsFrame) error {
	if f.IsAck() {
		return nil
	}
	if err := c.control(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	// RFC 9113 §6.9.2: a new SETTINGS_INITIAL_WINDOW_SIZE changes every open stream's window
	// by the difference, which may go negative; above 2^31-1 is a connection error. Several
	// values in one frame act in order, which comes to the last one, overflowing if the
	// largest did: so the streams are visited once per frame, not once per value.
	newInit, maxInit := c.peerInitWindow, int64(-1)
	err := f.ForeachSetting(func(s http2.Setting) error {
		if err := s.Valid(); err != nil {
			return err
		}
		switch s.ID {
		case http2.SettingInitialWindowSize:
			newInit, maxInit = int64(s.Val), max(maxInit, int64(s.Val))
		case http2.SettingMaxFrameSize:
			c.peerMaxFrame = int64(s.Val)
		case http2.SettingHeaderTableSize:
			c.henc.SetMaxDynamicTableSizeLimit(s.Val)
			c.hmemo.tableSizeChanged()
		}
		return nil
	})
	if err != nil {
		return err
	}
	if maxInit >= 0 {
		for _, st := range c.streams {
			if st.sendWindow+maxInit-c.peerInitWindow > maxWindow {
				return connErr(http2.ErrCodeFlowControl)
			}
		}
		for _, st := range c.streams {
			st.sendWindow += newInit - c.peerInitWindow
		}
		c.peerInitWindow = newInit
	}
	c.fr.WriteSettingsAck()
	c.pushAll()
	return nil
}

// onGoAway: the client opens no more streams (RFC 9113 §6.8), so the connection closes
// once the streams it has are done.
func (c *conn) onGoAway() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.goingAway {
		return
	}
	c.goingAway = true
	c.goAwayID = c.lastStreamID
	if c.active == 0 {
		c.flush()
		c.closeWrite()
	}
}

func (c *conn) onPing(f *http2.PingFrame) error {
	if f.IsAck() {
		return nil // we send no PINGs; an unsolicited ack is ignored
	}
	if err := c.control(); err != nil {
		return err
	}
	c.mu.Lock()
	c.fr.WritePing(true, f.Data)
	c.mu.Unlock()
	return nil
}

// provoked counts a reset that a client's frame made the server send (a malformed request, a
// frame on a closed stream, a window or content-length broken) against MaxResets, with the
// client's own resets and the streams refused: each costs the client a frame and the server
// a frame, a lookup and perhaps a log record (CVE-2019-9514, reset flood). Past the limit it
// returns the error that ends the connection with GOAWAY ENHANCE_YOUR_CALM. Called on the
// connection's reading goroutine, with or without mu.
func (c *conn) provoked() error {
	if c.resets.add(time.Now(), c.cfg.LimitWindow, c.cfg.MaxResets) {
		return c.calm(limitRapidReset)
	}
	return nil
}

func (c *conn) onPriority(f *http2.PriorityFrame) error {
	if err := c.control(); err != nil {
		return err
	}
	if f.StreamDep == f.StreamID {
		// RFC 9113 §5.3.1: a stream cannot depend on itself.
		c.mu.Lock()
		c.resetID(f.StreamID, http2.ErrCodeProtocol)
		c.mu.Unlock()
		return c.provoked()
	}
	return nil // priorities are otherwise ignored (RFC 9113 §5.3.2)
}

func (c *conn) onRSTStream(f *http2.RSTStreamFrame) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.idle(f.StreamID) {
		return connErr(http2.ErrCodeProtocol)
	}
	s := c.streams[f.StreamID]
	if s == nil {
		return nil // already closed on our side
	}
	c.m.rstRecv.Inc()
	c.closeStream(s, ErrStreamClosed)
	if c.resets.add(time.Now(), c.cfg.LimitWindow, c.cfg.MaxResets) {
		return c.calm(limitRapidReset)
	}
	return nil
}

func (c *conn) onWindowUpdate(f *http2.WindowUpdateFrame) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.windowUpdate(); err != nil {
		return err
	}
	inc := int64(f.Increment)
	if f.StreamID == 0 {
		c.sendWindow += inc
		if c.sendWindow > maxWindow {
			return connErr(http2.ErrCodeFlowControl)
		}
		c.pushAll()
		return nil
	}
	if c.idle(f.StreamID) {
		return connErr(http2.ErrCodeProtocol)
	}
	s := c.streams[f.StreamID]
	if s == nil {
		return nil
	}
	s.sendWindow += inc
	if s.sendWindow > maxWindow {
		c.resetStream(s, http2.ErrCodeFlowControl)
		return c.provoked()
	}
	c.push(s)
	return nil
}

func (c *conn) onData(f *http2.DataFrame) error {
	id := f.StreamID
	n := int64(f.Length) // padding counts against the windows too (RFC 9113 §6.1)
	data := f.Data()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.idle(id) {
		return connErr(http2.ErrCodeProtocol)
	}
	if n > c.recvWindow {
		return connErr(http2.ErrCodeFlowControl)
	}
	c.recvWindow -= n
	s := c.streams[id]
	if s == nil || s.remoteEnded() {
		c.refundConn(n)
		if s == nil && c.wasResetByUs(id) {
			if len(data) == 0 && !f.StreamEnded() {
				return c.control() // an empty frame counts as on an open stream (CVE-2019-9518)
			}
			return nil // in flight when we reset it (RFC 9113 §5.1, "closed")
		}
		if s != nil {
			c.resetStream(s, http2.ErrCodeStreamClosed)
		} else {
			c.sendRST(id, http2.ErrCodeStreamClosed) // closed already: nothing is in flight
		}
		return c.provoked()
	}
	if n > s.recvWindow {
		c.refundConn(n)
		c.resetStream(s, http2.ErrCodeFlowControl)
		return c.provoked()
	}
	s.recvWindow -= n
	if len(data) == 0 && !f.StreamEnded() {
		if err := c.control(); err != nil {
			return err
		}
	}
	s.received += int64(len(data))
	if s.declared >= 0 && s.received > s.declared {
		// RFC 9113 §8.1.1: content-length must equal the DATA payload.
		c.refundConn(n)
		c.resetStream(s, http2.ErrCodeProtocol)
		return c.provoked()
	}
	if c.cfg.MaxBodyBytes >= 0 && s.received > c.cfg.MaxBodyBytes {
		c.refundConn(n)
		c.bodyTooLarge(s)
		return nil
	}
	if !s.progress.IsZero() && len(data) > 0 && s.late() {
		// Late content is refused here, not only when the handler next reads: a handler
		// still waiting (for an origin connection, say) reads nothing, and a client that
		// stalled past BodyTimeout would otherwise be let off because no read saw it.
		c.refundConn(n)
		s.body.fail(ErrBodyTimeout)
		c.resetStream(s, http2.ErrCodeCancel)
		return nil
	}
	if pad := n - int64(len(data)); pad > 0 {
		c.refund(s, pad)
	}
	if s.wantsBody() {
		s.body.append(data)
	} else {
		c.refund(s, int64(len(data)))
	}
	if f.StreamEnded() {
		if s.declared >= 0 && s.received != s.declared {
			c.resetStream(s, http2.ErrCodeProtocol)
			return c.provoked()
		}
		c.endRemote(s)
	}
	return nil
}

// refundConn returns n bytes of connection window to the peer, batching WINDOW_UPDATEs.
func (c *conn) refundConn(n int64) {
	c.recvUnacked += n
	if c.recvUnacked >= int64(c.cfg.ConnWindowSize)/4 {
		c.fr.WriteWindowUpdate(0, uint32(c.recvUnacked))
		c.recvWindow += c.recvUnacked
		c.recvUnacked = 0
	}
}

// refund returns n consumed bytes of s's window and the connection's.
func (c *conn) refund(s *stream, n int64) {
	c.refundConn(n)
	if s.remoteEnded() {
		return
	}
	s.recvUnacked += n
	if s.recvUnacked >= int64(c.cfg.InitialWindowSize)/4 {
		c.fr.WriteWindowUpdate(s.id, uint32(s.recvUnacked))
		s.recvWindow += s.recvUnacked
		s.recvUnacked = 0
		if !s.progress.IsZero() {
			s.progress = time.Now() // the client may send again: its BodyTimeout starts anew
		}
	}
}

// bodyTooLarge answers 413 when the response has not started, else resets the stream.
func (c *conn) bodyTooLarge(s *stream) {
	c.m.limits.WithLabelValues(limitBody).Inc()
	s.body.fail(ErrBodyTooLarge)
	if s.headerSent {
		c.resetStream(s, http2.ErrCodeCancel)
		return
	}
	s.headerSent = true
	c.writeHeaders(s.id, 413, nil, true)
	c.resetStream(s, http2.ErrCodeNo)
}
