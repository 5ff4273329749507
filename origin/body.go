package origin

import (
	"bufio"
	"fmt"
	"io"
)

// lengthBody reads a body delimited by its Content-Length (RFC 9112 §6.3 item 6) straight
// from the connection's reader: no copy into a buffer of fasthttp's first. It returns io.EOF
// with the last byte, so a caller that stops at the length (io.LimitReader) still learns the
// body ended and the connection may be reused; a connection that ends sooner is
// io.ErrUnexpectedEOF.
type lengthBody struct {
	br   *bufio.Reader
	left int64
}

func (b *lengthBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.br.Read(p)
	b.left -= int64(n)
	switch {
	case b.left <= 0:
		return n, io.EOF
	case err == io.EOF:
		return n, io.ErrUnexpectedEOF
	}
	return n, err
}

// closeBody reads a body delimited by the end of the connection (RFC 9112 §6.3 item 8): its
// io.EOF is the body's end.
type closeBody struct{ br *bufio.Reader }

func (b closeBody) Read(p []byte) (int, error) { return b.br.Read(p) }

// bodyOf is the reader of a response body that follows head h on br: nil when the response
// has none (the answer to HEAD, 204, 304), chunked, delimited by its length, or by the end of
// the connection. A length-delimited body uses lb when it is not nil (a reader the caller
// holds inside its own, so the common body costs no allocation of its own).
func bodyOf(br *bufio.Reader, h interface{ ContentLength() int }, head bool, status int, lb *lengthBody) io.Reader {
	if head || noBody(status) {
		return nil
	}
	switch n := h.ContentLength(); {
	case n == -1:
		return newChunkedBody(br)
	case n >= 0:
		if lb == nil {
			lb = new(lengthBody)
		}
		*lb = lengthBody{br: br, left: int64(n)}
		return lb
	default:
		return closeBody{br}
	}
}

// startBody checks the start of a body some of whose bytes came with its head, before the
// head is handed on: a chunked body's first size line (chunkedBody.start), and a
// length-delimited body's first buffer (up to the reader's size, 16 KiB: the whole of a
// small body). A body that breaks there (the connection closed short of its Content-Length)
// fails the exchange as a broken head does: the edge answers 502, or a stale copy under
// stale-if-error, where it could otherwise only close a connection on which its client had
// received nothing, since the head waited in the client's write buffer with the body's
// first bytes (HTTP/1.1) or went out alone to be reset (HTTP/2). Bytes that came with the
// head mean the origin is sending: the wait for the rest of one buffer is a wait for bytes
// already on their way, and a body whose first bytes come later is not held for.
func startBody(body io.Reader, br *bufio.Reader) error {
	switch b := body.(type) {
	case *chunkedBody:
		return b.start()
	case *lengthBody:
		if _, err := br.Peek(int(min(b.left, int64(br.Size())))); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return fmt.Errorf("body shorter than its Content-Length: %w", err)
		}
	}
	return nil
}
