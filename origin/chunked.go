package origin

import (
	"bufio"
	"errors"
	"fmt"
	"io"
)

// maxTrailerBytes bounds the trailer section of a chunked response, which is read and
// dropped: a server that never ends it must not hold the connection's reader forever.
const maxTrailerBytes = 64 << 10

var errTrailerTooLarge = errors.New("origin: trailer section of a chunked response too large")

// chunkedBody reads a chunked body (RFC 9112 §7.1) from the connection's reader, as
// net/http's client does: hex digits only in a chunk size, io.ErrUnexpectedEOF when the
// connection ends before the last chunk; a size line that breaks RFC 9112 section 7.1.1
// (whitespace after the size, an invalid extension) fails the body (chunkline.go). It ends
// with io.EOF only after the trailer section, so the connection is then positioned at the
// next response. The trailer fields are dropped
// (RFC 9112 §7.1.2 lets a recipient discard them): fasthttp's own reader fails the whole
// body on a field RFC 9110 §6.5.1 forbids there (Content-Length, Set-Cookie), which cut
// complete responses short and kept them from the cache.
type chunkedBody struct {
	br   *bufio.Reader
	r    io.Reader
	done bool
	// trailerLine, when set, checks each line of the trailer section (with its line end)
	// before it is dropped; its error fails the body.
	trailerLine func(line []byte) error
}

func newChunkedBody(br *bufio.Reader) *chunkedBody {
	return &chunkedBody{br: br, r: &chunkReader{br: br}}
}

// NewChunkedReader reads chunked content (RFC 9112 section 7.1) from br, held to the grammar
// a response's chunks are held to (chunkline.go), and ends with io.EOF after the trailer
// section, which it drops once trailerLine (nil: none) accepted each of its lines with its
// line end. The edge reads a client's chunked request content with it, so that a size line
// nginx and HAProxy refuse ("5 ", "5;a b") is refused there too. br may read past the end of
// the content: its owner must not read a next message from what br holds.
func NewChunkedReader(br *bufio.Reader, trailerLine func(line []byte) error) io.Reader {
	c := newChunkedBody(br)
	c.trailerLine = trailerLine
	return c
}

func (c *chunkedBody) Read(p []byte) (int, error) {
	if c.done {
		return 0, io.EOF
	}
	n, err := c.r.Read(p)
	if err == io.EOF {
		if terr := discardTrailer(c.br, c.trailerLine); terr != nil {
			return n, terr
		}
		c.done = true
	}
	return n, err
}

// start reads the first chunk's size line (RFC 9112 §7.1), or the whole body when it is only
// the last chunk and trailer, before the response is handed on. A body that breaks there (a
// size that is not hex or overflows, a bare LF line end) then fails the exchange as a broken
// head does: the edge answers 502 and counts it against the server, where it had sent
// nothing at all. A body
// broken later (or a connection closed right after the head) is the caller's to cut. The
// caller asks only when all that start reads came with the head (startArrived), so it
// never waits.
func (c *chunkedBody) start() error {
	if _, err := c.Read(nil); err != nil && err != io.EOF {
		return fmt.Errorf("chunked body: first chunk: %w", err)
	}
	return nil
}

// discardTrailer reads the trailer section up to and including its empty line, each line
// (the empty one too) checked by check when it is set.
func discardTrailer(br *bufio.Reader, check func(line []byte) error) error {
	read := 0
	for {
		line, err := br.ReadSlice('\n')
		read += len(line)
		if read > maxTrailerBytes || errors.Is(err, bufio.ErrBufferFull) {
			return errTrailerTooLarge
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return io.ErrUnexpectedEOF
			}
			return err
		}
		if check != nil {
			if err := check(line); err != nil {
				return err
			}
		}
		if len(line) == 1 || len(line) == 2 && line[0] == '\r' {
			return nil
		}
	}
}
