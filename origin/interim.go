package origin

import (
	"bytes"
	"sync"

	"github.com/valyala/fasthttp"
)

// interimHeads are the heads interim (1xx) responses are parsed into, apart from the header
// the caller gave for the final one: a caller that parses the final head straight into its
// client's response (SendHead) relays a 103 through that same response, and the 103's own
// fields left there went out twice (its Link fields, once parsed and once relayed). Taken only
// when a 1xx comes.
var interimHeads = sync.Pool{New: func() any {
	h := new(fasthttp.ResponseHeader)
	h.DisableNormalizing()
	return h
}}

// interimAhead reports whether b, the start of a response head, is an interim response: its
// status code starts with 1. The status line is found as fasthttp's parser finds it (empty
// lines before it skipped, the protocol up to its first space, then any spaces, then three
// digits), so that both read the same status; false when b does not hold the whole line.
func interimAhead(b []byte) bool {
	var line []byte
	for len(line) == 0 {
		lf := bytes.IndexByte(b, '\n')
		if lf < 0 {
			return false
		}
		line, b = bytes.TrimSuffix(b[:lf], []byte{'\r'}), b[lf+1:]
	}
	sp := bytes.IndexByte(line, ' ')
	if sp < 0 {
		return false
	}
	code := bytes.TrimLeft(line[sp+1:], " ")
	if end := bytes.IndexByte(code, ' '); end >= 0 {
		code = code[:end]
	}
	return len(code) == 3 && code[0] == '1'
}
