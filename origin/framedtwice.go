package origin

import (
	"bufio"
	"bytes"
)

// framedTwice reports whether the response head at the front of br carries both a
// Content-Length and a Transfer-Encoding field (headFlags).
func framedTwice(br *bufio.Reader) bool {
	twice, _, _ := headFlags(br)
	return twice
}

// headFlags looks at the response head at the front of br before fasthttp parses it. twice:
// the head carries both a Content-Length and a Transfer-Encoding field. RFC 9112 section
// 6.3: Transfer-Encoding then frames the body (fasthttp's parser does so, and forgets the
// Content-Length it saw), but such a message "ought to be handled as an error": it is how a
// response is smuggled past a proxy that reads the other framing, so the connection it came
// on is not used again, as HAProxy does. spaced: a field name holds a space or a tab
// ("X-Bad Name: 1"), which a token never does (RFC 9110 section 5.1); fasthttp refuses the
// other bytes a token may not hold but keeps such a name, which would then go to clients as
// it came, invalid on HTTP/2 (RFC 9113 section 8.2.1) and stored with the object; nginx
// answers it 502 ("upstream sent invalid header"). Whitespace between the name and the colon
// is not counted: a proxy removes it (RFC 9112 section 5.1, readHead), and the name without
// it is the name, for twice too. It reads no further than the head's end; a head that does
// not end within the buffer is left to fasthttp's parser to refuse. cleanEnd: the head's
// length when it must be rewritten before fasthttp parses it (readHead): its last line ends
// are not CRLF CRLF (a bare LF, RFC 9112 section 2.2) or a field line has whitespace before
// its colon; else 0.
func headFlags(br *bufio.Reader) (twice, spaced bool, cleanEnd int) {
	s := scanHead(br)
	return s.twice, s.spaced, s.cleanEnd
}

// headScan is what scanHead found in the head at the front of a reader (headFlags).
type headScan struct {
	twice, spaced bool
	cleanEnd      int
	// end is the head's length, 0 when it is not whole in the reader's buffer; hop: a field
	// line names a hop-by-hop field SendHead leaves out (relayDrop).
	end int
	hop bool
	// zeroStatus: the status code is "000", which fasthttp's parser keeps as 0 and its
	// StatusCode reports as 200: an origin's "HTTP/1.1 000" was relayed and stored as a 200.
	// RFC 9110 section 15: a status code is three digits from 100 to 599 (peers accept up to
	// 999; nginx, HAProxy and Varnish refuse a code below 100).
	zeroStatus bool
	// codedOld: the head carries a Transfer-Encoding field and its version is not HTTP/1.1.
	// RFC 9112 section 6.1: a recipient of an HTTP/1.0 message with Transfer-Encoding "MUST
	// treat the message as if the framing is faulty, even if a Content-Length is present".
	// fasthttp's parser drops the field from any head not exactly HTTP/1.1 and reads the body
	// to the connection's close: the chunk sizes became content, relayed and stored with a
	// Content-Length of the chunked bytes. HAProxy refuses such a response too (502).
	codedOld bool
}

// scanHead is headFlags with the head's end and its hop-by-hop lines.
func scanHead(br *bufio.Reader) headScan {
	for {
		b, err := br.Peek(br.Buffered())
		if s := scanFraming(b); s.end > 0 {
			if !s.owsColon && bytes.HasSuffix(b[:s.end], crlfcrlf) {
				s.cleanEnd = 0
			} else {
				s.cleanEnd = s.end
			}
			return s.headScan
		}
		if err != nil || br.Buffered() >= br.Size() {
			return headScan{}
		}
		if _, err := br.Peek(br.Buffered() + 1); err != nil {
			return headScan{}
		}
	}
}

var crlfcrlf = []byte("\r\n\r\n")

// scanFraming looks at the head at the front of b in one pass over its lines (after the
// status line, up to the empty line that ends it; bare LF line ends too, as the parser
// accepts): end is the head's length when b holds the whole head (0 when it does not),
// twice whether its fields carry
// both a Content-Length and a Transfer-Encoding, names compared without case and without
// the whitespace before their colon, spaced whether a field name holds a space or tab, and
// owsColon whether a field line has whitespace before its colon (headFlags). It runs before
// every response head is parsed, so it reads each byte once (issue 15's pass profile:
// finding the head's end and then each name in turn took three passes).
func scanFraming(b []byte) (s framingScan) {
	first := bytes.IndexByte(b, '\n')
	if first < 0 {
		return framingScan{}
	}
	var length, coding bool
	for at := first + 1; at < len(b); {
		lf := bytes.IndexByte(b[at:], '\n')
		if lf < 0 {
			return framingScan{}
		}
		line := b[at : at+lf]
		if len(line) == 0 || len(line) == 1 && line[0] == '\r' {
			s.twice = length && coding
			s.codedOld = coding && !bytes.HasPrefix(b, http11)
			s.zeroStatus = zeroStatus(b[:first])
			s.end = at + lf + 1
			return s
		}
		length = length || isField(line, "content-length")
		coding = coding || isField(line, "transfer-encoding")
		s.hop = s.hop || relayDrop(line)
		inner, before := nameGaps(line)
		s.spaced = s.spaced || inner
		s.owsColon = s.owsColon || before
		at += lf + 1
	}
	return framingScan{}
}

// framingScan is what scanFraming found: headScan's, and whether a field line has whitespace
// before its colon.
type framingScan struct {
	headScan
	owsColon bool
}

var http11 = []byte("HTTP/1.1 ")

// zeroStatus reports whether a status line's code is "000" (headScan.zeroStatus): the code
// after the version and the spaces fasthttp's parser skips.
func zeroStatus(line []byte) bool {
	sp := bytes.IndexByte(line, ' ')
	if sp < 0 {
		return false
	}
	code := bytes.TrimLeft(line[sp:], " ")
	return len(code) >= 3 && code[0] == '0' && code[1] == '0' && code[2] == '0'
}

// isField reports whether line starts with name (lower case), then any spaces and tabs and
// a colon, the name compared without case: "Content-Length :" frames the message as
// "Content-Length:" does once the whitespace is removed (RFC 9112 section 5.1), so it counts
// for twice like the clean name.
func isField(line []byte, name string) bool {
	if len(line) <= len(name) || !asciiPrefixFold(line, name) {
		return false
	}
	for _, c := range line[len(name):] {
		switch c {
		case ':':
			return true
		case ' ', '\t':
		default:
			return false
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

// nameGaps reports, for a field line, whether its name holds a space or a tab (inner:
// whitespace followed by anything but more whitespace or the colon) and whether whitespace
// stands right before the colon (before). A line that starts with one is an obs-fold
// continuation, not a name. One loop over the name's bytes: this runs on every line of
// every origin head.
func nameGaps(line []byte) (inner, before bool) {
	if len(line) == 0 || line[0] == ' ' || line[0] == '\t' {
		return false, false
	}
	gap := false
	for _, c := range line {
		switch c {
		case ':':
			return false, gap
		case ' ', '\t':
			gap = true
		default:
			if gap {
				return true, false
			}
		}
	}
	return false, false
}
