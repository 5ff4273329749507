package edge

import "bytes"

// framingGuard checks a request head, one field line at a time, for the shapes that let a
// front end and an origin disagree about where a request ends (request smuggling). Such a
// request is refused and its connection closed: nothing of it reaches an origin.
//
// It is part of the one walk that reads the HTTP/1.1 head into the request view
// (readCheckedHTTP1Head): a second walk of every head's lines was a twentieth of a 1 KiB
// hit's pipeline.
type framingGuard struct {
	contentLength  []byte
	haveCL, haveTE bool
}

// line checks one line of the head, without its line ending. A field line gives its name
// and its value without the whitespace around it (ok); an empty line gives nothing and no
// problem. problem is the first thing wrong with the line, or "".
func (g *framingGuard) line(line []byte) (name, value []byte, ok bool, problem string) {
	if len(line) == 0 {
		return nil, nil, false, ""
	}
	if line[0] == ' ' || line[0] == '\t' {
		return nil, nil, false, "obsolete line folding in a header field"
	}
	colon := bytes.IndexByte(line, ':')
	if colon <= 0 {
		return nil, nil, false, "malformed header line"
	}
	name = line[:colon]
	if bytes.IndexByte(name, ' ') >= 0 || bytes.IndexByte(name, '\t') >= 0 {
		return nil, nil, false, "whitespace in a header field name"
	}
	if !validToken(name) {
		return nil, nil, false, "invalid character in a header field name"
	}
	if badFieldValue(line[colon+1:]) {
		// RFC 9110 section 5.5: CR, LF and NUL in a value must be refused; other
		// controls would be forwarded to origins that may split on them.
		return nil, nil, false, "control character in a header field value"
	}
	value = trimOWS(line[colon+1:])
	if framingField(name) {
		if problem = g.framing(name, value); problem != "" {
			return nil, nil, false, problem
		}
	}
	return name, value, true, ""
}

// framing checks a Content-Length or Transfer-Encoding line against the lines before it
// (RFC 9112 sections 6.1 and 6.3).
func (g *framingGuard) framing(name, value []byte) string {
	if len(name) == len("Content-Length") {
		if g.haveCL && !bytes.Equal(value, g.contentLength) {
			return "two different Content-Length values"
		}
		if len(value) == 0 || len(bytes.Trim(value, "0123456789")) > 0 {
			return "invalid Content-Length"
		}
		g.haveCL, g.contentLength = true, value
		return ""
	}
	if g.haveTE {
		return "Transfer-Encoding sent twice"
	}
	g.haveTE = true
	if !bytes.EqualFold(value, []byte("chunked")) {
		return "unsupported Transfer-Encoding"
	}
	return ""
}

// end is the check of the whole head, after its last line.
func (g *framingGuard) end() string {
	if g.haveCL && g.haveTE {
		return "both Content-Length and Transfer-Encoding"
	}
	return ""
}

// nextLine cuts the first line off *raw, without its LF and the CR before it.
func nextLine(raw *[]byte) []byte {
	line, _ := nextLineEnd(raw)
	return line
}

// nextLineEnd is nextLine, and whether the line ended in a LF without a CR before it.
func nextLineEnd(raw *[]byte) (line []byte, bareLF bool) {
	line = *raw
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line, *raw = line[:i], line[i+1:]
		bareLF = true
	} else {
		*raw = nil
	}
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line, bareLF = line[:n-1], false
	}
	return line, bareLF
}

// problemBareLF: RFC 9112 section 2.2 lets a recipient take a bare LF as a line end, and
// fasthttp does, but only when a CR LF CR LF comes somewhere after it (even in the content
// or a pipelined request): otherwise it waits for one until read_timeout. A front proxy that
// does not take a bare LF as a line end reads "X: a\nContent-Length: 5" as one field, so the
// two would frame the stream differently (request smuggling). Such a head is refused: 400
// and the connection closed, as for obs-fold.
//
// A bare LF ending the request line itself is not seen: fasthttp keeps neither the raw
// request line nor how it ended (the method, target and version are copied out of it, and
// RawHeaders starts after it), and no hook gets the bytes. The node reads such a head one
// way, the line ending at its LF, and sends it on re-rendered with CRLF, so the node and its
// origins frame it alike; only a front proxy that took the LF for part of the line would
// frame it otherwise. Refusing it needs fasthttp to keep how the line ended, or a read
// wrapper on every client connection, which would hide the *net.TCPConn that fasthttp's
// writev and sendfile and the node's cork look for (the hit path).
const problemBareLF = "bare LF line ending in the head"
