package origin

import (
	"bufio"
	"bytes"
	"sync"

	"github.com/valyala/fasthttp"
)

// A head SendHead parses is relayed as it is parsed (the edge's HTTP/1.1 pass writes its
// client's response from it), so the hop-by-hop fields of RFC 9110 section 7.6.1 and every
// name a Connection line lists are left out before fasthttp parses it: left in, they could
// only be taken out again by deleting fields one by one, which moves other fields (fasthttp
// deletes by swapping in the last field, reversing the order of a field's lines), or by
// copying the whole head, the cost SendHead exists to save. The pool reads what it needs of
// them (Connection: close, Keep-Alive's timeout) from the lines it leaves out. Kept: the
// framing (Content-Length, Transfer-Encoding: the pool reads the body by it; the caller
// writes its own) and Trailer (fasthttp's parser checks what it announces).

// relayDrop reports whether a field line names a hop-by-hop field SendHead leaves out
// (Connection, Keep-Alive, Proxy-Connection, Proxy-Authenticate, Proxy-Authorization, TE,
// Upgrade), without case and with any whitespace before the colon. It runs on every line of
// every origin head: one switch on the first byte before any comparison.
func relayDrop(line []byte) bool {
	if len(line) < 3 {
		return false
	}
	switch line[0] | 0x20 {
	case 'c':
		return isField(line, "connection")
	case 'k':
		return isField(line, "keep-alive")
	case 'p':
		return isField(line, "proxy-connection") || isField(line, "proxy-authenticate") || isField(line, "proxy-authorization")
	case 't':
		return isField(line, "te")
	case 'u':
		return isField(line, "upgrade")
	}
	return false
}

// maxListed bounds the names Connection lines may list for relayHead to leave them out; a
// head that lists more is parsed whole, as Send parses it (the caller then finds them).
const maxListed = 16

// relayed is what relayHead kept of the lines it left out.
type relayed struct {
	stripped bool   // lines were left out: h has no Connection or Keep-Alive field to read
	close    bool   // a Connection line lists close
	alive    []byte // the first Keep-Alive value, in the reader's buffer until its next read
}

// relayHead appends to dst the head (whole, status line first) without the lines relayDrop
// names and those whose names a Connection line lists (but for the framing fields), with
// every line ending in CRLF and no whitespace before a colon (as cleanHead). ok is false
// when Connection lists more than maxListed names: nothing was appended.
func relayHead(dst, head []byte) (out []byte, r relayed, ok bool) {
	var listed [maxListed][]byte
	n := 0
	for _, line := range headLines(head) {
		if !isField(line, "connection") {
			if r.alive == nil && isField(line, "keep-alive") {
				r.alive = fieldValue(line)
			}
			continue
		}
		for v := fieldValue(line); len(v) > 0; {
			var tok []byte
			if i := bytes.IndexByte(v, ','); i >= 0 {
				tok, v = v[:i], v[i+1:]
			} else {
				tok, v = v, nil
			}
			tok = bytes.Trim(tok, " \t")
			switch {
			case len(tok) == 0:
			case bytes.EqualFold(tok, []byte("close")):
				r.close = true
			case n == len(listed):
				return dst, relayed{}, false
			default:
				listed[n] = tok
				n++
			}
		}
	}
	dropping := false
	for i, line := range headLines(head) {
		if i > 0 && (line[0] == ' ' || line[0] == '\t') { // obs-fold: part of the line before
			if !dropping {
				dst = append(append(dst, line...), '\r', '\n')
			}
			continue
		}
		dropping = i > 0 && (relayDrop(line) || listedName(line, listed[:n]))
		if dropping {
			continue
		}
		if colon := bytes.IndexByte(line, ':'); i > 0 && colon > 0 {
			dst = append(append(dst, bytes.TrimRight(line[:colon], " \t")...), line[colon:]...)
		} else {
			dst = append(dst, line...)
		}
		dst = append(dst, '\r', '\n')
	}
	r.stripped = true
	return append(dst, '\r', '\n'), r, true
}

// headLines yields the lines of a head, status line first, without their line ends and
// without the empty line that ends the head.
func headLines(head []byte) func(yield func(int, []byte) bool) {
	return func(yield func(int, []byte) bool) {
		for i := 0; len(head) > 0; i++ {
			line := head
			if lf := bytes.IndexByte(head, '\n'); lf >= 0 {
				line, head = head[:lf], head[lf+1:]
			} else {
				head = nil
			}
			line = bytes.TrimSuffix(line, []byte{'\r'})
			if len(line) == 0 || !yield(i, line) {
				return
			}
		}
	}
}

// fieldValue is a field line's value, without the whitespace around it.
func fieldValue(line []byte) []byte {
	_, v, _ := bytes.Cut(line, []byte{':'})
	return bytes.Trim(v, " \t")
}

// listedName reports whether line's field is one a Connection line listed, framing fields
// excepted (the pool reads the body by them).
func listedName(line []byte, listed [][]byte) bool {
	if len(listed) == 0 || isField(line, "content-length") || isField(line, "transfer-encoding") {
		return false
	}
	name, _, _ := bytes.Cut(line, []byte{':'})
	name = bytes.TrimRight(name, " \t")
	for _, l := range listed {
		if bytes.EqualFold(l, name) {
			return true
		}
	}
	return false
}

// relayScratch is where a relayed head is rewritten and parsed from; pooled, as every origin
// head with a hop-by-hop field (nginx's Connection: keep-alive) takes one.
type relayScratch struct {
	buf []byte
	src bytes.Reader
	r   *bufio.Reader
}

// relayScratchSize holds any head a default 4 KiB origin read buffer holds, with its lines
// made CRLF.
const relayScratchSize = 8 << 10

var relayScratches = sync.Pool{New: func() any {
	return &relayScratch{buf: make([]byte, 0, relayScratchSize), r: bufio.NewReaderSize(nil, relayScratchSize)}
}}

// readRelayHead reads the head of length end at the front of br into h without the fields
// relayHead leaves out, and discards it from br. ok false: nothing was read (Connection
// lists too many names), the caller parses the head as it is.
func readRelayHead(br *bufio.Reader, h *fasthttp.ResponseHeader, end int) (r relayed, ok bool, err error) {
	head, err := br.Peek(end)
	if err != nil {
		return relayed{}, false, err
	}
	s := relayScratches.Get().(*relayScratch)
	defer relayScratches.Put(s)
	s.buf, r, ok = relayHead(s.buf[:0], head)
	if !ok {
		return relayed{}, false, nil
	}
	rd := s.r
	if len(s.buf) > relayScratchSize {
		rd = bufio.NewReaderSize(nil, len(s.buf)+16) // a head of a larger read buffer
	}
	s.src.Reset(s.buf)
	rd.Reset(&s.src)
	err = h.Read(rd)
	rd.Reset(nil) // drop the reference to the scratch until next use
	if err != nil {
		return relayed{}, false, err
	}
	_, err = br.Discard(end)
	return r, true, err
}
