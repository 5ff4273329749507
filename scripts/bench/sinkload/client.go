package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
)

// readChunk bounds each read made for a head or a chunk-size line: what such a read takes
// beyond the head is body copied to user space, so it stays small next to the bodies this
// client is for (at most 4 KiB of a 256 KiB body). A head longer than one chunk is read on.
const readChunk = 4096

// maxHead bounds a response head (status line and fields).
const maxHead = 64 << 10

// client is one keep-alive HTTP/1.1 connection. Not safe for concurrent use.
type client struct {
	tcp  *net.TCPConn
	buf  []byte // buf[r:w] is read and not yet consumed
	r, w int
	sink discarder
}

// discarder drops up to n bytes of the connection's stream and says how many it dropped;
// 0 with a nil error is the peer's close.
type discarder interface {
	discard(n int64) (int64, error)
}

func newClient(c *net.TCPConn) *client {
	return &client{tcp: c, buf: make([]byte, maxHead), sink: newDiscarder(c)}
}

// response is what one round trip saw.
type response struct {
	status int
	body   int64 // body bytes received (chunked: the chunks' data only)
	close  bool  // the server ends the connection after this response
}

var (
	errClosed     = errors.New("connection closed before the response ended")
	errHeadTooBig = errors.New("response head over 64 KiB")
)

// roundTrip writes one request and reads its response to the end.
func (c *client) roundTrip(req []byte) (response, error) {
	if c.r != c.w {
		return response{}, fmt.Errorf("%d bytes arrived before the request", c.w-c.r)
	}
	c.r, c.w = 0, 0
	if _, err := c.tcp.Write(req); err != nil {
		return response{}, fmt.Errorf("write: %w", err)
	}
	for {
		h, err := c.readHead()
		if err != nil {
			return response{}, err
		}
		// An interim response (100 Continue, 103 Early Hints) precedes the final one.
		if h.status >= 100 && h.status < 200 && h.status != 101 {
			continue
		}
		resp := response{status: h.status, close: h.close}
		switch {
		case h.status == 204 || h.status == 304:
		case h.chunked:
			resp.body, err = c.chunks()
		case h.length >= 0:
			resp.body, err = c.discard(h.length)
		default:
			// No length: the body runs to the server's close (RFC 9112 6.3, item 8).
			resp.close = true
			resp.body, err = c.discard(-1)
		}
		return resp, err
	}
}

// fill reads more of the stream into buf, at most readChunk bytes; io.EOF at the peer's close.
func (c *client) fill() error {
	if c.w == len(c.buf) {
		if c.r == 0 {
			return errHeadTooBig
		}
		c.w = copy(c.buf, c.buf[c.r:c.w])
		c.r = 0
	}
	n, err := c.tcp.Read(c.buf[c.w:min(len(c.buf), c.w+readChunk)])
	c.w += n
	if n > 0 {
		return nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return err
}

// line returns the next CRLF-terminated line without its CRLF.
func (c *client) line() ([]byte, error) {
	for {
		if i := bytes.Index(c.buf[c.r:c.w], []byte("\r\n")); i >= 0 {
			l := c.buf[c.r : c.r+i]
			c.r += i + 2
			return l, nil
		}
		if err := c.fill(); err != nil {
			return nil, closedIfEOF(err)
		}
	}
}

// discard drops n bytes of body (n < 0: up to the peer's close), the buffered ones first,
// and returns how many it dropped.
func (c *client) discard(n int64) (int64, error) {
	var got int64
	if b := int64(c.w - c.r); b > 0 {
		if n >= 0 && b > n {
			b = n
		}
		c.r += int(b)
		got += b
	}
	for n < 0 || got < n {
		want := int64(1 << 30)
		if n >= 0 {
			want = n - got
		}
		k, err := c.sink.discard(want)
		got += k
		if err != nil {
			return got, fmt.Errorf("body: %w", err)
		}
		if k == 0 {
			if n < 0 {
				return got, nil
			}
			return got, fmt.Errorf("body: %d of %d bytes: %w", got, n, errClosed)
		}
	}
	return got, nil
}

// chunks reads a chunked body (RFC 9112 7.1): size lines and their data, the last chunk and
// the trailer section. It returns the data's length.
func (c *client) chunks() (int64, error) {
	var total int64
	for {
		l, err := c.line()
		if err != nil {
			return total, fmt.Errorf("chunk size: %w", err)
		}
		if i := bytes.IndexByte(l, ';'); i >= 0 {
			l = l[:i] // a chunk extension
		}
		size, err := strconv.ParseInt(string(bytes.TrimRight(l, " \t")), 16, 64)
		if err != nil || size < 0 {
			return total, fmt.Errorf("chunk size line %q", l)
		}
		if size == 0 {
			break
		}
		k, err := c.discard(size)
		total += k
		if err != nil {
			return total, err
		}
		if l, err := c.line(); err != nil || len(l) != 0 {
			return total, fmt.Errorf("chunk data not followed by CRLF: %w", orBadFraming(err))
		}
	}
	for { // trailer fields, up to the empty line
		l, err := c.line()
		if err != nil {
			return total, fmt.Errorf("trailer: %w", err)
		}
		if len(l) == 0 {
			return total, nil
		}
	}
}

func closedIfEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return errClosed
	}
	return err
}

var errBadFraming = errors.New("bad framing")

func orBadFraming(err error) error {
	if err == nil {
		return errBadFraming
	}
	return err
}

// errKind names an error for the per-kind counts on stderr.
func errKind(err error) string {
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		return "timeout"
	case errors.Is(err, errClosed):
		return "closed early"
	case errors.Is(err, errHeadTooBig):
		return "head too big"
	}
	var he headError
	if errors.As(err, &he) {
		return "bad head"
	}
	return "other: " + err.Error()
}
