package edge

import (
	"cmp"
	"context"
	"errors"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/shoal-cdn/shoal/origin"
)

// accessLog writes one record per request through log/slog, to its own writer so that
// operators can ship it apart from the node's diagnostic log: slog's JSON handler for
// log.access json, and combinedHandler for Apache's combined format.
type accessLog struct {
	log *slog.Logger // nil when the access log is off
}

func newAccessLog(w io.Writer, format string) *accessLog {
	switch {
	case w == nil || format == "off":
		return &accessLog{}
	case format == "combined":
		return &accessLog{log: slog.New(&combinedHandler{w: w})}
	default:
		return &accessLog{log: slog.New(slog.NewJSONHandler(w, nil))}
	}
}

// record writes one request's record; bytes is the body sent and cacheStatus the
// Cache-Status to log (a cut body's "stored" is taken out, see streamBody).
func (a *accessLog) record(x *exchange, start, end time.Time, result string, bytes int, cacheStatus string) {
	a.write(x, string(x.req.Method()), string(x.req.RequestURI()), requestProtocol(x), start, end, result, bytes, cacheStatus)
}

// write is record with the request line given: empty for a head the listener could not read.
func (a *accessLog) write(x *exchange, method, uri, proto string, start, end time.Time, result string, bytes int, cacheStatus string) {
	if a.log == nil {
		return
	}
	a.log.LogAttrs(context.Background(), slog.LevelInfo, "access",
		slog.Time("start", start.UTC()),
		slog.String("client", x.clientAddr().String()),
		slog.String("method", method),
		slog.String("host", string(x.req.Host())),
		slog.String("uri", uri),
		slog.String("protocol", proto),
		slog.Int("status", x.resp.Head().StatusCode()),
		slog.Int("bytes", bytes),
		slog.Float64("seconds", end.Sub(start).Seconds()),
		slog.String("result", result),
		slog.String("cache_status", cacheStatus),
		slog.String("user_agent", string(x.req.Peek("User-Agent"))),
		slog.String("referer", string(x.req.Peek("Referer"))),
		slog.String("request_id", cmp.Or(x.requestID, string(x.req.Peek("X-Request-Id")))),
		slog.String("upstream", x.upstream.logName()),
		slog.String("upstream_addr", x.upstream.addr),
		slog.Int("upstream_status", x.upstream.status),
		slog.Float64("upstream_seconds", x.upstream.took.Seconds()),
	)
}

// upstream is who a node asked for a response, as nginx logs $upstream_addr,
// $upstream_status and $upstream_response_time and HAProxy its backend/server and Tr: the
// origin pool or "peer:NAME" (the key's owner), the server's address, its status (0 when it
// gave none: refused, reset, timed out) and the time from sending to its head. Empty for
// what the node answered itself (a hit, a coalesced follower, a refusal).
type upstream struct {
	name, addr string
	status     int
	took       time.Duration
	peer       bool // name is a peer's, logged as "peer:NAME"
}

func (u *upstream) logName() string {
	if u.peer {
		return "peer:" + u.name
	}
	return u.name
}

// askedUpstream records the last upstream asked for x's response (a retried fill names the
// second).
func (x *exchange) askedUpstream(name, addr string, status int, took time.Duration) {
	x.upstream = upstream{name: name, addr: addr, status: status, took: took}
}

// originAddr is the address of the server an origin error names, "" when none was tried
// (no healthy server, a full queue).
func originAddr(err error) string {
	var oe *origin.Error
	if errors.As(err, &oe) {
		return oe.Addr
	}
	return ""
}

// combinedHandler renders access records in Apache's combined format, so existing log
// tooling keeps working. It reads the attributes record writes and ignores others.
type combinedHandler struct {
	mu sync.Mutex
	w  io.Writer
}

func (h *combinedHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *combinedHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *combinedHandler) WithGroup(string) slog.Handler            { return h }

func (h *combinedHandler) Handle(_ context.Context, r slog.Record) error {
	var start time.Time
	var client, method, uri, proto, referer, agent string
	var status, bytes int64
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "start":
			start = a.Value.Time()
		case "client":
			client = a.Value.String()
		case "method":
			method = a.Value.String()
		case "uri":
			uri = a.Value.String()
		case "protocol":
			proto = a.Value.String()
		case "status":
			status = a.Value.Int64()
		case "bytes":
			bytes = a.Value.Int64()
		case "referer":
			referer = a.Value.String()
		case "user_agent":
			agent = a.Value.String()
		}
		return true
	})
	b := make([]byte, 0, 256)
	b = append(b, client...)
	b = append(b, " - - ["...)
	b = start.AppendFormat(b, "02/Jan/2006:15:04:05 -0700")
	b = append(b, "] \""...)
	if method == "" && uri == "" {
		b = append(b, '-') // a head too broken to name its request line (400, 431)
	} else {
		b = appendLogEscaped(b, method)
		b = append(b, ' ')
		b = appendLogEscaped(b, uri)
		if proto != "" {
			b = append(b, ' ')
			b = appendLogEscaped(b, proto)
		}
	}
	b = append(b, "\" "...)
	b = strconv.AppendInt(b, status, 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, bytes, 10)
	b = append(b, " \""...)
	b = appendLogField(b, referer)
	b = append(b, "\" \""...)
	b = appendLogField(b, agent)
	b = append(b, "\"\n"...)
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := h.w.Write(b)
	return err
}

// responseBytes is the body length sent, without reading a streamed body.
func responseBytes(r response) int {
	switch {
	case r.BodySkipped():
		return 0
	case r.BodyStream() != nil:
		return max(r.Head().ContentLength(), 0)
	}
	return len(r.Body())
}

// enabled lets the caller skip the clock read and the record when the log is off.
func (a *accessLog) enabled() bool { return a.log != nil }
