package h2

import (
	"encoding/binary"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/http2"
)

// statusText holds :status values for 100-599, so no response formats a number.
var statusText = func() (t [600]string) {
	for i := 100; i < len(t); i++ {
		t[i] = strconv.Itoa(i)
	}
	return t
}()

// writeHeaders encodes a response header block (with :status unless status is 0, for
// trailers) and writes it as HEADERS plus CONTINUATION frames within the peer's
// SETTINGS_MAX_FRAME_SIZE. Called with mu held.
func (c *conn) writeHeaders(id uint32, status int, fields []Field, endStream bool) {
	c.hbuf.Reset()
	if status != 0 {
		c.hmemo.writeField(c.henc, &c.hbuf, ":status", statusText[status])
	}
	for _, f := range fields {
		name := f.Name
		if hasUpper(name) {
			name = strings.ToLower(name)
		}
		switch name {
		case "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade":
			continue // connection-specific: never sent in HTTP/2 (RFC 9113 §8.2.2)
		}
		if name == "" || name[0] == ':' {
			continue // pseudo-fields are ours to write (RFC 9113 §8.3)
		}
		c.hmemo.writeField(c.henc, &c.hbuf, name, f.Value)
	}
	block := c.hbuf.Bytes()
	first := block
	if int64(len(first)) > c.peerMaxFrame {
		first = first[:c.peerMaxFrame]
	}
	c.fr.WriteHeaders(http2.HeadersFrameParam{
		StreamID: id, BlockFragment: first, EndStream: endStream, EndHeaders: len(first) == len(block),
	})
	for rest := block[len(first):]; len(rest) > 0; {
		chunk := rest
		if int64(len(chunk)) > c.peerMaxFrame {
			chunk = chunk[:c.peerMaxFrame]
		}
		rest = rest[len(chunk):]
		c.fr.WriteContinuation(id, len(rest) == 0, chunk)
	}
}

func hasUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 'A' && s[i] <= 'Z' {
			return true
		}
	}
	return false
}

// writeData writes one DATA frame straight into the buffered writer: the Framer would copy
// the payload once more into its own buffer. Called with mu held.
func (c *conn) writeData(id uint32, end bool, p []byte) {
	h := c.dataHdr[:]
	h[0], h[1], h[2] = byte(len(p)>>16), byte(len(p)>>8), byte(len(p))
	h[3] = byte(http2.FrameData)
	h[4] = 0
	if end {
		h[4] = byte(http2.FlagDataEndStream)
	}
	binary.BigEndian.PutUint32(h[5:], id)
	c.bw.Write(h)
	c.bw.Write(p)
	if len(p) > 0 {
		c.earnWindowUpdates(windowUpdatesPerData)
	}
}

// sendFrame sends at most one frame of s's queue within the windows; false when nothing
// could be sent. Called with mu held.
func (c *conn) sendFrame(s *stream) bool {
	if s.state == stateClosed || s.endSent {
		return false
	}
	if len(s.pend) == 0 {
		if !s.pendEnd {
			return false
		}
		if s.trailers != nil {
			c.writeHeaders(s.id, 0, s.trailers, true)
			s.trailers = nil
		} else {
			c.writeData(s.id, true, nil)
		}
		c.endLocal(s)
		return true
	}
	n := min(int64(len(s.pend)), s.sendWindow, c.sendWindow, c.peerMaxFrame)
	if n <= 0 {
		return false
	}
	end := n == int64(len(s.pend)) && s.pendEnd && s.trailers == nil
	c.writeData(s.id, end, s.pend[:n])
	s.pend = s.pend[n:]
	s.sendWindow -= n
	c.sendWindow -= n
	s.blockedAt = 0
	if len(s.pend) == 0 {
		s.pend = nil
		s.signal()
	}
	if end {
		c.endLocal(s)
	}
	return true
}

// push sends what s's windows allow; a stream left with queued data joins conn.blocked.
// Called with mu held.
func (c *conn) push(s *stream) {
	for c.sendFrame(s) {
	}
	c.noteBlocked(s)
}

func (c *conn) noteBlocked(s *stream) {
	if s.state == stateClosed || s.endSent || (len(s.pend) == 0 && !s.pendEnd) {
		return
	}
	if s.blockedAt == 0 {
		s.blockedAt = time.Now().UnixNano()
	}
	if !s.inBlocked {
		s.inBlocked = true
		c.blocked = append(c.blocked, s)
	}
	c.armStall()
}

// pushAll sends queued data of all blocked streams, one frame per stream per round so one
// large response does not take the whole connection window. Called with mu held.
func (c *conn) pushAll() {
	for progress := true; progress && len(c.blocked) > 0; {
		progress = false
		for _, s := range c.blocked {
			if c.sendFrame(s) {
				progress = true
			}
		}
		keep := c.blocked[:0]
		for _, s := range c.blocked {
			if s.state != stateClosed && !s.endSent && (len(s.pend) > 0 || s.pendEnd) {
				keep = append(keep, s)
				continue
			}
			s.inBlocked = false
		}
		clear(c.blocked[len(keep):])
		c.blocked = keep
	}
	now := time.Now().UnixNano()
	for _, s := range c.blocked {
		if s.blockedAt == 0 {
			s.blockedAt = now
		}
	}
}

// armStall starts the stall sweep if it is not pending. Called with mu held.
func (c *conn) armStall() {
	if c.stallArmed || c.closed {
		return
	}
	c.stallArmed = true
	d := c.cfg.StallTimeout / 4
	if c.stallTimer == nil {
		c.stallTimer = time.AfterFunc(d, c.sweepStalls)
		return
	}
	c.stallTimer.Reset(d)
}

// sweepStalls resets streams whose queued data waited StallTimeout for a window, and ends
// the connection when it was the connection window that stayed shut. It runs on a timer.
func (c *conn) sweepStalls() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stallArmed = false
	if c.closed || c.draining {
		return
	}
	now := time.Now().UnixNano()
	limit := c.cfg.StallTimeout.Nanoseconds()
	for _, s := range c.blocked {
		if s.blockedAt == 0 || now-s.blockedAt < limit || s.state == stateClosed {
			continue
		}
		c.m.limits.WithLabelValues(limitStall).Inc()
		if c.sendWindow <= 0 {
			c.log.Warn("h2: connection window shut too long, closing", "remote", c.nc.RemoteAddr())
			c.goAway(http2.ErrCodeEnhanceYourCalm)
			return
		}
		s.err = ErrStalled
		c.resetStream(s, http2.ErrCodeCancel)
	}
	c.pushAll() // drops the reset streams from the list
	c.flush()
	if len(c.blocked) > 0 {
		c.armStall()
	}
}
