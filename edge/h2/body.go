package h2

import (
	"io"
	"time"

	"golang.org/x/net/http2"
)

// Body is a request's content as it arrives in DATA frames. Bytes are kept only up to the
// stream window this server advertised; reading returns window to the client
// (WINDOW_UPDATE), so a slow reader slows the upload instead of growing a buffer.
//
// Read may be called by one goroutine at a time. It blocks until content arrives, so a
// handler that has not detached gets ErrBodyNotReady instead of blocking the connection.
type Body struct {
	s       *stream
	buf     []byte // unread content, buf[off:]
	off     int
	eof     bool
	err     error
	waiting bool
	wake    chan struct{}
}

// Read reads content; io.EOF after the client's END_STREAM. It fails with ErrStreamClosed
// when the stream was reset, ErrBodyTooLarge past Config.MaxBodyBytes, and ErrBodyTimeout
// when no content came for Config.IdleTimeout, or for Config.BodyTimeout while the client
// could send (the stream is then reset with CANCEL).
func (b *Body) Read(p []byte) (int, error) {
	if b.s == nil {
		return 0, io.EOF
	}
	c := b.s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	for b.off == len(b.buf) {
		switch {
		case b.err != nil:
			return 0, b.err
		case b.eof:
			return 0, io.EOF
		case b.s.sync:
			return 0, ErrBodyNotReady
		}
		wait := c.cfg.IdleTimeout
		if !b.s.progress.IsZero() {
			wait = min(wait, c.cfg.BodyTimeout-time.Since(b.s.progress))
		}
		if (wait <= 0 || !b.wait(wait)) && b.off == len(b.buf) && !b.eof && b.err == nil {
			// A client that opens an upload and sends nothing, or trickles it, would
			// otherwise hold a stream slot and its handler forever.
			b.err = ErrBodyTimeout
			c.resetStream(b.s, http2.ErrCodeCancel)
			c.flush()
		}
	}
	n := copy(p, b.buf[b.off:])
	b.off += n
	if b.off == len(b.buf) {
		b.buf, b.off = b.buf[:0], 0
	}
	c.refund(b.s, int64(n))
	c.flush()
	return n, nil
}

// Ended reports whether all content has arrived (the client sent END_STREAM), so a handler
// can answer on the connection's goroutine without reading.
func (b *Body) Ended() bool {
	if b.s == nil {
		return true
	}
	b.s.c.mu.Lock()
	defer b.s.c.mu.Unlock()
	return b.eof
}

// Drained reports whether the request has no content left: the client sent END_STREAM and
// every byte before it has been read. Ended alone does not say that: content that arrived
// with its END_STREAM before the handler ran is buffered and still to be read.
func (b *Body) Drained() bool {
	if b.s == nil {
		return true
	}
	b.s.c.mu.Lock()
	defer b.s.c.mu.Unlock()
	return b.eof && b.unread() == 0
}

// append keeps a copy of a DATA payload (the Framer reuses its buffer). Called with mu held.
func (b *Body) append(p []byte) {
	if len(p) == 0 {
		return
	}
	b.buf = append(b.buf, p...)
	b.signal()
}

// fail ends reading with err. Called with mu held.
func (b *Body) fail(err error) {
	if b.err == nil {
		b.err = err
	}
	b.signal()
}

func (b *Body) signal() {
	if b.waiting {
		select {
		case b.wake <- struct{}{}:
		default:
		}
	}
}

// wait blocks until signalled or timeout passed; false on timeout. Called with mu held;
// returns with it held.
func (b *Body) wait(timeout time.Duration) bool {
	if b.wake == nil {
		b.wake = make(chan struct{}, 1)
	}
	b.waiting = true
	b.s.c.mu.Unlock()
	t := time.NewTimer(timeout)
	woken := true
	select {
	case <-b.wake:
	case <-t.C:
		woken = false
	}
	t.Stop()
	b.s.c.mu.Lock()
	b.waiting = false
	return woken
}

// unread is how much content is buffered and not read. Called with mu held.
func (b *Body) unread() int64 { return int64(len(b.buf) - b.off) }
