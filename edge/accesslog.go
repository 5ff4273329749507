package edge

import (
	"encoding/json"
	"io"
	"strconv"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
)

// accessLog writes one line per request, as JSON or in the combined log format, to its own
// writer so that operators can ship it apart from the node's diagnostic log.
type accessLog struct {
	mu     sync.Mutex
	w      io.Writer
	format string // json or combined; "" or off means no log
}

func newAccessLog(w io.Writer, format string) *accessLog {
	if w == nil || format == "off" {
		return &accessLog{}
	}
	return &accessLog{w: w, format: format}
}

type accessEntry struct {
	Time        string  `json:"time"`
	Client      string  `json:"client"`
	Method      string  `json:"method"`
	Host        string  `json:"host"`
	URI         string  `json:"uri"`
	Status      int     `json:"status"`
	Bytes       int     `json:"bytes"`
	Seconds     float64 `json:"seconds"`
	Result      string  `json:"result"`
	CacheStatus string  `json:"cache_status,omitempty"`
	UserAgent   string  `json:"user_agent,omitempty"`
	Referer     string  `json:"referer,omitempty"`
}

// enabled reports whether record writes anything, so callers skip reading the clock.
func (a *accessLog) enabled() bool { return a.w != nil }

func (a *accessLog) record(ctx *fasthttp.RequestCtx, start, end time.Time, result string) {
	if a.w == nil {
		return
	}
	e := accessEntry{
		Time: start.UTC().Format(time.RFC3339Nano), Client: clientAddr(ctx).String(),
		Method: string(ctx.Method()), Host: string(ctx.Host()), URI: string(ctx.RequestURI()),
		Status: ctx.Response.StatusCode(), Bytes: responseBytes(&ctx.Response),
		Seconds: end.Sub(start).Seconds(), Result: result,
		CacheStatus: string(ctx.Response.Header.Peek("Cache-Status")),
		UserAgent:   string(ctx.UserAgent()), Referer: string(ctx.Referer()),
	}
	var line []byte
	if a.format == "combined" {
		line = combinedLine(e, start)
	} else {
		line, _ = json.Marshal(e)
		line = append(line, '\n')
	}
	a.mu.Lock()
	a.w.Write(line)
	a.mu.Unlock()
}

// combinedLine is Apache's combined format, so existing log tooling keeps working.
func combinedLine(e accessEntry, start time.Time) []byte {
	b := make([]byte, 0, 256)
	b = append(b, e.Client...)
	b = append(b, " - - ["...)
	b = start.AppendFormat(b, "02/Jan/2006:15:04:05 -0700")
	b = append(b, "] \""...)
	b = append(b, e.Method...)
	b = append(b, ' ')
	b = append(b, e.URI...)
	b = append(b, " HTTP/1.1\" "...)
	b = strconv.AppendInt(b, int64(e.Status), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(e.Bytes), 10)
	b = append(b, " "...)
	b = strconv.AppendQuote(b, e.Referer)
	b = append(b, ' ')
	b = strconv.AppendQuote(b, e.UserAgent)
	b = append(b, '\n')
	return b
}

// responseBytes is the body length sent, without reading a streamed body.
func responseBytes(r *fasthttp.Response) int {
	if r.SkipBody {
		return 0
	}
	if cl := r.Header.ContentLength(); cl >= 0 {
		if cl == 0 && !r.IsBodyStream() {
			return len(r.Body())
		}
		return cl
	}
	return 0
}
