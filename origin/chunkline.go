package origin

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
)

// chunkReader is the chunked coding's framing (RFC 9112 section 7.1): each chunk's size line,
// its data and the CRLF after it, up to the last chunk. Go's reader (httputil) took any bytes
// after a ';' as extensions and trimmed whitespace after the size, so "5 \r\n" and
// "5;a b\r\n" were read as the 5 they may not mean to another parser: nginx and HAProxy
// refuse both. This one holds a size line to the grammar (chunkSize); a line that breaks it
// fails the body, so the response is cut (or answered 502 when nothing was sent yet) and
// never stored.
type chunkReader struct {
	br     *bufio.Reader
	left   int64 // data bytes left in the current chunk
	crlf   bool  // the CRLF after a chunk's data is next
	excess int64 // size-line bytes beyond what the data they frame pays for
	err    error
}

var (
	errChunkLine     = errors.New("malformed chunk size line")
	errChunkTooLong  = errors.New("chunk size line too long")
	errChunkNonData  = errors.New("chunked body holds too much besides its data")
	errChunkDataCRLF = errors.New("chunk data not followed by CRLF")
)

// maxChunkLine bounds a size line with its extensions, as Go's reader bounds it (4 KiB).
const maxChunkLine = 4096

func (c *chunkReader) Read(p []byte) (int, error) {
	for c.err == nil {
		switch {
		case c.left > 0:
			if len(p) == 0 {
				return 0, nil
			}
			k, err := c.br.Read(p[:min(int64(len(p)), c.left)])
			c.left -= int64(k)
			if c.left == 0 {
				c.crlf = true
			}
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			c.err = err
			return k, err
		case c.crlf:
			b, err := c.br.Peek(2)
			switch {
			case err == io.EOF && len(b) < 2:
				c.err = io.ErrUnexpectedEOF
			case err != nil && len(b) < 2:
				c.err = err // a timeout stays one
			case b[0] != '\r' || b[1] != '\n':
				c.err = errChunkDataCRLF
			default:
				c.br.Discard(2)
				c.crlf = false
			}
		default:
			c.err = c.sizeLine()
		}
	}
	return 0, c.err
}

// sizeLine reads the next chunk's size line. The last chunk's ends the body (io.EOF), with
// the reader at the trailer section.
func (c *chunkReader) sizeLine() error {
	line, err := c.br.ReadSlice('\n')
	switch {
	case errors.Is(err, bufio.ErrBufferFull) || len(line) > maxChunkLine:
		return errChunkTooLong
	case err == io.EOF:
		return io.ErrUnexpectedEOF
	case err != nil:
		return err
	}
	// RFC 9112 section 7.1 (erratum 7633): a chunk line ends in CRLF, never a bare LF.
	if len(line) < 2 || line[len(line)-2] != '\r' {
		return fmt.Errorf("%w: %q", errChunkLine, line)
	}
	size, ok := chunkSize(line[:len(line)-2])
	if !ok {
		return fmt.Errorf("%w: %q", errChunkLine, line)
	}
	// As Go's reader: 16 bytes of line per chunk are free, and twice its data; a server
	// that sends one byte per chunk with a long extension each is refused.
	c.excess = max(c.excess+int64(len(line))-16-2*size, 0)
	if c.excess > 16<<10 {
		return errChunkNonData
	}
	if size == 0 {
		return io.EOF
	}
	c.left = size
	return nil
}

// chunkSize parses a size line without its CRLF: chunk-size [ chunk-ext ], where
// chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ) and a value is a
// token or a quoted-string (RFC 9112 section 7.1.1). Whitespace after the size with no
// extension after it, an empty or non-token name, and a control character fail it.
func chunkSize(line []byte) (int64, bool) {
	var size int64
	i := 0
	for ; i < len(line); i++ {
		d := hexDigit(line[i])
		if d < 0 {
			break
		}
		if size > (1<<63-1)>>4 {
			return 0, false // overflows int64
		}
		size = size<<4 | int64(d)
	}
	if i == 0 {
		return 0, false
	}
	for rest := line[i:]; len(rest) > 0; {
		rest = skipBWS(rest)
		if len(rest) == 0 || rest[0] != ';' {
			return 0, false // whitespace alone after the size, or a stray byte
		}
		rest = skipBWS(rest[1:])
		name := tokenPrefix(rest)
		if name == 0 {
			return 0, false
		}
		rest = skipBWS(rest[name:])
		if len(rest) == 0 || rest[0] != '=' {
			if len(rest) > 0 && rest[0] != ';' {
				return 0, false
			}
			continue
		}
		rest = skipBWS(rest[1:])
		k := extValue(rest)
		if k == 0 {
			return 0, false
		}
		rest = rest[k:]
	}
	return size, true
}

func hexDigit(b byte) int {
	switch {
	case '0' <= b && b <= '9':
		return int(b - '0')
	case 'a' <= b && b <= 'f':
		return int(b-'a') + 10
	case 'A' <= b && b <= 'F':
		return int(b-'A') + 10
	}
	return -1
}

func skipBWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	return b
}

// tokenPrefix is the length of the token at the front of b.
func tokenPrefix(b []byte) int {
	i := 0
	for i < len(b) && isTokenChar(b[i]) {
		i++
	}
	return i
}

// extValue is the length of the token or quoted-string at the front of b, 0 if neither.
func extValue(b []byte) int {
	if len(b) == 0 || b[0] != '"' {
		return tokenPrefix(b)
	}
	for i := 1; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			return i + 1
		case c == '\\':
			if i+1 >= len(b) || !isQuotedChar(b[i+1]) {
				return 0
			}
			i++
		case !isQuotedChar(c):
			return 0
		}
	}
	return 0 // unterminated
}

// isQuotedChar is qdtext or a quoted-pair's second byte: HTAB, SP, VCHAR, obs-text.
func isQuotedChar(c byte) bool { return c == '\t' || c == ' ' || c >= 0x21 && c != 0x7f }

// isTokenChar reports a tchar (RFC 9110 section 5.6.2): visible ASCII but the delimiters.
func isTokenChar(c byte) bool {
	return c > ' ' && c < 0x7f && !strings.ContainsRune("\"(),/:;<=>?@[\\]{}", rune(c))
}
