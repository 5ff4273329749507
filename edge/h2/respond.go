package h2

import "golang.org/x/net/http2"

// The ResponseWriter methods of stream. Each takes the connection's mu; before Detach they
// run on the connection's goroutine and leave flushing to its read loop, after Detach they
// flush what they wrote.

// headerAllowed says why a header with status may not go out now (c.mu held): the stream
// can no longer be written, the final header has gone, or status is not one the call may
// send (a final 200-599; an interim 1xx other than 101, RFC 9113 section 8.6).
func (s *stream) headerAllowed(status int, interim bool) error {
	if err := s.writable(); err != nil {
		return err
	}
	if s.headerSent {
		return ErrHeaderSent
	}
	if interim {
		if status < 100 || status > 199 || status == 101 {
			return ErrBadStatus
		}
	} else if status < 200 || status > 599 {
		return ErrBadStatus
	}
	return nil
}

func (s *stream) Respond(status int, fields []Field, body []byte) error {
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := s.writable(); err != nil {
		c.release(s)
		return err
	}
	if err := s.headerAllowed(status, false); err != nil {
		return err
	}
	s.headerSent = true
	if s.head {
		body = nil
	}
	if len(body) == 0 {
		c.writeHeaders(s.id, status, fields, true)
		c.endLocal(s)
	} else {
		c.writeHeaders(s.id, status, fields, false)
		s.pend, s.pendEnd = body[:len(body):len(body)], true
		c.push(s)
	}
	c.release(s)
	c.flushAsync(s)
	return nil
}

func (s *stream) WriteInterim(status int, fields []Field) error {
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := s.headerAllowed(status, true); err != nil {
		return err
	}
	c.writeHeaders(s.id, status, fields, false)
	c.flushAsync(s)
	return nil
}

func (s *stream) WriteHeader(status int, fields []Field) error {
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := s.headerAllowed(status, false); err != nil {
		return err
	}
	s.headerSent = true
	c.writeHeaders(s.id, status, fields, false)
	c.flushAsync(s)
	return nil
}

func (s *stream) Write(p []byte) (int, error) {
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := s.writable(); err != nil {
		return 0, err
	}
	if !s.headerSent {
		return 0, ErrNoHeader
	}
	if s.pendEnd {
		return 0, ErrStreamClosed
	}
	if len(p) == 0 || s.head {
		return len(p), nil
	}
	if s.sync {
		// On the connection's goroutine: never block; keep a copy of what cannot go yet.
		if len(s.pend) > 0 {
			s.pend = append(s.pend, p...)
			return len(p), nil
		}
		s.pend = p
		c.push(s)
		if len(s.pend) > 0 {
			s.pend = append([]byte(nil), s.pend...)
		}
		return len(p), nil
	}
	for len(s.pend) > 0 && s.state != stateClosed {
		s.wait() // data a synchronous Write queued goes first
	}
	if err := s.writable(); err != nil {
		return 0, err
	}
	s.pend = p
	c.push(s)
	c.flush()
	for len(s.pend) > 0 && s.state != stateClosed {
		s.wait()
	}
	if s.state == stateClosed && !s.endSent {
		return 0, s.err
	}
	return len(p), nil
}

func (s *stream) Close(trailers []Field) error {
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := s.writable(); err != nil {
		c.release(s)
		return err
	}
	if !s.headerSent {
		// Nothing was answered: an empty 500, as for a handler that returns silently.
		s.headerSent = true
		c.writeHeaders(s.id, 500, nil, true)
		c.endLocal(s)
	} else if !s.pendEnd {
		s.pendEnd, s.trailers = true, trailers
		if len(trailers) == 0 {
			s.trailers = nil
		}
		c.push(s)
	}
	c.release(s)
	c.flushAsync(s)
	return nil
}

func (s *stream) Abort() {
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if s.state != stateClosed && !s.endSent {
		c.resetStream(s, http2.ErrCodeInternal)
	}
	c.release(s)
	c.flushAsync(s)
}

func (s *stream) Detach() {
	c := s.c
	c.mu.Lock()
	s.detached = true
	s.sync = false
	c.mu.Unlock()
}

func (s *stream) Done() <-chan struct{} {
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if s.done == nil {
		if s.state == stateClosed {
			return closedChan
		}
		s.done = make(chan struct{})
	}
	return s.done
}

// writable reports why nothing more can be sent on s. Called with mu held.
func (s *stream) writable() error {
	// draining: our write side is shut (GOAWAY then FIN), nothing more can be sent.
	if s.state == stateClosed || s.endSent || s.c.closed || s.c.draining {
		if s.err != nil {
			return s.err
		}
		return ErrStreamClosed
	}
	return nil
}

// flushAsync flushes for a detached handler; the connection's goroutine flushes its own
// writes before it next blocks on a read. Called with mu held.
func (c *conn) flushAsync(s *stream) {
	if !s.sync {
		c.flush()
	}
}
