package origin

import (
	"bufio"
	"bytes"
)

// framedTwice reports whether the response head at the front of br carries both a
// Content-Length and a Transfer-Encoding field. RFC 9112 section 6.3: Transfer-Encoding then
// frames the body (fasthttp's parser does so, and forgets the Content-Length it saw), but
// such a message "ought to be handled as an error": it is how a response is smuggled past a
// proxy that reads the other framing, so the connection it came on is not used again, as
// HAProxy does. It reads no further than the head's end; a head that does not end within
// the buffer is left to fasthttp's parser to refuse.
func framedTwice(br *bufio.Reader) bool {
	for {
		b, err := br.Peek(br.Buffered())
		if head, ok := headOf(b); ok {
			return hasFieldFold(head, "content-length") && hasFieldFold(head, "transfer-encoding")
		}
		if err != nil || br.Buffered() >= br.Size() {
			return false
		}
		if _, err := br.Peek(br.Buffered() + 1); err != nil {
			return false
		}
	}
}

// headOf returns the field lines of the head at the front of b (after the status line, up to
// the empty line that ends it; bare LF line ends too, as the parser accepts), and whether b
// holds the whole head.
func headOf(b []byte) ([]byte, bool) {
	first := bytes.IndexByte(b, '\n')
	if first < 0 {
		return nil, false
	}
	for at := first + 1; at < len(b); {
		end := bytes.IndexByte(b[at:], '\n')
		if end < 0 {
			return nil, false
		}
		if line := b[at : at+end]; len(line) == 0 || len(line) == 1 && line[0] == '\r' {
			return b[first+1 : at], true
		}
		at += end + 1
	}
	return nil, false
}

// hasFieldFold reports whether a line of fields starts with name (lower case) and a colon,
// the name compared without case.
func hasFieldFold(fields []byte, name string) bool {
	for len(fields) > 0 {
		line := fields
		if i := bytes.IndexByte(fields, '\n'); i >= 0 {
			line, fields = fields[:i], fields[i+1:]
		} else {
			fields = nil
		}
		if len(line) > len(name) && line[len(name)] == ':' && asciiPrefixFold(line, name) {
			return true
		}
	}
	return false
}

// asciiPrefixFold reports whether b starts with lower, b compared in ASCII lower case.
func asciiPrefixFold(b []byte, lower string) bool {
	for i := 0; i < len(lower); i++ {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}
