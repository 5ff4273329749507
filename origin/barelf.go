package origin

import (
	"bufio"
	"bytes"

	"github.com/valyala/fasthttp"
)

// readHead parses the response head at the front of br into h. bareEnd is the head's length
// when it does not end in CRLF CRLF (headFlags), else 0. RFC 9112 section 2.2 lets a
// recipient take a bare LF as a line end, and nginx, Varnish and HAProxy read such heads;
// fasthttp's parser reads their lines but finds a head's end only at a CRLF CRLF, so on a
// kept-alive connection it waited for bytes the origin never sends, until first_byte_timeout.
// Such a head, already whole in br, is parsed from a copy with CRLF line ends and then
// discarded from br: the rare path pays for the copy, the common one is fasthttp's.
func readHead(br *bufio.Reader, h *fasthttp.ResponseHeader, bareEnd int) error {
	if bareEnd == 0 {
		return h.Read(br)
	}
	head, err := br.Peek(bareEnd)
	if err != nil {
		return err
	}
	crlf := make([]byte, 0, bareEnd+bytes.Count(head, []byte{'\n'}))
	for i, c := range head {
		if c == '\n' && (i == 0 || head[i-1] != '\r') {
			crlf = append(crlf, '\r')
		}
		crlf = append(crlf, c)
	}
	if err := h.Read(bufio.NewReaderSize(bytes.NewReader(crlf), len(crlf))); err != nil {
		return err
	}
	_, err = br.Discard(bareEnd)
	return err
}
