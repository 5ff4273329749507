package origin

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
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

// startBody checks the start of a body before its head is handed on, from what already
// arrived and never waiting for more (arrived): a chunked body's first size line
// (chunkedBody.start) when it came, and of a length-delimited body the bytes that came, up to
// the reader's size (16 KiB: the whole of a small body). A body that the connection's end
// already cut there (the origin closed right after its head, or short of its Content-Length)
// fails the exchange as a broken head does: the edge answers 502, or a stale copy under
// stale-if-error, where it could otherwise only cut a response whose head its client had
// received. What has not arrived is not waited for: an origin that sends its head and then
// trickles its body has its head relayed at once, as nginx does, and a cut after that is a
// cut (TestNode_slowStreamHeadGoesOutAtOnce; a wait for 16 KiB held such a head for up to
// the read timeout).
//
// pending reports a body not all of which arrived with its head (chunked: its last chunk was
// not seen; close-delimited: always): the caller sends the head on before any of it rather
// than hold it in a write buffer for body bytes.
func startBody(body io.Reader, br *bufio.Reader, c net.Conn) (pending bool, err error) {
	switch b := body.(type) {
	case *chunkedBody:
		if err := arrived(br, c, 1); err != nil {
			return true, fmt.Errorf("chunked body: first chunk: %w", err)
		}
		rest, _ := br.Peek(br.Buffered())
		switch startArrived(rest) {
		case startPartial:
			return true, nil
		case startTooLong:
			return true, fmt.Errorf("chunked body: first chunk: %w", errChunkTooLong)
		}
		if err := b.start(); err != nil {
			return true, err
		}
		return !bytes.HasSuffix(rest, lastChunk), nil
	case *lengthBody:
		if err := arrived(br, c, int(min(b.left, int64(br.Size())))); err != nil {
			return true, fmt.Errorf("body shorter than its Content-Length: %w", err)
		}
		return int64(br.Buffered()) < b.left, nil
	case nil:
		return false, nil
	}
	return true, nil
}

// What of chunkedBody.start's reading came with the head (startArrived).
const (
	startWhole   = iota // the first size line, and the trailer section after a last chunk
	startPartial        // less: start would wait for the rest
	startTooLong        // a first size line past maxChunkLine with no line end yet
)

// startArrived says whether rest, the bytes that came with a chunked head, hold all that
// chunkedBody.start reads: the first size line and, when it is the last chunk, the trailer
// section to its empty line. start reads with ReadSlice, which waits for a line end, so an
// origin trickling its first size line (or a last chunk's trailer) would otherwise hold the
// head it sent until the read timeout: the head is handed on and the body checked as it
// comes, as for a Content-Length body whose bytes have not arrived. A line that is not the
// grammar's is left to start, which refuses it without waiting.
func startArrived(rest []byte) int {
	i := bytes.IndexByte(rest, '\n')
	if i < 0 {
		if len(rest) > maxChunkLine {
			return startTooLong
		}
		return startPartial
	}
	line := rest[:i+1]
	if len(line) < 2 || line[len(line)-2] != '\r' {
		return startWhole // start refuses a bare LF
	}
	if size, ok := chunkSize(line[:len(line)-2]); !ok || size != 0 {
		return startWhole
	}
	for trailer := rest[i+1:]; ; {
		j := bytes.IndexByte(trailer, '\n')
		if j < 0 {
			return startPartial
		}
		if j == 0 || j == 1 && trailer[0] == '\r' {
			return startWhole
		}
		trailer = trailer[j+1:]
	}
}

// lastChunk ends a chunked body without trailer fields (RFC 9112 section 7.1).
var lastChunk = []byte("0\r\n\r\n")

// arrived reads into br what already arrived on c, until br holds need bytes: only while
// the socket has something waiting (bytes, or its end), so it never blocks. The connection's
// end before need is io.ErrUnexpectedEOF. Over TLS it reads through the TLS connection with
// the socket below it non-blocking (belowTLS): a record that came whole is decrypted, one
// that came in part stays in TLS's buffer (a timeout is temporary to crypto/tls) for the
// body's reads, and the end of the stream or a close_notify after the head counts as over
// plain TCP. Where the socket cannot be peeked, only what br holds counts.
func arrived(br *bufio.Reader, c net.Conn, need int) error {
	ic := belowTLS(c)
	if ic != nil {
		ic.nonBlocking = true
		defer func() { ic.nonBlocking = false }()
	}
	for range 8 { // each read takes all that is waiting; a few cover bytes landing meanwhile
		if br.Buffered() >= need || ic == nil && !waiting(c) {
			return nil
		}
		if _, err := br.Peek(br.Buffered() + 1); err != nil {
			switch {
			case err == io.EOF:
				return io.ErrUnexpectedEOF
			case ic != nil && errors.Is(err, os.ErrDeadlineExceeded):
				return nil // nothing more waits whole below TLS
			}
			return err
		}
	}
	return nil
}
