package edge

import (
	"bufio"
	"bytes"
	"net/http"
	"strconv"
	"time"

	"github.com/valyala/fasthttp"
)

// startHead resets a response head to status and a Date field. fasthttp manages Date itself
// and ignores Set("Date"), but a cache must pass the origin's Date on (RFC 9110 section
// 6.6.1, and downstream caches compute Expires lifetimes from it), so the head is seeded by
// parsing a minimal header block; every other field is added after. A response without a
// Date gets the node's clock.
func startHead(h *fasthttp.ResponseHeader, status int, date string, now time.Time) {
	if date == "" {
		date = now.UTC().Format(http.TimeFormat)
	}
	buf := make([]byte, 0, 64+len(date))
	buf = append(buf, "HTTP/1.1 "...)
	buf = strconv.AppendInt(buf, int64(status), 10)
	buf = append(buf, " -\r\nDate: "...)
	buf = append(buf, date...)
	buf = append(buf, "\r\nContent-Length: 0\r\n\r\n"...) // else fasthttp reads "until close"
	if err := h.Read(bufio.NewReaderSize(bytes.NewReader(buf), len(buf)+16)); err != nil {
		h.SetStatusCode(status) // a Date fasthttp cannot parse: send the head without it
	}
	h.SetStatusMessage(nil)
}
