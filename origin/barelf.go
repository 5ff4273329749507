package origin

import (
	"bufio"
	"bytes"

	"github.com/valyala/fasthttp"
)

// readHead parses the response head at the front of br into h. cleanEnd is the head's length
// when it must be rewritten first (headFlags), else 0. RFC 9112 section 2.2 lets a recipient
// take a bare LF as a line end, and nginx, Varnish and HAProxy read such heads; fasthttp's
// parser reads their lines but finds a head's end only at a CRLF CRLF, so on a kept-alive
// connection it waited for bytes the origin never sends, until first_byte_timeout. RFC 9112
// section 5.1: "A proxy MUST remove any such whitespace [between a field name and its colon]
// from a response message before forwarding it downstream"; fasthttp removed spaces there
// but refused a tab, so "X-A :" was served and "X-A\t:" answered 502. Such a head, already
// whole in br, is parsed from a copy with CRLF line ends and no whitespace before a colon,
// then discarded from br: the rare path pays for the copy, the common one is fasthttp's.
func readHead(br *bufio.Reader, h *fasthttp.ResponseHeader, cleanEnd int) error {
	if cleanEnd == 0 {
		return h.Read(br)
	}
	head, err := br.Peek(cleanEnd)
	if err != nil {
		return err
	}
	clean := cleanHead(make([]byte, 0, cleanEnd+bytes.Count(head, []byte{'\n'})), head)
	if err := h.Read(bufio.NewReaderSize(bytes.NewReader(clean), len(clean))); err != nil {
		return err
	}
	_, err = br.Discard(cleanEnd)
	return err
}

// cleanHead appends head to dst with every line ending in CRLF and, on each field line after
// the status line (not an obs-fold continuation, which starts with whitespace), the spaces
// and tabs right before the first colon removed.
func cleanHead(dst, head []byte) []byte {
	for first := true; len(head) > 0; first = false {
		line := head
		lf := bytes.IndexByte(head, '\n')
		if lf >= 0 {
			line, head = head[:lf], head[lf+1:]
		} else {
			head = nil
		}
		line = bytes.TrimSuffix(line, []byte{'\r'})
		if colon := bytes.IndexByte(line, ':'); !first && colon > 0 && line[0] != ' ' && line[0] != '\t' {
			name := bytes.TrimRight(line[:colon], " \t")
			dst = append(append(dst, name...), line[colon:]...)
		} else {
			dst = append(dst, line...)
		}
		if lf >= 0 {
			dst = append(dst, '\r', '\n')
		}
	}
	return dst
}
