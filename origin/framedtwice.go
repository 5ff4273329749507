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
		if twice, whole := scanFraming(b); whole {
			return twice
		}
		if err != nil || br.Buffered() >= br.Size() {
			return false
		}
		if _, err := br.Peek(br.Buffered() + 1); err != nil {
			return false
		}
	}
}

// scanFraming looks at the head at the front of b in one pass over its lines (after the
// status line, up to the empty line that ends it; bare LF line ends too, as the parser
// accepts): whole reports whether b holds the whole head, twice whether its fields carry
// both a Content-Length and a Transfer-Encoding, names compared without case. It runs
// before every response head is parsed, so it reads each byte once (issue 15's pass
// profile: finding the head's end and then each name in turn took three passes).
func scanFraming(b []byte) (twice, whole bool) {
	first := bytes.IndexByte(b, '\n')
	if first < 0 {
		return false, false
	}
	var length, coding bool
	for at := first + 1; at < len(b); {
		end := bytes.IndexByte(b[at:], '\n')
		if end < 0 {
			return false, false
		}
		line := b[at : at+end]
		if len(line) == 0 || len(line) == 1 && line[0] == '\r' {
			return length && coding, true
		}
		length = length || isField(line, "content-length")
		coding = coding || isField(line, "transfer-encoding")
		at += end + 1
	}
	return false, false
}

// isField reports whether line starts with name (lower case) and a colon, the name
// compared without case.
func isField(line []byte, name string) bool {
	return len(line) > len(name) && line[len(name)] == ':' && asciiPrefixFold(line, name)
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
